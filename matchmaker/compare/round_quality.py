"""The comparison and stability parts of every round's match quality (``summary.json``'s ``match_quality``).

:func:`quality_parts` is called by :func:`matchmaker.run.run_round` once the proposals are
checked, and returns the two parts that :func:`matchmaker.quality.metrics.match_quality`
carries as they are:

``stability``
    The proposals' blocking pairs (:func:`matchmaker.quality.stability.blocking_pairs`):
    ``blocking_pairs`` (the count), ``definition`` (one sentence), ``summary`` (one sentence)
    and ``top``: the :data:`TOP_BLOCKING` pairs with the largest total gain, in words.
``comparison``
    The same round matched the other ways of :data:`matchmaker.compare.registry.METHODS`
    under the same rules and budgets, side by side with the proposals: ``summary`` (one
    sentence), ``note`` (what the figures are), ``methods`` (one row per way, the optimiser
    first: exchanges, score, budget use, blocking pairs, seconds, ratios to the optimiser's,
    notes in words), ``skipped`` (a way not run and why) and ``seconds`` (the whole comparison).

The settings' ``[quality]`` table decides what runs (docs/decisions.md §42): ``compare =
false`` leaves out the comparison (the summary says so), and stable matching, pure Python
and the slow one, is skipped above ``stable_matching_max_pairs`` pairs in the catalogue
(the summary says so too). All of it runs after the solver, so it takes nothing from its
work or time limit and never changes the proposals.
"""

from __future__ import annotations

import time

import pandas as pd

from matchmaker.compare.base import MethodResult, Setting
from matchmaker.compare.registry import METHODS, comparison_table
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.quality.stability import blocking_pairs

#: How many blocking pairs ``stability.top`` lists.
TOP_BLOCKING = 10
#: The definition of a blocking pair, in one sentence (docs/decisions.md §37).
DEFINITION = ("a blocking pair is a visitor and a host, not proposed together, who could be within the rules and "
              "the budgets and would both gain: the visitor scores higher with this host than in its proposal (or "
              "has none), and the host has room on those dates or would release its lowest-scoring visitor for a "
              "higher score; the other proposals stay as they are")
#: What the comparison's figures are.
COMPARISON_NOTE = ("each way matches the same pairs (same scores and lump sums) under the same rules and budgets, "
                   "with dates from the same scheduler, so the validator accepts its proposals; the ratios are its "
                   "figure divided by the optimiser's; seconds are each way's own time (the optimiser's: its solver "
                   "time), measured after the solve, outside the solver's work and time limit")
#: comparison_table's columns -> the keys of a ``methods`` row.
ROW_KEYS = {"method": "method", "exchanges": "exchanges", "physical": "physical", "virtual": "virtual",
            "total score": "total_score", "budget used (EUR)": "budget_used_eur",
            "budget used (%)": "budget_used_percent", "blocking pairs": "blocking_pairs", "seconds": "seconds",
            "score vs ours": "score_vs_ours", "exchanges vs ours": "exchanges_vs_ours"}


def stability_part(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame,
                   top: int = TOP_BLOCKING) -> dict:
    """The proposals' blocking pairs: count, definition, one sentence and the ``top`` largest in words.

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
        The round's catalogue (its pairs are the candidates).
    proposals : DataFrame
        In ``proposals.csv``'s columns.
    top : int
        How many blocking pairs to list (the largest total gain first).

    Returns
    -------
    dict
        JSON-ready: ``blocking_pairs``, ``summary``, ``definition``, ``top`` (rows: ``visitor``,
        ``host``, ``current_host``, ``visitor_gain``, ``host_gain``, ``host_would_release``,
        ``dates``, ``score``).
    """
    bp = blocking_pairs(rnd, catalogue, proposals)
    hosts = _names(rnd.hosts)
    visitors = _names(rnd.visitors)
    rows = [{"visitor": f"{r.visitor_name} ({r.visitor_id})", "host": f"{r.host_name} ({r.host_id})",
             "current_host": hosts.get(r.current_host_id, "none (no proposal)"),
             "visitor_gain": round(float(r.visitor_gain), 2), "host_gain": round(float(r.host_gain), 2),
             "host_would_release": visitors.get(r.host_would_release, "nobody (it has room)"),
             "dates": f"{_day(r.start_date)} to {_day(r.end_date)}", "score": round(float(r.score), 2)}
            for r in bp.head(top).itertuples()]
    return {"blocking_pairs": len(bp), "summary": _stability_summary(bp, len(rows)), "definition": DEFINITION,
            "top": rows}


def _day(iso: str) -> str:
    """``2027-08-03`` as ``3 Aug 2027``."""
    day = pd.Timestamp(iso)
    return f"{day.day} {day:%b %Y}"


def _names(orgs: pd.DataFrame) -> dict[str, str]:
    """Organisation id -> ``name (id)``."""
    ids = orgs["org_id"].astype(str)
    return dict(zip(ids, orgs["name"].astype(str) + " (" + ids + ")"))


def _stability_summary(bp: pd.DataFrame, listed: int) -> str:
    if bp.empty:
        return "no blocking pairs: no visitor and host who are not proposed together would both rather be"
    unmatched = int((bp["current_host_id"] == "").sum())
    visitors = bp["visitor_id"].nunique()
    best = bp.iloc[0]
    without = f", {unmatched:,} of them with a visitor who has no proposal" if unmatched else ""
    return (f"{_count(len(bp), 'blocking pair')} ({_count(visitors, 'visitor')} involved{without}); the largest: "
            f"{best['visitor_name']} with {best['host_name']} (the visitor would gain {best['visitor_gain']:.2f} "
            f"points, the host {best['host_gain']:.2f}); the {_count(listed, 'largest')} listed here; notebook 02 "
            "offers every blocking pair as an alternative worth a look")


