"""Re-solving a round around the ledger's decisions: global, or stable for one Partnership.

Two kinds of re-solve (docs/ledger.md, docs/decisions.md §30):

* **global** (the Support Office): the next round from the files and every decision of
  the ledger (:mod:`matchmaker.ledger.carry_over`); any pair may change.
* **stable**, for one Partnership P: P's decisions change only what they force. Every
  other Partnership's pair of the base round (the ledger's latest round, by default) is
  *kept*: it becomes a lock of the re-solve, so the solver must propose it again; the
  other Partnerships' visitors without a pair stay out of the re-solve (their reason
  from the base round is repeated in ``unmatched.csv``). Only P's visitors are free. If
  a kept pair can no longer be honoured (a decision of P took its host's place, its
  budget, ...), the re-solve is **refused** with the list of the pairs it would change,
  and a global re-solve by the Support Office is needed.

Both are done in two steps so that the churn is seen before anything is recorded:
:func:`propose_resolve` solves into ``out_dir`` and returns a :class:`Resolve` with the
churn (pairs changed per Partnership against the base round, :mod:`matchmaker.ledger.churn`),
recording nothing; :func:`record_resolve` records it as a new round of the ledger (and
refuses a stable re-solve that would change another Partnership's pairs).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from matchmaker.constraints import locked_refusals
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import CarryOver, add_skipped, apply_carry_over, plan_carry_over
from matchmaker.ledger.churn import (
    churn_by_partnership,
    churn_outside,
    describe_churn,
    pair_changes,
    pair_list,
    write_churn,
)
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.store import Ledger
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.solution import read_solution
from matchmaker.run import run_round
from matchmaker.solve.core import lock_conflicts
from matchmaker.solve.problem import build_instance

#: ``reason_code`` of another Partnership's visitor left out of a stable re-solve without an earlier reason.
KEPT_CODE = "kept_by_stable_resolve"
#: Solves of a Partnership's re-solve at most: each new try forbids the deciding Partnership's stays that
#: moved a kept pair's dates (:func:`_date_clashes`).
DATE_TRIES = 3
#: Columns of :attr:`Resolve.refused`.
REFUSED_COLUMNS = ["partnership", "visitor_id", "host_id", "why"]
#: What each of the solver's lock rules means for a kept pair.
CONFLICT_WORDS = {
    "one_exchange_per_visitor": "its visitor is now locked to another host",
    "max_visitors": "its host has no place left for it",
    "capacity": "its host can no longer fit its stay on those dates beside the other locked stays",
    "partnership_budget": "its Partnership's budget no longer covers it",
    "programme_budget": "the programme budget no longer covers it",
}


class ResolveRefusedError(LedgerError):
    """A stable re-solve that would change other Partnerships' pairs: a global re-solve is needed."""


