"""``summary.json``: an officer's part and a solver's part (docs/decisions.md §31).

A solve's summary is one JSON object, in this key order:

``round_dir``, ``input_hash``, ``seed``
    What was solved: the round's folder, the hash of its files and settings, the seed.
``round``
    The officer's part, in the scheme's terms: ``exchanges`` (``physical``, ``virtual``);
    ``total_score``, the one total, with ``total_score_note`` saying what it is (the sum
    of the proposed pairs' scores, each out of 100); ``proof`` (how close to the best
    possible the solver proved it, in words); ``visitors``, ``visitors_unmatched`` and
    ``unmatched_by_reason`` (``reason`` in words, ``reason_code``, ``visitors``);
    ``lump_sums_eur``, ``budgets`` (per partnership: ``budget_eur``, ``used_eur``,
    ``remaining_eur``, ``exchanges``), ``programme_budget_eur``; ``reproducible`` and
    ``reproducible_note``; with ``solver.fairness_share > 0``, ``fairness``: per group its
    target, exchanges and shortfall in words (:mod:`matchmaker.proposals.fairness`). A run
    that failed has ``message`` and ``conflicts`` here instead.
``match_quality``
    The officer's match-quality report of a successful run, in words
    (:func:`matchmaker.quality.metrics.match_quality`, docs/decisions.md §36): exchanges,
    scores, visitors matched, unmatched by reason, budget use per Partnership, the spread
    across Partnerships, countries and organisation types, and the places ``comparison``
    and ``stability``. Put after ``round`` by :func:`put_after_round`.
``solver``
    The solver's part: ``status`` (``optimal`` at a certified gap of at most 1e-6),
    ``objective`` (in the solver's terms, see ``objective_note``; equal to ``total_score``
    for ``solver.objective = "score"``), ``bound``, ``gap``, ``within_mip_tolerance``
    (the gap is at most the usual 0.01 %), ``fairness_shortfall``, the limits (``time_limit_s``,
    ``work_limit``), ``prove_mode`` (``--prove``: searched until proven) and ``work_spent``, the
    ``catalogue``'s counts, ``budget_prices`` (LP duals), ``phases``, ``times_s``, ``solver_stats``
    and the package ``versions``.
``settings``, ``violations``
    The settings solved with; the rules the proposals break (empty unless a bug).

``matchmaker round`` adds ``carry_over``, and the output set adds ``output_set`` last
(:mod:`matchmaker.proposals.output_set`).
"""

from __future__ import annotations

import json
import platform
from importlib.metadata import version

import numpy as np
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.inputs.settings import settings_json
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.proposals.fairness import fairness_shortfall
from matchmaker.proposals.wording import phase_words, reason_label
from matchmaker.solve.config import SolveConfig
from matchmaker.solve.highs import highs_version
from matchmaker.solve.problem import SolverInstance
from matchmaker.solver import MIP_TOLERANCE, OPTIMAL_GAP, SolverResult, within_mip_tolerance

#: The officer's counts, taken from the final tables (:func:`officer_counts`); they belong in the
#: ``round`` part only (an amender written for the flat summary of before may have set them at the top).
OFFICER_COUNTS = ("exchanges", "physical", "virtual", "visitors", "visitors_unmatched", "unmatched_by_reason")
#: What ``total_score`` is, in words (``summary.json``'s officer part and the command's result line).
TOTAL_SCORE_NOTE = "the sum of the proposed pairs' scores in proposals.csv, each out of 100 to a hundredth of a point"
#: Added to the proof when the stability or fairness option changes what the solver maximises (decisions §38).
OPTIONS_PROOF_NOTE = ("; with the stability or fairness option on, 'better' and the gap are on the solver's "
                      "objective (its weighted score, less a penalty per missing fair exchange), not on the "
                      "total score")


def points(x: float | None) -> float | None:
    """Solver units (hundredths of a score point) as score points, 2 decimals."""
    return None if x is None else round(x / 100.0, 2)


