"""Measure the price of the fairness groups and of the stability option (docs/decisions.md §38).

For each round (the committed sample, and a generated round), solve with the default
settings, with ``solver.fairness_share`` by Partnership and by country, and with several
``solver.stability_weight`` values, under the same work limit; print per run: exchanges,
total score (the sum of the proposed pairs' scores), fairness shortfall, blocking pairs
(:func:`matchmaker.quality.stability.blocking_pairs`) and time, as a Markdown table. The
default run's shortfall column gives its shortfall against the fairness targets by
Partnership / by country (how much the fairness runs had to change).

    .venv/bin/python benchmarks/quality_options.py [--generated 300x150] [--work 20] [--share 0.6]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.fairness import fairness_shortfall
from matchmaker.quality.stability import blocking_pairs
from matchmaker.run import proposals_table
from matchmaker.solve.config import SolveConfig
from matchmaker.solve.problem import build_instance
from matchmaker.solver import solve

ROOT = Path(__file__).resolve().parents[1]


def measure(rnd, catalogue, solver_settings: dict, work: float) -> dict:
    """One solve of ``rnd`` with ``solver_settings`` merged into its settings."""
    r = copy.copy(rnd)
    r.settings = copy.deepcopy(rnd.settings)
    r.settings["solver"].update(solver_settings)
    t0 = time.monotonic()
    problem = build_instance(r, catalogue)
    result = solve(problem, SolveConfig(time_limit=10 * work, work_limit=work))
    props = proposals_table(r, catalogue, problem, result)
    secs = time.monotonic() - t0
    short = sum(x["shortfall"] for x in fairness_shortfall(problem, props))
    blocking = blocking_pairs(rnd, catalogue, props)
    return dict(exchanges=len(props), score=round(float(props["score"].sum()), 2), shortfall=short,
                blocking=len(blocking), status=result.status + ("" if result.stats.get("reproducible", True)
                                                                else ", clock stop"),
                seconds=round(secs, 1), proposals=props)


def shortfall_of(rnd, catalogue, props, share: float, by: str) -> int:
    """The total shortfall of ``props`` (solved without fairness) against the targets of ``share`` by ``by``."""
    r = copy.copy(rnd)
    r.settings = copy.deepcopy(rnd.settings)
    r.settings["solver"].update(fairness_share=share, fairness_by=by)
    props = props.assign(visitor_country=props["visitor_id"].map(dict(zip(rnd.visitors["org_id"],
                                                                          rnd.visitors["country"]))))
    return sum(x["shortfall"] for x in fairness_shortfall(build_instance(r, catalogue), props))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generated", default="300x150", help="visitors x hosts of the generated round")
    ap.add_argument("--work", type=float, default=20.0, help="work limit per solve")
    ap.add_argument("--share", type=float, default=0.6, help="fairness_share of the fairness runs")
    ap.add_argument("--weights", default="0.5,1,2", help="stability weights to measure")
    ap.add_argument("--only-default", action="store_true", help="the default runs only")
    args = ap.parse_args()
    runs = [("default", {})]
    runs += [(f"fairness {args.share:g} by {by}", dict(fairness_share=args.share, fairness_by=by))
             for by in ("partnership", "country")]
    runs += [(f"stability {w}", dict(stability_weight=float(w))) for w in args.weights.split(",")]
    runs = runs[:1] if args.only_default else runs
    with tempfile.TemporaryDirectory() as tmp:
        nv, nh = (int(x) for x in args.generated.split("x"))
        gen = Path(tmp) / "gen"
        generate_round(gen, nv, nh, seed=1)
        cases = [("sample", ROOT / "data" / "sample"), (f"generated {args.generated} (seed 1)", gen)]
        print("| round | run | exchanges | total score | fairness shortfall | blocking pairs | status | s |")
        print("|---|---|---:|---:|---:|---:|---|---:|")
        for name, d in cases:
            rnd = load_round(d)
            catalogue = build_catalogue(rnd)
            for label, opts in runs:
                m = measure(rnd, catalogue, opts, args.work)
                if label == "default":  # how far the default proposals are from the fairness targets
                    m["shortfall"] = " / ".join(str(shortfall_of(rnd, catalogue, m["proposals"], args.share, by))
                                                for by in ("partnership", "country"))
                print(f"| {name} | {label} | {m['exchanges']} | {m['score']:,.2f} | {m['shortfall']} | "
                      f"{m['blocking']} | {m['status']} | {m['seconds']} |", flush=True)


if __name__ == "__main__":
    main()