@dataclass
class Resolve:
    """A re-solve, solved into ``out_dir`` but not recorded (:func:`record_resolve` records it).

    Attributes
    ----------
    partnership : str or None -- the deciding Partnership (``None``: global re-solve).
    base_round_id : int -- the round the churn is measured against.
    out_dir : Path -- the re-solve's output set.
    exit_code : int -- :func:`matchmaker.run.run_round`'s (0: solved).
    plan : CarryOver -- what the ledger carried into the re-solve.
    round : Round -- the round that was solved (kept pairs as locks).
    kept : DataFrame -- other Partnerships' pairs fixed: ``visitor_id, host_id, partnership``.
    refused : DataFrame -- :data:`REFUSED_COLUMNS`: kept pairs that can no longer be honoured.
    changes : DataFrame -- :func:`matchmaker.ledger.churn.pair_changes` against the base round.
    churn : DataFrame -- :func:`matchmaker.ledger.churn.churn_by_partnership`.
    """

    partnership: str | None
    base_round_id: int
    out_dir: Path
    exit_code: int
    plan: CarryOver
    round: Round
    kept: pd.DataFrame = field(default_factory=pd.DataFrame)
    refused: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REFUSED_COLUMNS))
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    churn: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def churn_outside(self) -> int:
        """Pairs of other Partnerships that this re-solve changes (all pairs for a global one)."""
        return churn_outside(self.churn, self.partnership) if len(self.churn) else 0

    @property
    def recordable(self) -> bool:
        """Solved, and (for a Partnership's re-solve) no other Partnership's pair changed."""
        return self.exit_code == 0 and self.refused.empty and (self.partnership is None or self.churn_outside == 0)

    def describe(self) -> str:
        """The re-solve's summary in words: who, against which round, the churn, or why it is refused."""
        who = "global re-solve" if self.partnership is None else f"re-solve of {self.partnership}"
        if len(self.refused):
            lines = [f"{who} refused: it would change {len(self.refused)} pair(s) of other Partnerships:"]
            lines += [f"  {r.partnership}: visitor {r.visitor_id} with host {r.host_id}: {r.why}"
                      for r in self.refused.itertuples()]
            lines.append("a global re-solve by the Support Office is needed (matchmaker resolve ROUND_DIR "
                         "without --partnership)")
            return "\n".join(lines)
        if self.exit_code != 0:
            return f"{who}: the round was not solved (see {self.out_dir / 'summary.json'}); nothing to record"
        extra = f", {len(self.kept)} pair(s) of other Partnerships kept" if self.partnership else ""
        lines = [f"{who} against round {self.base_round_id}{extra}: "
                 f"{int(self.churn['pairs_changed'].sum())} pair(s) changed, "
                 f"{self.churn_outside} of them in other Partnerships" if self.partnership
                 else f"{who} against round {self.base_round_id}: {int(self.churn['pairs_changed'].sum())} "
                      "pair(s) changed"]
        lines += [f"  {line}" for line in describe_churn(self.churn)]
        if not self.recordable:
            lines.append("other Partnerships' pairs would change: not recordable as a Partnership's re-solve; "
                         "a global re-solve by the Support Office is needed")
        return "\n".join(lines)


def keep_other_partnerships(rnd: Round, base: pd.DataFrame, partnership: str) -> tuple[Round, pd.DataFrame, set]:
    """The round with every other Partnership's pair of ``base`` locked and their unpaired visitors left out.

    Parameters
    ----------
    rnd : Round
        The round after the carry-over (:func:`matchmaker.ledger.carry_over.apply_carry_over`).
    base : DataFrame
        The base round's proposals (``visitor_id, host_id, partnership``).
    partnership : str
        The deciding Partnership: its visitors stay free.

    Returns
    -------
    (round, kept, left_out)
        ``kept``: the pairs locked (``visitor_id, host_id, partnership``); ``left_out``: ids
        of the other Partnerships' visitors taken out of the re-solve. A visitor that
        already has a lock (ledger or ``decisions.csv``) or whose pair is forbidden keeps
        that decision, not the base pair. Kept pairs whose visitor or host is no longer
        registered are in ``kept`` too (the caller refuses them). A forbidden pair whose
        visitor is left out is dropped from the round's decisions (moot, and the round
        has no such visitor any more).
    """
    dec = rnd.decisions
    locked_visitors = set(dec.loc[dec["decision"] == "lock", "visitor_id"])
    forbidden = set(zip(dec.loc[dec["decision"] == "forbid", "visitor_id"],
                        dec.loc[dec["decision"] == "forbid", "host_id"]))
    visitors = rnd.visitors
    others = base[(base["partnership"] != partnership) & ~base["visitor_id"].isin(locked_visitors)]
    others = others[[(v, h) not in forbidden for v, h in zip(others["visitor_id"], others["host_id"])]]
    registered = set(visitors["org_id"])
    kept = others[others["visitor_id"].isin(registered)][["visitor_id", "host_id", "partnership", "start_date"]]
    kept = kept.reset_index(drop=True)
    is_other = (visitors["partnership"] != partnership).to_numpy()
    left_out = set(visitors.loc[is_other, "org_id"]) - set(kept["visitor_id"]) - locked_visitors
    dec = dec[~((dec["decision"] == "forbid") & dec["visitor_id"].isin(left_out))]  # moot: the visitor is out
    comments = [f"kept: {partnership}'s re-solve keeps {p}'s proposal" for p in kept["partnership"]]
    rows = pd.DataFrame({"visitor_id": kept["visitor_id"], "host_id": kept["host_id"], "decision": "lock",
                         "comment": comments, "start_date": pd.to_datetime(kept["start_date"])})
    if "source_row" in dec.columns:
        rows["source_row"] = pd.array([pd.NA] * len(rows), dtype="Int64")
        dec = dec.astype({"source_row": "Int64"})
    decisions = pd.concat([dec, rows[[c for c in [*dec.columns, "start_date"] if c in rows.columns]]],
                          ignore_index=True)
    out = dataclasses.replace(rnd, visitors=visitors[~visitors["org_id"].isin(left_out)].reset_index(drop=True),
                              decisions=decisions)
    return out, kept, left_out


