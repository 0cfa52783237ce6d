"""What the accepted exchanges leave of the budgets for the next round.

The lump sums of the ledger's accepted exchanges (:meth:`Ledger.accepted_exchanges
<matchmaker.ledger.store.Ledger.accepted_exchanges>`) are committed: each partnership's
``budget_eur`` and the programme's ``solver.programme_budget_eur`` are reduced by them
(never below 0, or 0.01 for a programme budget that is set), with a warning where
nothing is left. :func:`matchmaker.ledger.carry_over.plan_carry_over` uses them.
"""

from __future__ import annotations

import pandas as pd

from matchmaker.common.errors import Problem

LEDGER = "ledger"  # the "file" named in problems found in the ledger's decisions


def committed_eur(accepted: pd.DataFrame) -> pd.Series:
    """Lump sums committed by the accepted exchanges, per partnership."""
    return accepted.groupby("partnership")["lump_sum_eur"].sum() if len(accepted) else pd.Series(dtype=float)


def remaining_budgets(partnerships: pd.DataFrame, committed: pd.Series) -> tuple[pd.DataFrame, list[Problem]]:
    """What each partnership may still spend: its ``budget_eur`` less its committed lump sums.

    Returns
    -------
    budgets : DataFrame
        Index ``partnership_id``: ``budget_eur``, ``committed_eur`` and ``remaining_eur``
        (never below 0).
    warnings : list of Problem
        Sums committed by a partnership that ``partnerships`` does not list (not
        counted), and partnerships that have committed more than their budget.
    """
    warnings = []
    budgets = partnerships[["budget_eur"]].astype(float).copy()
    for p, eur in committed.items():
        if p not in budgets.index:
            warnings.append(Problem(LEDGER, None, "partnership", str(p), f"EUR {eur:,.2f} committed by accepted "
                                    "exchanges of a partnership that partnerships.csv does not list: not counted"))
    budgets["committed_eur"] = committed.reindex(budgets.index).fillna(0.0).round(2)
    over = budgets["committed_eur"] > budgets["budget_eur"]
    for p in budgets.index[over]:
        warnings.append(Problem("partnerships.csv", None, "budget_eur", f"{budgets.at[p, 'budget_eur']:.2f}",
                                f"partnership {p} has already committed EUR {budgets.at[p, 'committed_eur']:,.2f}, "
                                "more than its budget: nothing is left for this round", "warning"))
    budgets["remaining_eur"] = (budgets["budget_eur"] - budgets["committed_eur"]).clip(lower=0.0).round(2)
    budgets.index.name = "partnership_id"
    return budgets, warnings


def remaining_programme_budget(settings: dict, committed: pd.Series) -> tuple[float, list[Problem]]:
    """``solver.programme_budget_eur`` less the committed total, and a warning when nothing is left.

    0 (no programme-wide limit) stays 0; a budget that is set never drops below EUR 0.01.
    """
    programme = float(settings.get("solver", {}).get("programme_budget_eur", 0.0) or 0.0)
    total = float(committed.sum()) if len(committed) else 0.0
    warnings = []
    if programme > 0:
        if total >= programme:
            warnings.append(Problem("settings", None, "solver.programme_budget_eur", f"{programme:.2f}",
                                    f"EUR {total:,.2f} already committed: nothing is left for this round "
                                    "(the round is solved with a programme budget of EUR 0.01)", "warning"))
        programme = max(round(programme - total, 2), 0.01)
    return programme, warnings
