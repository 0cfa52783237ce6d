"""Churn of a Partnership's re-solve: other Partnerships' pairs changed, before and after the stable re-solve.

For the committed sample and two generated rounds: round 1 is solved and recorded, one
Partnership takes three decisions on its pairs (accept, reject, lock), then

* BEFORE: today's re-solve, the next round of the whole round (``matchmaker round``,
  the Support Office's global re-solve);
* AFTER: that Partnership's stable re-solve (``matchmaker resolve --partnership``).

Printed: pairs of the other Partnerships changed (new host, new dates, added, removed),
in how many Partnerships, and the deciding Partnership's own changes.

    .venv/bin/python benchmarks/bench_churn.py [--work-limit 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from matchmaker.generator.generate import generate_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.resolve import propose_resolve
from matchmaker.ledger.store import Ledger

ROOT = Path(__file__).resolve().parents[1]


def decide_three(led: Ledger, rid: int, partnership: str | None) -> str:
    """The Partnership (given, or the one with most pairs) accepts, rejects and locks its first three pairs."""
    props = led.proposals(rid)
    p = partnership or str(props["partnership"].value_counts().sort_index().idxmax())
    mine = props[props["partnership"] == p].sort_values("visitor_id").head(3)
    for v, h, d in zip(mine["visitor_id"], mine["host_id"], ("accept", "reject", "lock")):
        led.decide(rid, v, h, d, reviewer="bench")
    return p


def measure(name: str, round_dir: Path, work: Path, partnership: str | None, work_limit: float) -> dict:
    """Round 1, three decisions, then the global and the stable re-solve: their churn."""
    d = work / name
    shutil.copytree(round_dir, d, ignore=shutil.ignore_patterns("ledger.sqlite*"))
    with Ledger(f"sqlite:///{work / f'{name}.sqlite'}") as led:
        rid = run_next_round(d, work / f"{name}-1", ledger_url=led, verbose=False, work_limit=work_limit).round_id
        p = decide_three(led, rid, partnership)
        out = {"round": name, "partnership": p, "partnerships": int(led.proposals(rid)["partnership"].nunique()),
               "pairs": len(led.proposals(rid))}
        for kind, who in (("before", None), ("after", p)):
            res = propose_resolve(d, work / f"{name}-{kind}", led, who, work_limit=work_limit)
            churn = res.churn[res.churn["partnership"] != p]
            out[kind] = (int(churn["pairs_changed"].sum()), int((churn["pairs_changed"] > 0).sum()),
                         int(res.churn.loc[res.churn["partnership"] == p, "pairs_changed"].sum()),
                         len(res.refused))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-limit", type=float, default=5.0, help="solver work limit (deterministic)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rounds = [("sample", ROOT / "data" / "sample", "SMART4NZEB")]
        for seed, (nv, nh) in ((101, (300, 150)), (202, (500, 250))):
            generate_round(work / f"gen-{seed}-src", n_visitors=nv, n_hosts=nh, seed=seed)
            rounds.append((f"generated {nv}x{nh} seed {seed}", work / f"gen-{seed}-src", None))
        print(f"work limit {args.work_limit}; 3 decisions (accept, reject, lock) by one Partnership")
        print(f"{'round':<28} {'deciding':<16} {'pairs':>5}  {'others changed BEFORE':>24}  "
              f"{'others changed AFTER':>22}  {'own changed (before/after)':>26}")
        for name, src, p in rounds:
            m = measure(name.replace(" ", "_"), src, work, p, args.work_limit)
            b, a, n = m["before"], m["after"], m["partnerships"] - 1
            before = f"{b[0]} in {b[1]}/{n} partnerships"
            after = f"{a[0]} in {a[1]}/{n} partnerships" + (" (refused)" if a[3] else "")
            print(f"{name:<28} {m['partnership']:<16} {m['pairs']:>5}  {before:>24}  {after:>22}  "
                  f"{f'{b[2]}/{a[2]}':>26}")


if __name__ == "__main__":
    main()