def refused_pairs(rnd: Round, kept: pd.DataFrame) -> pd.DataFrame:
    """Kept pairs that ``rnd`` can no longer honour, with why (:data:`REFUSED_COLUMNS`).

    A kept pair is refused when its host is no longer registered, a rule of the scheme
    refuses it, or the locks together break a rule that involves it (a place, a
    same-day capacity, a budget), e.g. because the deciding Partnership locked a pair.
    """
    part = dict(zip(kept["visitor_id"], kept["host_id"]))
    who = dict(zip(kept["visitor_id"], kept["partnership"]))
    rows = []
    hosts = set(rnd.hosts["org_id"])
    for v, h in part.items():
        if h not in hosts:
            rows.append((who[v], v, h, f"host {h} is no longer registered"))
    for r in locked_refusals(rnd).itertuples():
        if part.get(r.visitor_id) == r.host_id:
            rows.append((who[r.visitor_id], r.visitor_id, r.host_id, f"{r.rule}: {r.reason}"))
    if not rows:
        problem = build_instance(rnd, build_catalogue(rnd))
        org_v, org_h = rnd.visitors["org_id"].to_numpy(), rnd.hosts["org_id"].to_numpy()
        for c in lock_conflicts(problem):
            pairs = [(org_v[problem.v[j]], org_h[problem.h[j]]) for j in c["pairs"]]
            others = [f"{v} -> {h}" for v, h in pairs if part.get(v) != h]
            cause = f" (with the locked pair(s) {', '.join(others)})" if others else ""
            for v, h in pairs:
                if part.get(v) == h:
                    rows.append((who[v], v, h, CONFLICT_WORDS.get(c["rule"], c["rule"]) + cause))
    out = pd.DataFrame(rows, columns=REFUSED_COLUMNS).drop_duplicates(["visitor_id", "host_id"])
    return out.sort_values(["partnership", "visitor_id"], ignore_index=True)