def solver_versions() -> dict:
    """Versions that a reproducible result depends on (same versions, same proposals)."""
    out = {"python": platform.python_version(), "highs": highs_version()}
    for pkg in ("matchmaker", "numpy", "scipy", "ortools", "pandas"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - a missing distribution is reported, not fatal
            out[pkg] = "unknown"
    return out


def summary_head(rnd: Round, catalogue: Catalogue, problem: SolverInstance, config: SolveConfig) -> dict:
    """What ``summary.json`` says before the solve: the input, the limits, the versions, the catalogue."""
    cat = dict(visitors=catalogue.n_visitors, hosts=catalogue.n_hosts, eligible_pairs=int(catalogue.n_eligible),
               kept_pairs=int(catalogue.n_kept), pruned_min_score=int(catalogue.n_pruned_min_score),
               pruned_top_k=int(catalogue.n_pruned_top_k), top_k=int(catalogue.top_k),
               locked_pairs=int(problem.locked.sum()))
    return dict(round_dir=str(rnd.source) if rnd.source is not None else None, input_hash=rnd.input_hash,
                seed=config.seed, round={},
                solver=dict(time_limit_s=config.time_limit, work_limit=config.work_limit, prove_mode=config.prove,
                            catalogue=cat,
                            versions=solver_versions()),
                settings=json.loads(settings_json(rnd.settings)))


def _budgets(problem: SolverInstance, result: SolverResult) -> tuple[list[dict], dict]:
    """Each partnership's budget used (officer's part) and its LP price (solver's part)."""
    p, pairs = problem, result.pairs
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships)
    n = np.bincount(p.part[pairs], minlength=p.n_partnerships)
    used, prices = [], {}
    for q, name in enumerate(p.partnerships):
        used.append(dict(partnership=name, budget_eur=round(p.budget[q] / 100, 2), used_eur=round(spend[q] / 100, 2),
                         remaining_eur=round((p.budget[q] - spend[q]) / 100, 2), exchanges=int(n[q])))
        # score points one more euro of budget would be worth in the LP relaxation
        prices[name] = round(float(result.budget_duals[q]), 6)
    return used, prices


