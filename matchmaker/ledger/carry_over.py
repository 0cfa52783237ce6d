"""Rounds that carry over: what the ledger's decisions change in the next round.

A new round starts from its files (``load_round``) and the ledger's current decisions:

* a visitor whose exchange was **accepted** is skipped (a visitor takes part in one
  exchange); it is reported in ``unmatched.csv`` with that reason, never dropped
  silently;
* a **locked** pair is kept: it becomes a ``lock`` decision of the round;
* a **rejected** pair is never proposed again: it becomes a ``forbid`` decision;
* the lump sums already **committed** (accepted exchanges) are counted against each
  partnership's ``budget_eur`` (and against ``solver.programme_budget_eur`` when set).

:func:`plan_carry_over` works this out from plain tables (pure function; the budgets
left are computed by :mod:`matchmaker.ledger.budgets`),
:func:`apply_carry_over` derives the adjusted :class:`~matchmaker.inputs.instance.Round`, and
:func:`run_next_round` does it all: load, adjust, :func:`matchmaker.run.run_round`,
with the skipped visitors added to its output set before it is written, then
:meth:`Ledger.record_round`. docs/ledger.md has the rules.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import Problem, RoundDataError, SettingsError
from matchmaker.inputs.instance import Round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.budgets import LEDGER, committed_eur, remaining_budgets, remaining_programme_budget
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.store import Ledger
from matchmaker.ledger.workflow import open_ledger
from matchmaker.proposals.output_set import record_failure
from matchmaker.proposals.solution import json_safe
from matchmaker.run import run_round

SKIPPED_RULE = "one exchange per visitor"
SKIPPED_CODE = "already_accepted"  # reason_code of a skipped visitor in unmatched.csv


@dataclass
class CarryOver:
    """What the ledger carries into a round.

    Attributes
    ----------
    skipped : DataFrame
        Visitors of the round with an accepted exchange: ``visitor_id, host_id,
        round_id, mode, lump_sum_eur, partnership, reviewer, decided_at, reason``.
    locks, forbids : DataFrame
        Decisions added to the round: ``visitor_id, host_id, decision, comment``.
    budgets : DataFrame
        Index ``partnership_id``: ``budget_eur`` (from partnerships.csv),
        ``committed_eur`` (accepted lump sums) and ``remaining_eur`` (what the round may
        spend, never below 0).
    programme_budget_eur : float
        ``solver.programme_budget_eur`` for the round after the committed total is
        taken off (0 still means no programme-wide limit).
    problems : list of Problem
        Warnings: committed sums above a budget, or for a partnership the round does
        not list, and rows of ``decisions.csv`` that the ledger overrides.
    overridden : DataFrame
        Rows of the round's ``decisions.csv`` left out (index as in ``rnd.decisions``):
        decisions on visitors already accepted (moot), and rows contradicting a later
        ledger decision on the pair (the ledger wins, with a warning).
    """

    skipped: pd.DataFrame
    locks: pd.DataFrame
    forbids: pd.DataFrame
    budgets: pd.DataFrame
    programme_budget_eur: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    overridden: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> dict:
        """JSON-safe account of the carry-over, stored in ``summary.json``."""
        return json_safe({
            "skipped_visitors": self.skipped[["visitor_id", "host_id", "round_id", "reason"]].to_dict("records"),
            "locks_kept": self.locks[["visitor_id", "host_id"]].to_dict("records"),
            "rejected_pairs_forbidden": len(self.forbids),
            "budgets": self.budgets.reset_index().to_dict("records"),
            "programme_budget_eur": self.programme_budget_eur,
            "warnings": [str(p) for p in self.problems],
        })


def _decision_rows(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    comments = [f"ledger: {d} in round {r} by {who}" + (f": {c}" if c else "")
                for d, r, who, c in zip(df["decision"], df["round_id"], df["reviewer"], df["comment"])]
    return pd.DataFrame({"visitor_id": df["visitor_id"].astype(str).to_numpy(),
                         "host_id": df["host_id"].astype(str).to_numpy(),
                         "decision": kind, "comment": comments})


def _skipped_visitors(accepted: pd.DataFrame, visitors: set[str]) -> pd.DataFrame:
    """Accepted exchanges of the round's visitors, each with why its visitor is skipped (``reason``)."""
    acc = accepted[accepted["visitor_id"].isin(visitors)].copy()
    acc["reason"] = [
        f"already has an accepted {m} exchange with host {h} (round {r}, accepted by {who}); "
        "a visitor takes part in one exchange"
        for m, h, r, who in zip(acc["mode"], acc["host_id"], acc["round_id"], acc["reviewer"])]
    return acc