def add_left_out(unmatched: pd.DataFrame, summary: dict, base_unmatched: pd.DataFrame, rnd: Round,
                 left_out: set, partnership: str) -> tuple[pd.DataFrame, dict]:
    """``unmatched.csv`` and ``summary.json`` with the other Partnerships' visitors left out of a stable re-solve.

    Each keeps its base round's row (reason and details); one without (its pair was
    rejected since) gets :data:`KEPT_CODE` and a reason saying a global re-solve can match it.
    """
    base = base_unmatched.set_index("visitor_id") if len(base_unmatched) else pd.DataFrame()
    info = rnd.visitors.set_index("org_id")
    rows = []
    for v in sorted(left_out):
        if v in base.index:
            row = {c: base.at[v, c] for c in base.columns if c in unmatched.columns}
        else:
            row = {"reason": f"not matched again by {partnership}'s re-solve, which keeps the other Partnerships' "
                             "lists; the Support Office's global re-solve can match it",
                   "reason_code": KEPT_CODE, "rule": "stable re-solve"}
            for col, src in (("visitor_name", "name"), ("visitor_country", "country"), ("partnership", "partnership")):
                row[col] = info.at[v, src] if v in info.index else None
        rows.append({"visitor_id": v, **{k: x for k, x in row.items() if k in unmatched.columns}})
    table = pd.concat([unmatched, pd.DataFrame(rows)], ignore_index=True) if rows else unmatched
    summary = copy.deepcopy(summary)
    if rows:
        for key in ("visitors", "visitors_unmatched"):
            if isinstance(summary.get(key), int):
                summary[key] += len(rows)
        if "reason_code" in table.columns:
            summary["unmatched_by_reason"] = {str(k): int(n) for k, n in
                                              table["reason_code"].value_counts().sort_index().items()}
    summary["stable_resolve"] = {"partnership": partnership, "visitors_left_out": len(rows)}
    return table, summary


def _amend(unmatched: pd.DataFrame, summary: dict, steps: list[Callable]) -> tuple[pd.DataFrame, dict]:
    for step in steps:
        unmatched, summary = step(unmatched, summary)
    return unmatched, summary


def _after_list(out: Path, plan: CarryOver, accepted: pd.DataFrame) -> pd.DataFrame:
    """The re-solve's list: its proposals and the accepted exchanges of the visitors it skipped."""
    return pair_list(read_solution(out).proposals, accepted[accepted["visitor_id"].isin(plan.skipped["visitor_id"])])


def base_list(ledger: Ledger, round_id: int) -> pd.DataFrame:
    """A recorded round's list: its proposals and the accepted exchanges of its other visitors."""
    acc = ledger.accepted_exchanges()
    visitors = ledger.registrations(round_id)
    acc = acc[acc["visitor_id"].isin(visitors.loc[visitors["role"] == "visitor", "org_id"])]
    return pair_list(ledger.proposals(round_id), acc)


def propose_resolve(round_dir: str | Path, out_dir: str | Path, ledger: Ledger, partnership: str | None = None, *,
                    base_round_id: int | None = None, time_limit: float | None = None,
                    work_limit: float | None = None, seed: int | None = None,
                    settings_file: str | Path | None = None, verbose: bool = False,
                    progress: Callable[[dict], None] | None = None, prove: bool | None = None) -> Resolve:
    """Solve a re-solve of ``round_dir`` into ``out_dir`` and measure its churn; record nothing.

    ``partnership=None`` is the Support Office's global re-solve; a Partnership id is that
    Partnership's stable re-solve (module docstring). ``base_round_id`` (default: the
    ledger's latest round) is the round the other Partnerships' pairs are kept from and
    the churn is measured against. Limits, seed, progress and ``prove`` (prove mode) go to
    :func:`matchmaker.run.run_round`.
    A refused stable re-solve returns with :attr:`Resolve.refused` filled and nothing solved.
    """
    out = Path(out_dir)
    rnd = load_round(round_dir, settings_file=settings_file)
    base_id = ledger.latest_round_id() if base_round_id is None else int(base_round_id)
    ledger.round(base_id)  # an unknown round fails clearly
    if partnership is not None and partnership not in set(rnd.partnerships.index):
        raise LedgerError(f"partnership {partnership!r} is not in the round's partnerships.csv "
                          f"(known: {', '.join(sorted(map(str, rnd.partnerships.index)))})")
    accepted = ledger.accepted_exchanges()
    plan = plan_carry_over(rnd, ledger.current_decisions(), accepted)
    adjusted = apply_carry_over(rnd, plan)
    steps: list[Callable] = [partial(add_skipped, rnd=rnd, plan=plan)]
    kept = pd.DataFrame(columns=["visitor_id", "host_id", "partnership"])
    if partnership is not None:
        adjusted, kept, left_out = keep_other_partnerships(adjusted, ledger.proposals(base_id), partnership)
        refused = refused_pairs(adjusted, kept)
        if len(refused):
            return Resolve(partnership, base_id, out, 1, plan, adjusted, kept, refused)
        steps.append(partial(add_left_out, base_unmatched=ledger.unmatched(base_id), rnd=rnd, left_out=left_out,
                             partnership=partnership))
    for _ in range(DATE_TRIES):
        result = _solve_once(ledger, rnd, adjusted, out, partnership, base_id, plan, kept, accepted, steps,
                             dict(time_limit=time_limit, seed=seed, verbose=verbose, progress=progress,
                                  work_limit=work_limit, prove=prove))
        clashes = _date_clashes(result, out)
        if not len(clashes):
            return result
        adjusted = _with_forbids(adjusted, clashes, partnership)
    return result