def officer_counts(proposals: pd.DataFrame, unmatched: pd.DataFrame) -> dict:
    """The officer's counts of the final tables: exchanges, visitors, unmatched visitors by reason in words.

    Every visitor of the round is in exactly one of the two tables, so ``visitors`` is their sum
    (``matchmaker round`` adds the visitors it skipped to ``unmatched`` before this is taken).
    """
    codes = unmatched["reason_code"] if "reason_code" in unmatched.columns else pd.Series("", index=unmatched.index)
    counts = codes.fillna("").astype(str).value_counts()
    by_reason = [dict(reason=reason_label(code), reason_code=code, visitors=int(n))
                 for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return dict(exchanges=int(len(proposals)), physical=int((proposals["mode"] == "physical").sum()),
                virtual=int((proposals["mode"] == "virtual").sum()),
                visitors=int(len(proposals) + len(unmatched)), visitors_unmatched=int(len(unmatched)),
                unmatched_by_reason=by_reason)


def outcome(problem: SolverInstance, result: SolverResult, proposals: pd.DataFrame, unmatched: pd.DataFrame,
            violations: list, times: dict, prove: bool = False,
            countries: pd.DataFrame | None = None) -> tuple[dict, dict]:
    """The officer's part and the solver's part after a solve (in this key order); ``prove``: a prove-mode run;
    ``countries``: ``Round.countries``, to name the countries of the fairness option's sentences."""
    st = result.stats
    used, prices = _budgets(problem, result)
    officer = dict(
        officer_counts(proposals, unmatched),
        total_score=round(float(proposals["score"].sum()), 2), total_score_note=TOTAL_SCORE_NOTE,
        proof=proof_text(result.status, result.gap, prove, clock_stopped=not st.get("reproducible", True))
        + (OPTIONS_PROOF_NOTE if problem.stability_weight > 0 or problem.fairness_share > 0 else ""),
        lump_sums_eur=round(float(proposals["lump_sum_eur"].sum()), 2), budgets=used,
        programme_budget_eur=None if problem.programme_budget is None else problem.programme_budget / 100,
        reproducible=bool(st.get("reproducible", True)), reproducible_note=reproducible_note(st, prove))
    officer = {k: officer[k] for k in ("exchanges", "physical", "virtual", "total_score", "total_score_note", "proof",
                                       "visitors", "visitors_unmatched", "unmatched_by_reason", "lump_sums_eur",
                                       "budgets", "programme_budget_eur", "reproducible", "reproducible_note")}
    fairness = fairness_shortfall(problem, proposals, countries)
    if fairness:  # only with solver.fairness_share > 0 (decisions §38)
        officer["fairness"] = fairness
    solver = dict(
        status=result.status, objective=points(result.objective), objective_kind=problem.objective,
        objective_note=objective_note(problem), bound=points(result.bound), gap=result.gap,
        within_mip_tolerance=within_mip_tolerance(result.gap),
        fairness_shortfall=int(st.get("shortfall", 0)), work_spent=st.get("work_spent"), budget_prices=prices,
        phases=[dict(ph, best=points(ph["best"]), bound=points(ph["bound"])) for ph in result.phases],
        times_s=times, solver_stats={k: (v.item() if isinstance(v, np.generic) else v) for k, v in st.items()})
    return officer, solver


def fill(summary: dict, officer: dict, solver: dict, **rest: object) -> None:
    """Put the two parts into ``summary`` (made by :func:`summary_head`), in place; ``rest`` at the top."""
    summary.setdefault("round", {}).update(officer)
    head = summary.get("solver", {})
    summary["solver"] = {**solver, **{k: v for k, v in head.items() if k not in solver}}
    settings = summary.pop("settings", None)
    if settings is not None:
        summary["settings"] = settings
    summary.update(rest)


def put_after_round(summary: dict, key: str, value: object) -> None:
    """Set ``summary[key] = value`` in place, placed right after the officer's ``round`` part."""
    items = [(k, v) for k, v in summary.items() if k != key]
    at = next((i + 1 for i, (k, _) in enumerate(items) if k == "round"), len(items))
    summary.clear()
    summary.update(items[:at] + [(key, value)] + items[at:])


def prove_line(time_limit: float | None) -> str:
    """What a prove-mode run will do, in words (said before it starts)."""
    until = ("with no time limit: it may take long (Ctrl+C stops it and writes no proposals)" if time_limit is None
             else f"or until the time limit of {time_limit:,.0f} s, which then stops the proof")
    return ("prove mode: after the usual search, the solver searches until the proposals are proven optimal, "
            f"{until}; each step prints the best total, the bound, the gap and the nodes still open")


def proof_text(status: str, gap: float | None, prove: bool = False, clock_stopped: bool = False) -> str:
    """How close to the best possible the proposals are, as the solver proved it, and whether
    that is within the usual 0.01 % tolerance of optimisation solvers (docs/decisions.md §33);
    ``prove``: a prove-mode run, which says whether it proved optimality (``clock_stopped``:
    the time limit stopped it)."""
    text = _proof(status, gap)
    if not prove:
        return text
    if status == "optimal":
        return f"prove mode, proven optimal: {text.removeprefix('optimal: ')}"
    why = "the time limit stopped the proof" if clock_stopped else "it stopped at solver.relative_gap"
    return f"prove mode, not proven optimal ({why}): {text}"


def _proof(status: str, gap: float | None) -> str:
    if gap == 0:
        return "optimal: the solver proved that no valid set of proposals does better"
    if gap is None:
        return "the solver found these proposals but proved no bound on how much better others could be"
    proved = f"the solver proved that no valid set of proposals does better by more than {100 * gap:.4f}% (its gap)"
    if status == "optimal":
        return f"optimal: {proved}, at most {100 * OPTIMAL_GAP:g}%"
    if within_mip_tolerance(gap):
        return (f"{proved}: within the usual {100 * MIP_TOLERANCE:g}% tolerance of optimisation solvers, "
                "but not proven optimal")
    return f"{proved}: more than the usual {100 * MIP_TOLERANCE:g}% tolerance of optimisation solvers"


def reproducible_note(stats: dict, prove: bool = False) -> str:
    """Whether the same input, settings and seed give the same proposals, in words (``prove``: a prove-mode run)."""
    if prove and stats.get("reproducible", True):
        return ("prove mode: the solver searched until the proposals were proven optimal, before any time limit, "
                "so the same input, settings and seed give the same proposals on any machine with the same "
                "package versions (summary.json's versions)")
    if prove:
        return (f"the time limit stopped the prove mode{_stopped_steps(stats)} before "
                "optimality was proven: not reproducible, a re-run may give different proposals; run it again "
                "without a time limit (no --time-limit, solver.time_limit_s = 0) to prove it")
    if stats.get("reproducible", True):
        return ("the solver stopped within its work limit: the same input, settings and seed give the same "
                "proposals on any machine with the same package versions (summary.json's versions)")
    return (f"the time limit stopped the solver{_stopped_steps(stats)} before its work limit, "
            "so a re-run may give different proposals; raise solver.time_limit_s or lower solver.work_limit "
            "for reproducible results")


def _stopped_steps(stats: dict) -> str:
    """" at the step 'searching for the proof'": the solver's steps the clock stopped, in words
    (:func:`matchmaker.proposals.wording.phase_words`); empty when none is named."""
    steps = [f"'{phase_words(step)}'" for step in stats.get("clock_stops", [])]
    return f" at the step{'s' if len(steps) > 1 else ''} {', '.join(steps)}" if steps else ""


def objective_note(p: SolverInstance) -> str:
    """What the solver's ``objective`` is, in words."""
    note = ("the total score of the proposals, each pair's score to a hundredth of a point as in proposals.csv "
            "(docs/decisions.md §23, §33): the officer part's total_score")
    if p.objective == "exchanges_then_score":
        note = ("most exchanges, then total score: objective = M x exchanges + total score, with M (in points) "
                "larger than any total score (docs/decisions.md §23)")
    if p.fairness_share > 0:
        note += "; minus a penalty larger than everything else per missing fair exchange"
    if p.stability_weight > 0:
        note += (f"; each pair counted as score x (score / 100) ** {p.stability_weight:g}, the stability option "
                 "(fewer blocking pairs, docs/decisions.md §38)")
    return note


def result_line(summary: dict) -> str:
    """The command's one line about a successful solve: the officer's figures, one total said what it is,
    and the proof in words (which says "optimal" when it is: the solver's status is not repeated before it)."""
    r = summary["round"]
    return (f"{r['exchanges']} exchanges ({r['physical']} physical, {r['virtual']} virtual), "
            f"total score {r['total_score']:,.2f} ({TOTAL_SCORE_NOTE}); {r['proof']}; "
            f"{r['visitors_unmatched']} visitors unmatched")