def _unkeepable_locks(locks: pd.DataFrame, visitors: set[str], hosts: set[str],
                      skipped_ids: set[str]) -> list[Problem]:
    """An error for every ledger lock the round cannot keep, saying what to do."""
    errors = []
    for v, h, r in zip(locks["visitor_id"], locks["host_id"], locks["round_id"]):
        where = f"pair (visitor {v}, host {h}) locked in round {r}"
        if v not in visitors or h not in hosts:
            missing = f"visitor {v}" if v not in visitors else f"host {h}"
            errors.append(Problem(LEDGER, None, "decision", "lock", f"{where} cannot be kept: {missing} is not "
                                  "registered in this round; reject or reopen the pair in the ledger"))
        elif v in skipped_ids:
            errors.append(Problem(LEDGER, None, "decision", "lock", f"{where} cannot be kept: the visitor already "
                                  "has an accepted exchange; reject or reopen one of them in the ledger"))
    return errors


def _overridden_file_decisions(file_dec: pd.DataFrame, current: pd.DataFrame, locks: pd.DataFrame,
                               acc: pd.DataFrame) -> tuple[list, list[Problem]]:
    """Rows of the round's ``decisions.csv`` that the ledger overrides, and the warnings.

    The ledger's decisions are later, explicit choices of reviewers, so they win. A row
    on a skipped visitor is moot (left out, with a warning only when it is a lock on
    another host); a row contradicting the ledger on its pair, or locking a visitor the
    ledger locks with another host, is left out with a warning.
    """
    ledger_state = {(v, h): d for v, h, d in zip(current["visitor_id"], current["host_id"], current["decision"])}
    locked_host = dict(zip(locks["visitor_id"], locks["host_id"]))
    accepted_host = dict(zip(acc["visitor_id"], acc["host_id"]))
    rows = file_dec["source_row"] if "source_row" in file_dec.columns else pd.Series([None] * len(file_dec))
    overridden, warnings = [], []
    for label, v, h, d, row in zip(file_dec.index, file_dec["visitor_id"], file_dec["host_id"],
                                   file_dec["decision"], rows):
        row = None if pd.isna(row) else int(row)
        state = ledger_state.get((v, h))
        why = None
        if v in accepted_host:
            overridden.append(label)  # moot: the visitor is not matched again
            if d == "lock" and accepted_host[v] != h:
                why = (f"visitor {v} already has an accepted exchange with host {accepted_host[v]} in the ledger: "
                       "this lock no longer applies")
        elif d == "lock" and state == "reject":
            overridden.append(label)
            why = "the ledger has this pair rejected (a later decision): it is forbidden, not locked"
        elif d == "forbid" and state == "lock":
            overridden.append(label)
            why = "the ledger has this pair locked (a later decision): it is locked, not forbidden"
        elif d == "lock" and locked_host.get(v, h) != h:
            overridden.append(label)
            why = (f"the ledger locks visitor {v} with host {locked_host[v]} (a later decision; a visitor takes "
                   "part in one exchange): this lock is not kept")
        if why:
            warnings.append(Problem("decisions.csv", row, "decision", d, why, "warning"))
    return overridden, warnings


def _not_in(pairs: pd.DataFrame, in_file: set[tuple[str, str]]) -> np.ndarray:
    """Which ``pairs`` (``visitor_id``, ``host_id``) are not among ``in_file``."""
    return np.array([(v, h) not in in_file for v, h in zip(pairs["visitor_id"], pairs["host_id"])], dtype=bool)


def plan_carry_over(rnd: Round, current: pd.DataFrame, accepted: pd.DataFrame) -> CarryOver:
    """Work out what the ledger's decisions change in ``rnd`` (pure function).

    Parameters
    ----------
    rnd : Round
        The round as loaded from its files.
    current : DataFrame
        :meth:`Ledger.current_decisions` (``visitor_id, host_id, decision, round_id,
        reviewer, comment``, ...).
    accepted : DataFrame
        :meth:`Ledger.accepted_exchanges` (adds ``mode, lump_sum_eur, partnership``).

    Raises
    ------
    RoundDataError
        When a ledger lock cannot be kept (its visitor or host is not registered in
        this round, or its visitor already has an accepted exchange); every such lock
        is listed, with what to do. Where the round's ``decisions.csv`` contradicts the
        ledger, the ledger (the later, explicit decision) wins and a warning says so.
    """
    visitors, hosts = set(rnd.visitors["org_id"]), set(rnd.hosts["org_id"])
    acc = _skipped_visitors(accepted, visitors)
    skipped_ids = set(acc["visitor_id"])
    locks = current[current["decision"] == "lock"]
    errors = _unkeepable_locks(locks, visitors, hosts, skipped_ids)
    rejects = current[current["decision"] == "reject"]
    forbids = rejects[rejects["visitor_id"].isin(visitors) & rejects["host_id"].isin(hosts)
                      & ~rejects["visitor_id"].isin(skipped_ids)]
    if errors:
        raise RoundDataError(errors)

    file_dec = rnd.decisions
    overridden, warnings = _overridden_file_decisions(file_dec, current, locks, acc)
    kept_file = file_dec.drop(index=overridden)
    in_file = set(zip(kept_file["visitor_id"], kept_file["host_id"]))

    committed = committed_eur(accepted)
    budgets, budget_warnings = remaining_budgets(rnd.partnerships, committed)
    programme, programme_warnings = remaining_programme_budget(rnd.settings, committed)
    warnings = [dataclasses.replace(p, severity="warning")
                for p in warnings + budget_warnings + programme_warnings]

    skipped = acc[["visitor_id", "host_id", "round_id", "mode", "lump_sum_eur", "partnership", "reviewer",
                   "decided_at", "reason"]].reset_index(drop=True)
    return CarryOver(skipped=skipped, locks=_decision_rows(locks[_not_in(locks, in_file)], "lock"),
                     forbids=_decision_rows(forbids[_not_in(forbids, in_file)], "forbid"), budgets=budgets,
                     programme_budget_eur=programme, problems=warnings, overridden=file_dec.loc[overridden])


