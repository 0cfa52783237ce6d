"""The comparison methods, run on one round, and their table beside the optimiser's proposals."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matchmaker.common.errors import SettingsError
from matchmaker.compare.base import MethodResult, Setting
from matchmaker.compare.flow_cut import flow_then_budgets
from matchmaker.compare.ranked import registration_order, score_order
from matchmaker.compare.stable import stable_matching
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.quality.stability import blocking_pairs


@dataclass(frozen=True)
class Method:
    """A comparison method: its name in words and ``run(setting, notes) -> proposals``."""

    name: str
    run: Callable[[Setting, list], pd.DataFrame]


#: The comparison methods by key, in the order of the table.
METHODS: dict[str, Method] = {
    "ranked_registration_order": Method("ranked-list picking, in registration order", registration_order),
    "ranked_score_order": Method("ranked-list picking, highest score first", score_order),
    "stable_matching": Method("stable matching (hospital-resident), then cut to the budgets", stable_matching),
    "flow_then_budgets": Method("min-cost flow without budgets, then cut to the budgets", flow_then_budgets),
}


def _budget_total(rnd: Round) -> float:
    return float(rnd.partnerships["budget_eur"].astype(float).sum())


def compare_round(rnd: Round, catalogue: Catalogue, methods: Sequence[str] | None = None,
                  count_blocking: bool = True) -> dict[str, MethodResult]:
    """Match the round each other way, under the same rules and budgets.

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
        The round's catalogue (:func:`matchmaker.pairs.catalogue.build_catalogue`): the
        same eligible pairs, scores and lump sums as the optimiser's.
    methods : sequence of str, optional
        Keys of :data:`METHODS` (default: all, in that order).
    count_blocking : bool
        Count each method's blocking pairs (:func:`matchmaker.quality.stability.blocking_pairs`).

    Returns
    -------
    dict of str to MethodResult, by method key, in the order asked.

    Raises
    ------
    SettingsError
        An unknown method, or locked pairs that already break a rule.
    """
    keys = list(METHODS) if methods is None else list(methods)
    unknown = [k for k in keys if k not in METHODS]
    if unknown:
        raise SettingsError(f"unknown comparison method(s) {', '.join(unknown)}; the methods are "
                            f"{', '.join(METHODS)}")
    setting = Setting.build(rnd, catalogue)
    out = {}
    for key in keys:
        notes: list[str] = []
        t0 = time.perf_counter()
        proposals = METHODS[key].run(setting, notes)
        seconds = time.perf_counter() - t0
        blocking = len(blocking_pairs(rnd, catalogue, proposals)) if count_blocking else None
        out[key] = MethodResult(key, METHODS[key].name, proposals, round(seconds, 3), blocking,
                                _budget_total(rnd), notes)
    return out


def ours_result(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame, seconds: float) -> MethodResult:
    """The optimiser's proposals as a :class:`MethodResult` (with its blocking pairs), for :func:`comparison_table`."""
    return MethodResult("optimiser", "the optimiser (this product)", proposals, round(float(seconds), 3),
                        len(blocking_pairs(rnd, catalogue, proposals)), _budget_total(rnd))


def comparison_table(results: dict[str, MethodResult], ours: MethodResult) -> pd.DataFrame:
    """One row per method, the optimiser first, in the users' words.

    Columns: ``method, exchanges, physical, virtual, total score, budget used (EUR),
    budget used (%), blocking pairs, seconds, score vs ours, exchanges vs ours``; the
    ratios are the method's total score and exchanges divided by the optimiser's.
    """
    rows = []
    base = _figures(ours)
    for r in [ours, *results.values()]:
        f = _figures(r)
        rows.append({"method": r.name, **f,
                     "score vs ours": _ratio(f["total score"], base["total score"]),
                     "exchanges vs ours": _ratio(f["exchanges"], base["exchanges"])})
    return pd.DataFrame(rows)


def _figures(r: MethodResult) -> dict:
    df = r.proposals
    mode = df["mode"].astype(str)
    used = float(df["lump_sum_eur"].astype(float).sum())
    return {"exchanges": len(df), "physical": int((mode == "physical").sum()),
            "virtual": int((mode == "virtual").sum()), "total score": round(float(df["score"].astype(float).sum()), 2),
            "budget used (EUR)": round(used, 2),
            "budget used (%)": round(100 * used / r.budget_total_eur, 1) if r.budget_total_eur > 0 else np.nan,
            "blocking pairs": r.blocking_pairs, "seconds": r.seconds}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else np.nan