def _count(n: int, word: str) -> str:
    """``1 visitor``, ``3 visitors`` (``largest`` stays as it is)."""
    return f"{n:,} {word}" + ("" if n == 1 or word == "largest" else "s")


def _skipped(rnd: Round, catalogue: Catalogue) -> dict[str, str]:
    """The ways the settings leave out, and why, in words."""
    q = rnd.settings["quality"]
    if not q["compare"]:
        return {key: "quality.compare is false in the settings" for key in METHODS}
    limit, pairs = int(q["stable_matching_max_pairs"]), len(catalogue.pairs)
    if limit and pairs > limit:
        return {"stable_matching": f"the round has {pairs:,} pairs, more than quality.stable_matching_max_pairs "
                                   f"= {limit:,} (stable matching is slow on big rounds)"}
    return {}


def _run_methods(rnd: Round, catalogue: Catalogue, keys: list[str], skipped: dict[str, str]) -> list[MethodResult]:
    """Each way in ``keys``, with its blocking pairs; a way that fails goes to ``skipped`` with its error."""
    setting = Setting.build(rnd, catalogue)
    budget = float(rnd.partnerships["budget_eur"].astype(float).sum())
    out = []
    for key in keys:
        notes: list[str] = []
        t0 = time.perf_counter()
        try:
            proposals = METHODS[key].run(setting, notes)
        except Exception as exc:  # noqa: BLE001 - the round's proposals stand; the summary says what failed
            skipped[key] = f"it stopped with an error ({exc})"
            continue
        seconds = round(time.perf_counter() - t0, 3)
        out.append(MethodResult(key, METHODS[key].name, proposals, seconds,
                                len(blocking_pairs(rnd, catalogue, proposals)), budget, notes))
    return out


def comparison_part(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame, solver_seconds: float,
                    blocking: int) -> dict:
    """The round matched the other ways, side by side with the optimiser's proposals.

    Parameters
    ----------
    rnd : Round
        The round (its settings' ``[quality]`` table decides which ways run).
    catalogue : Catalogue
    proposals : DataFrame
        The optimiser's proposals (``proposals.csv``'s columns).
    solver_seconds : float
        The optimiser's solver time.
    blocking : int
        The optimiser's blocking pairs (:func:`stability_part`).

    Returns
    -------
    dict
        JSON-ready: ``summary``, ``note``, ``methods``, ``skipped``, ``seconds`` (module docstring).
    """
    t0 = time.perf_counter()
    skipped = _skipped(rnd, catalogue)
    results = _run_methods(rnd, catalogue, [k for k in METHODS if k not in skipped], skipped)
    budget = float(rnd.partnerships["budget_eur"].astype(float).sum())
    ours = MethodResult("optimiser", "the optimiser (this product)", proposals, round(float(solver_seconds), 3),
                        blocking, budget)
    table = comparison_table({r.key: r for r in results}, ours).rename(columns=ROW_KEYS)
    table = table.astype(object).where(table.notna(), None)
    notes = [""] + ["; ".join(r.notes) for r in results]
    rows = [{**{k: _plain(v) for k, v in row.items()}, "notes": n} for row, n in zip(table.to_dict("records"), notes)]
    gone = [{"method": METHODS[k].name, "reason": why} for k, why in skipped.items()]
    return {"summary": _comparison_summary(rows, gone), "note": COMPARISON_NOTE, "methods": rows, "skipped": gone,
            "seconds": round(time.perf_counter() - t0, 3)}


def _plain(value: object) -> object:
    """NumPy scalars as Python numbers (JSON)."""
    return value.item() if hasattr(value, "item") else value


def _comparison_summary(rows: list[dict], skipped: list[dict]) -> str:
    ours = rows[0]
    head = (f"the optimiser: {ours['exchanges']:,} exchanges, total score {ours['total_score']:,.2f}, "
            f"{_count(ours['blocking_pairs'], 'blocking pair')}")
    others = rows[1:]
    if others:
        best = max(others, key=lambda r: (r["total_score"], r["exchanges"]))
        head += (f"; the best of the {_count(len(others), 'other way')} run, {best['method']}: {best['exchanges']:,} "
                 f"exchanges, total score {best['total_score']:,.2f} ({_share(best['score_vs_ours'])} of the "
                 f"optimiser's), {_count(best['blocking_pairs'], 'blocking pair')}")
    else:
        head += "; no other way was run"
    by_reason: dict[str, list[str]] = {}
    for s in skipped:
        by_reason.setdefault(s["reason"], []).append(s["method"])
    for reason, methods in by_reason.items():
        head += f"; not run: {', '.join(methods)}, because {reason}"
    return head


def _share(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.1%}"  # one decimal: 100.1 % must not read as 100 %


def quality_parts(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame, solver_seconds: float) -> dict:
    """``stability`` and ``comparison`` of a round's match quality (module docstring), for
    :func:`matchmaker.quality.metrics.match_quality`'s keyword arguments.

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
        The round's catalogue, as solved.
    proposals : DataFrame
        The optimiser's proposals, checked by the validator (``proposals.csv``'s columns).
    solver_seconds : float
        The optimiser's solver time (for the comparison's ``seconds``).

    Returns
    -------
    dict
        ``{"comparison": dict, "stability": dict}``, JSON-ready.
    """
    stability = stability_part(rnd, catalogue, proposals)
    comparison = comparison_part(rnd, catalogue, proposals, solver_seconds, stability["blocking_pairs"])
    return {"comparison": comparison, "stability": stability}
