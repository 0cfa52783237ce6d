"""One round end to end: catalogue, solve, write and check the outputs (``matchmaker solve``).

:func:`run_round` writes to ``out_dir``, as one set swapped in all at once
(:mod:`matchmaker.proposals.output_set`; docs/decisions.md §29):

``proposals.csv``
    One row per exchange (docs/design.md), sorted by partnership and visitor_id.
``unmatched.csv``
    Every visitor without a proposal and why (:mod:`matchmaker.proposals.unmatched`).
``summary.json``
    What was solved (folder, input hash, seed); the officer's part ``round`` (exchanges,
    the total score and what it is, the proof in words, unmatched visitors by reason in
    words, budgets used, whether the run is reproducible) and the solver's part ``solver``
    (status, objective, bound, gap, phases, work, times, versions;
    :mod:`matchmaker.proposals.summary`); after ``round``, ``match_quality``: the round's
    match quality in words (:mod:`matchmaker.quality.metrics`), with the proposals' blocking
    pairs and the round matched other ways (``stability``, ``comparison``:
    :mod:`matchmaker.compare.round_quality`, run after the solver and outside its work and time
    limit, so they never change the proposals); the settings; ``output_set``:
    whether the run succeeded (or why it failed) and each file's SHA-256.

The CSV files go through the product's injection-safe writer (:mod:`matchmaker.common.csv_safe`).

The solver's limits (time limit, work limit, seed, target gap) are merged from the
settings and the arguments and checked once, here, into a
:class:`~matchmaker.solve.config.SolveConfig` that the solver and its phases only read.
The proposals are checked by the independent validator before ``run_round`` returns;
a broken rule is a bug and makes it fail loudly (exit code 1).
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from matchmaker.common.csv_safe import csv_bytes
from matchmaker.common.errors import OutputSetError
from matchmaker.compare.round_quality import quality_parts
from matchmaker.constraints import locked_refusals
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue, build_catalogue
from matchmaker.proposals import summary as S
from matchmaker.proposals.output_set import target_folder, write_output_set
from matchmaker.proposals.table import proposals_table
from matchmaker.proposals.unmatched import unmatched_visitors
from matchmaker.proposals.validator import check_proposals
from matchmaker.proposals.wording import phase_words, progress_repeats
from matchmaker.quality.metrics import match_quality, round_budgets
from matchmaker.solve.problem import SolverInstance, build_instance
from matchmaker.solver import Progress, SolveConfig, SolverResult, solve

#: ``amend(unmatched, summary) -> (unmatched, summary)``: a change to a successful run's tables before they are written.
Amend = Callable[[pd.DataFrame, dict], tuple[pd.DataFrame, dict]]


def _printer(verbose: bool, progress: Progress | None) -> Progress:
    shown: list[dict] = []

    def report(info: dict) -> None:
        if progress is not None:
            progress(dict(info))
        if verbose and not progress_repeats(info, shown[-1] if shown else None):
            shown.append(dict(info))
            best, bound, gap = info.get("best"), info.get("bound"), info.get("gap")
            b = "-" if best is None else f"{best / 100:,.2f}"
            u = "-" if bound is None else f"{bound / 100:,.2f}"
            g = "-" if gap is None else f"{100 * gap:.4f}%"
            print(f"[{info.get('elapsed', 0):7.2f}s] best {b:>10}  bound {u:>10}  gap {g}  "
                  f"({phase_words(info['phase'])})", flush=True)
    return report


def run_round(rnd: Round, out_dir: str | Path, time_limit: float | None = None, seed: int | None = None,
              verbose: bool = True, progress: Progress | None = None, work_limit: float | None = None,
              amend: Amend | None = None, prove: bool | None = None) -> int:
    """Solve a round and write ``proposals.csv``, ``unmatched.csv`` and ``summary.json`` as one set.

    The set is swapped into ``out_dir`` all at once (:mod:`matchmaker.proposals.output_set`):
    the folder holds the previous complete set until the new one is complete. A run that
    fails (infeasible locks, no solution in time, proposals breaking a rule, an error or
    an interruption) leaves a set whose ``summary.json`` says so, never the previous results.

    Parameters
    ----------
    rnd : Round
        A loaded round (:func:`matchmaker.inputs.loading.load_round`).
    out_dir : path-like
        Output folder (created; refused when it holds files that are not an output set).
    time_limit : float, optional
        Seconds for the whole run (default ``solver.time_limit_s``): the catalogue, then
        the solver with what is left, less a reserve (5 %, at most 10 s) for the reasons,
        the files and the validator.
    seed : int, optional
        Solver seed (default ``solver.seed``).
    work_limit : float, optional
        The solver's deterministic work budget (default ``solver.work_limit``; 0 or
        unset: three quarters of the time limit; :mod:`matchmaker.solve.effort`).
    verbose : bool
        Print progress lines and the result.
    progress : callable, optional
        Called with ``dict(phase, best, bound, gap, elapsed)`` (objective units:
        hundredths of a score point) at each phase and improving solution.
    amend : callable, optional
        ``amend(unmatched, summary) -> (unmatched, summary)``, applied to a successful
        run's tables before they are written (``matchmaker round`` adds the visitors it skipped).
    prove : bool, optional
        Prove mode (default ``solver.prove``; ``matchmaker solve --prove``): after the usual
        phases the ``branch-and-price`` phase searches until the round is proven optimal, with no time
        limit unless one is given (``time_limit`` or ``solver.time_limit_s``), which then stops
        the proof (and the run is not reproducible). ``summary.json`` says which.

    Returns
    -------
    int
        0 on success; 1 when the locks make the round infeasible, no solution was found
        in time, or the proposals break a rule (a bug, reported loudly).

    Raises
    ------
    SettingsError
        A time limit, work limit or seed out of range (from the settings or the arguments;
        :meth:`matchmaker.solve.config.SolveConfig.from_settings` names which).
    OutputSetError
        ``out_dir`` cannot hold an output set, or its files could not be written.
    """
    config = SolveConfig.from_settings(rnd.settings["solver"], time_limit=time_limit, work_limit=work_limit,
                                       seed=seed, prove=prove)
    out = target_folder(out_dir)
    summary = dict(round_dir=str(rnd.source) if rnd.source is not None else None, input_hash=rnd.input_hash)
    try:
        return _run(rnd, out, config, summary, verbose, progress, amend)
    except OutputSetError:
        raise
    except BaseException as exc:  # noqa: BLE001 - recorded in the output folder, then raised again
        what = "was interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped with an error ({exc})"
        with contextlib.suppress(OutputSetError):  # the error itself is what the user must see
            write_output_set(out, {}, summary, f"the run {what} before its files were written")
        raise


def _run(rnd: Round, out: Path, config: SolveConfig, summary: dict, verbose: bool, progress: Progress | None,
         amend: Amend | None) -> int:
    """:func:`run_round` once its folder is checked: solve, then write the set (``summary`` filled in place)."""
    say = print if verbose else (lambda *a, **k: None)
    t0 = time.monotonic()
    times = {}
    catalogue = build_catalogue(rnd)
    times["catalogue"] = round(time.monotonic() - t0, 3)
    t1 = time.monotonic()
    problem = build_instance(rnd, catalogue)
    times["problem"] = round(time.monotonic() - t1, 3)
    summary.update(S.summary_head(rnd, catalogue, problem, config))
    refused_locks = locked_refusals(rnd)
    if len(refused_locks):
        lines = [f"locked pair {r.visitor_id} -> {r.host_id} is refused by rule {r.rule}: {r.reason}"
                 for r in refused_locks.itertuples()]
        return _infeasible(out, summary, times, t0, lines, say)
    if config.prove:
        say(S.prove_line(config.time_limit))
    result = _solve_in_time(problem, config, t0, times, _printer(verbose, progress))
    if result.status in ("infeasible", "no_solution_yet"):
        return _infeasible(out, summary, times, t0, _conflict_lines(rnd, problem, result), say,
                           status=result.status)

    proposals = proposals_table(rnd, catalogue, problem, result)
    t3 = time.monotonic()
    unmatched = unmatched_visitors(rnd, catalogue, problem, result.pairs)
    times["unmatched"] = round(time.monotonic() - t3, 3)
    t4 = time.monotonic()
    violations = check_proposals(rnd, proposals)
    times["validator"] = round(time.monotonic() - t4, 3)
    times["total"] = round(time.monotonic() - t0, 3)
    S.fill(summary, *S.outcome(problem, result, proposals, unmatched, violations, times, prove=config.prove,
                               countries=rnd.countries),
           violations=[str(v) for v in violations])
    if amend is not None and not violations:
        unmatched, amended = amend(unmatched, dict(summary))
        summary.clear()
        summary.update({k: v for k, v in amended.items() if k not in S.OFFICER_COUNTS})  # none at the top
        summary["round"].update(S.officer_counts(proposals, unmatched))  # with the visitors amend added
    parts = {} if violations else _quality_parts(rnd, catalogue, proposals, times["solver"], say)
    S.put_after_round(summary, "match_quality", match_quality(rnd, proposals, unmatched,
                                                              *round_budgets(rnd, summary), **parts))
    tables = {"proposals.csv": csv_bytes(proposals), "unmatched.csv": csv_bytes(unmatched)}
    failure = (f"the proposals break {len(violations)} rule(s) of the scheme, so nothing is valid (a bug: please "
               f"report it with the round's files): {'; '.join(map(str, violations[:3]))}") if violations else None
    _write_set(out, tables, summary, failure)
    if violations:
        print(f"INTERNAL ERROR: the proposals break {len(violations)} rule(s) of the scheme; nothing is valid. "
              f"Please report this with the round's files:", file=sys.stderr)
        for v in violations:
            print(f"  {v}", file=sys.stderr)
        return 1
    if not result.stats.get("reproducible", True):
        say(f"note: {S.reproducible_note(result.stats, config.prove)}")
    say(f"{S.result_line(summary)}; wrote {out}/proposals.csv, unmatched.csv, summary.json "
        f"({times['total']:.1f} s)")
    return 0


def _quality_parts(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame, solver_seconds: float,
                   say: Callable) -> dict:
    """The proposals' blocking pairs and the round matched other ways (:mod:`matchmaker.compare.round_quality`),
    after the solver: outside its work and time limit, so the proposals never depend on it."""
    say("match quality: counting blocking pairs and matching the round the other ways ...")
    parts = quality_parts(rnd, catalogue, proposals, solver_seconds)
    say(f"match quality: {parts['comparison']['summary']} ({parts['comparison']['seconds']:.1f} s)")
    return parts


def _solve_in_time(problem: SolverInstance, config: SolveConfig, t0: float, times: dict,
                   progress: Progress) -> SolverResult:
    """Solve with the run's time left after the catalogue, less a reserve for the reasons, the
    files and the validator (5 %, at most 10 s); the solver's times go to ``times``. Without a
    time limit (prove mode) the solver has no clock at all."""
    t2 = time.monotonic()
    if config.time_limit is not None:
        reserve = min(0.05 * config.time_limit, 10.0)
        config = config.within(max(0.01, config.time_limit - (t2 - t0) - reserve))
    result = solve(problem, config, progress)
    times["solver"] = round(time.monotonic() - t2, 3)
    for ph in result.phases:
        key = f"solver_{ph['phase']}"
        times[key] = round(times.get(key, 0.0) + ph["seconds"], 3)
    return result


def _conflict_lines(rnd: Round, problem: SolverInstance, result: SolverResult) -> list[str]:
    """The solver's lock conflicts, with organisations' ids instead of positions."""
    org_v, org_h = rnd.visitors["org_id"].to_numpy(), rnd.hosts["org_id"].to_numpy()
    lines = []
    for c in result.conflicts:
        names = ", ".join(f"{org_v[problem.v[j]]} -> {org_h[problem.h[j]]}" for j in c["pairs"])
        lines.append(f"{c['rule']}: {_named(c['message'], problem, c['pairs'], org_v, org_h)} (locked pairs: {names})")
    return lines


def _named(message: str, p, pairs, org_v, org_h) -> str:
    # positions in solver messages ("visitor 12", "host 3") -> org ids

    vis = {int(p.v[j]): org_v[p.v[j]] for j in pairs}
    hos = {int(p.h[j]): org_h[p.h[j]] for j in pairs}
    message = re.sub(r"visitor (\d+)", lambda m: f"visitor {vis.get(int(m.group(1)), m.group(1))}", message)
    message = re.sub(r"host (\d+)", lambda m: f"host {hos.get(int(m.group(1)), m.group(1))}", message)
    return re.sub(r"hosts \[([\d, ]+)\]", lambda m: "hosts " + ", ".join(
        str(hos.get(int(x), x)) for x in m.group(1).split(", ")), message)


def _infeasible(out: Path, summary: dict, times: dict, t0: float, lines: list[str], say: Callable,
                status: str = "infeasible") -> int:
    times["total"] = round(time.monotonic() - t0, 3)
    head = ("the locked pairs (decisions.csv) cannot all be honoured, so no round can be proposed"
            if status == "infeasible" else "no schedule for the locked pairs was found within the time limit")
    summary.setdefault("round", {}).update(message=head, conflicts=lines)
    summary["solver"] = dict(status=status, objective=None, bound=None, gap=None, times_s=times,
                             **summary.get("solver", {}))
    _write_set(out, {}, summary, f"{status}: {head}: {'; '.join(lines)}. Change or remove these locks in "
                                 "decisions.csv and solve again")
    print(f"{status}: {head}:", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    print("Change or remove these locks in decisions.csv and solve again.", file=sys.stderr)
    return 1


def _write_set(out: Path, tables: dict[str, bytes], summary: dict, failure: str | None = None) -> None:
    """Swap the set into ``out``; when its files cannot be written, at least a set that says the run failed."""
    try:
        write_output_set(out, tables, summary, failure)
    except OutputSetError as exc:
        try:
            write_output_set(out, {}, summary, f"the output files could not be written: {exc}")
        except OutputSetError:
            raise exc from None
        raise OutputSetError(f"{exc} ({out} now holds only a summary.json saying that this run failed)") from exc