def _solve_once(ledger: Ledger, rnd: Round, adjusted: Round, out: Path, partnership: str | None, base_id: int,
                plan: CarryOver, kept: pd.DataFrame, accepted: pd.DataFrame, steps: list[Callable],
                limits: dict) -> Resolve:
    """Solve ``adjusted`` into ``out`` and measure the churn against the base round."""
    code = run_round(adjusted, out, amend=partial(_amend, steps=steps), **limits)
    result = Resolve(partnership, base_id, out, int(code), plan, adjusted, kept)
    if code == 0:
        before, after = base_list(ledger, base_id), _after_list(out, plan, accepted)
        result.changes = pair_changes(before, after)
        result.churn = churn_by_partnership(before, after, result.changes, sorted(map(str, rnd.partnerships.index)))
        write_churn(out, result.churn, base_id, partnership)
    return result


def _date_clashes(result: Resolve, out: Path) -> pd.DataFrame:
    """The deciding Partnership's new pairs at hosts where a kept pair's dates moved (``visitor_id, host_id``).

    The solver fixes a kept pair but schedules its stay afresh: a new stay of the
    deciding Partnership at the same host can push it to other dates. Those new pairs are
    then forbidden and the re-solve repeated (keeping the other Partnerships first).
    """
    none = pd.DataFrame(columns=["visitor_id", "host_id"])
    if result.partnership is None or result.exit_code != 0:
        return none
    moved = result.changes[(result.changes["partnership"] != result.partnership)
                           & (result.changes["change"] == "new dates")]
    if moved.empty:
        return none
    props = read_solution(out).proposals
    mine = props[(props["partnership"] == result.partnership) & props["host_id"].isin(moved["host_after"])
                 & ~props["locked"].astype(bool)]
    return mine[["visitor_id", "host_id"]].reset_index(drop=True)


def _with_forbids(rnd: Round, pairs: pd.DataFrame, partnership: str | None) -> Round:
    """``rnd`` with ``pairs`` forbidden (their stays would move a kept pair's dates)."""
    rows = pairs.assign(decision="forbid", comment=f"{partnership}'s re-solve: this stay would move the dates of "
                                                   "another Partnership's kept pair")
    dec = rnd.decisions
    if "source_row" in dec.columns:
        rows["source_row"] = pd.array([pd.NA] * len(rows), dtype="Int64")
    decisions = pd.concat([dec, rows[[c for c in dec.columns if c in rows.columns]]], ignore_index=True)
    return dataclasses.replace(rnd, decisions=decisions)


def record_resolve(ledger: Ledger, resolve: Resolve, name: str | None = None) -> int:
    """Record a proposed re-solve as a new round of ``ledger``; return its id.

    Raises
    ------
    ResolveRefusedError
        The re-solve was refused, did not solve, or (a Partnership's) would change
        another Partnership's pairs: its :meth:`Resolve.describe` says which.
    """
    if not resolve.recordable:
        raise ResolveRefusedError(resolve.describe().replace("\n", "; "))
    return ledger.record_round(resolve.round, resolve.out_dir, name=name)