def apply_carry_over(rnd: Round, plan: CarryOver) -> Round:
    """A new :class:`Round`: skipped visitors removed, decisions added, budgets reduced.

    The round's own ``decisions.csv`` rows are kept except ``plan.overridden``; ledger
    decisions get ``source_row`` missing. ``input_hash`` covers
    the files and the carried-over state, so two rounds with the same files but a
    different ledger differ.
    """
    skipped = set(plan.skipped["visitor_id"])
    visitors = rnd.visitors[~rnd.visitors["org_id"].isin(skipped)].reset_index(drop=True)
    own = rnd.decisions.drop(index=plan.overridden.index)
    added = pd.concat([plan.locks, plan.forbids], ignore_index=True)
    if len(added):
        if "source_row" in own.columns:  # ledger decisions have no row in decisions.csv
            added["source_row"] = pd.array([pd.NA] * len(added), dtype="Int64")
            own = own.astype({"source_row": "Int64"})
        decisions = pd.concat([own, added[[c for c in own.columns if c in added.columns]]], ignore_index=True)
    else:
        decisions = own.reset_index(drop=True)
    partnerships = rnd.partnerships.copy()
    partnerships["budget_eur"] = plan.budgets["remaining_eur"].reindex(partnerships.index).to_numpy()
    settings = copy.deepcopy(rnd.settings)
    if plan.programme_budget_eur > 0:
        settings.setdefault("solver", {})["programme_budget_eur"] = plan.programme_budget_eur
    state = json.dumps(plan.summary(), sort_keys=True)
    digest = hashlib.sha256(f"{rnd.input_hash}\n{state}".encode()).hexdigest()
    return dataclasses.replace(rnd, visitors=visitors, decisions=decisions, partnerships=partnerships,
                               settings=settings, input_hash=digest, warnings=list(rnd.warnings) + plan.problems)


def add_skipped(unmatched: pd.DataFrame, summary: dict, rnd: Round, plan: CarryOver) -> tuple[pd.DataFrame, dict]:
    """The round's ``unmatched.csv`` table and ``summary.json`` with the skipped visitors and the carry-over.

    ``unmatched`` keeps its columns: each skipped visitor fills ``visitor_id`` and
    ``reason`` and, when the table has them, its name, country and partnership columns,
    ``rule`` ("one exchange per visitor"), ``reason_code`` (``already_accepted``) and
    ``eligible_hosts`` (0). In ``summary`` the skipped visitors are added to
    ``visitors``, ``visitors_unmatched`` and ``unmatched_by_reason``, and ``carry_over``
    is set. :func:`run_next_round` applies this before the output set is written
    (:func:`matchmaker.run.run_round`'s ``amend``), so the set is written once, complete.
    """
    table = unmatched.copy()
    for col in ("visitor_id", "reason"):
        if col not in table.columns:
            table[col] = pd.Series(dtype=str)
    info = rnd.visitors.set_index("org_id")
    fill = {"visitor_name": "name", "name": "name", "visitor_country": "country", "country": "country",
            "partnership": "partnership"}
    rows = []
    for rec in plan.skipped.to_dict("records"):
        row = {"visitor_id": rec["visitor_id"], "reason": rec["reason"]}
        for col, src in fill.items():
            if col in table.columns and src in info.columns:
                row[col] = info.at[rec["visitor_id"], src]
        if "rule" in table.columns:
            row["rule"] = SKIPPED_RULE
        if "reason_code" in table.columns:
            row["reason_code"] = SKIPPED_CODE
        if "eligible_hosts" in table.columns:
            row["eligible_hosts"] = 0
        rows.append(row)
    if rows:
        table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    summary = copy.deepcopy(summary)
    n = len(plan.skipped)
    if n and isinstance(summary.get("unmatched_by_reason"), dict):
        summary["unmatched_by_reason"][SKIPPED_CODE] = n
    for key in ("visitors", "visitors_unmatched"):
        if n and isinstance(summary.get(key), int):
            summary[key] += n  # the skipped visitors are visitors of the round, unmatched
    summary["carry_over"] = plan.summary()
    return table, summary


@dataclass
class NextRound:
    """Result of :func:`run_next_round`."""

    round_id: int | None
    exit_code: int
    out_dir: Path
    plan: CarryOver
    round: Round
    ledger: str = "the ledger"

    def describe(self) -> str:
        """A few lines for the command line: what was carried over and what was recorded."""
        p = self.plan
        lines = [str(w) for w in p.problems]
        if len(p.skipped) or len(p.locks) or len(p.forbids) or p.budgets["committed_eur"].sum():
            lines.append(f"carried over from the ledger: {len(p.skipped)} visitor(s) skipped (exchange accepted), "
                         f"{len(p.locks)} locked pair(s) kept, {len(p.forbids)} rejected pair(s) forbidden, "
                         f"EUR {p.budgets['committed_eur'].sum():,.2f} of lump sums already taken off the budgets "
                         "(accepted exchanges reserved, committed or paid; withdrawn ones released)")
        else:
            lines.append("carried over from the ledger: nothing (no decision taken yet)")
        if self.round_id is None:
            lines.append(f"the round was not solved (exit code {self.exit_code}): nothing recorded in {self.ledger}")
        else:
            lines.append(f"recorded as round {self.round_id} in {self.ledger}; proposals in {self.out_dir}")
        return "\n".join(lines)


def run_next_round(round_dir: str | Path, out_dir: str | Path, ledger_url: str | Ledger | None = None,
                   name: str | None = None, *, time_limit: float | None = None, seed: int | None = None,
                   settings_file: str | Path | None = None, overrides: dict | None = None,
                   verbose: bool = True, progress: Callable[[dict], None] | None = None,
                   work_limit: float | None = None, prove: bool | None = None) -> NextRound:
    """Solve the next round of ``round_dir`` around the ledger's decisions and record it.

    Parameters
    ----------
    round_dir : path-like
        The round's files (registrations, partnerships, ...).
    out_dir : path-like
        Where ``proposals.csv``, ``unmatched.csv`` and ``summary.json`` are written, as one set
        (:mod:`matchmaker.proposals.output_set`).
    ledger_url : str or Ledger, optional
        Ledger URL (or an open :class:`~matchmaker.ledger.store.Ledger`, left open); default
        ``ROUND_DIR/ledger.sqlite`` (:func:`matchmaker.common.locations.default_ledger_url`),
        created if missing.
    name : str, optional
        Name of the recorded round.
    time_limit, work_limit, seed, verbose, progress, prove
        Passed to :func:`matchmaker.run.run_round` (``progress``: the solver's progress
        callback, e.g. the notebook's progress bar; ``prove``: prove mode, default ``solver.prove``).
    settings_file, overrides
        Passed to :func:`matchmaker.inputs.loading.load_round`.

    Returns
    -------
    NextRound
        ``round_id`` is ``None`` when ``run_round`` did not succeed (nothing recorded).
    """
    out = Path(out_dir)
    try:
        rnd = load_round(round_dir, settings_file=settings_file, overrides=overrides)
    except (RoundDataError, SettingsError) as exc:
        record_failure(out, f"the round could not be loaded: {exc}", {"round_dir": str(round_dir)})
        raise
    own_ledger = not isinstance(ledger_url, Ledger)
    ledger = None
    try:
        if not own_ledger:
            ledger = ledger_url
        else:
            ledger = open_ledger(round_dir, ledger_url, create=True)
        plan = plan_carry_over(rnd, ledger.current_decisions(), ledger.accepted_exchanges())
        adjusted = apply_carry_over(rnd, plan)
    except (RoundDataError, SettingsError, LedgerError) as exc:
        record_failure(out, f"the round could not be prepared from the ledger: {exc}",
                       {"round_dir": str(round_dir), "input_hash": rnd.input_hash})
        if own_ledger and ledger is not None:
            ledger.close()
        raise
    try:
        code = run_round(adjusted, out, time_limit=time_limit, seed=seed, verbose=verbose, progress=progress,
                         work_limit=work_limit, amend=partial(add_skipped, rnd=rnd, plan=plan), prove=prove)
        if code != 0 or not (out / "proposals.csv").is_file():
            return NextRound(None, int(code or 1), out, plan, adjusted, f"the ledger ({ledger.location})")
        round_id = ledger.record_round(adjusted, out, name=name)
        return NextRound(round_id, 0, out, plan, adjusted, f"the ledger ({ledger.location})")
    finally:
        if own_ledger:
            ledger.close()
