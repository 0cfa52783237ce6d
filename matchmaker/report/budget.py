"""What each Partnership spends of its budget in a solved round, for the report, the notebooks and the plots.

:func:`budget_use` (:func:`round_budget_use` for a solved round) is the table (by Partnership id,
with the Partnership's name) that :func:`matchmaker.report.plots.budget_figure` draws;
:func:`budget_words` is the same table for people. Re-exported by :mod:`matchmaker.report.tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.proposals.wording import partnership_labels, percent_text
from matchmaker.quality.metrics import round_budgets


def budget_use(proposals: pd.DataFrame, budgets: pd.Series, committed: pd.Series | None = None,
               names: dict[str, str] | None = None) -> pd.DataFrame:
    """What each partnership spends on its visitors' lump sums.

    Parameters
    ----------
    proposals : DataFrame
        ``partnership`` and ``lump_sum_eur`` per proposed pair.
    budgets : Series
        ``budget_eur`` per partnership id (``Round.partnerships["budget_eur"]``: the
        budget the round was solved with).
    committed : Series, optional
        Lump sums already committed by accepted exchanges of earlier rounds, per
        partnership (:meth:`matchmaker.ledger.store.Ledger.committed_lump_sums`).
    names : dict, optional
        Each Partnership's id -> its name in words
        (:func:`matchmaker.proposals.wording.partnership_labels` of ``Round.partnerships``).

    Returns
    -------
    DataFrame
        Index ``partnership``; ``name`` (the Partnership's name, its id without ``names``),
        ``exchanges``, ``budget_eur``, ``committed_eur``, ``proposed_eur``, ``remaining_eur``
        (budget less committed less proposed) and ``used_share`` (committed plus proposed
        over budget; NaN for a zero budget). Every partnership of ``budgets`` is listed,
        plus any that has proposals without a budget (budget 0), sorted by name (case aside).
    """
    missing = [c for c in ("partnership", "lump_sum_eur") if c not in proposals.columns]
    if missing:
        raise ValueError(f"proposals lacks column(s) {', '.join(missing)} "
                         f"(has: {', '.join(map(str, proposals.columns)) or 'none'})")
    spent = proposals.groupby("partnership")["lump_sum_eur"].agg(["count", "sum"])
    names = names or {}
    ids = set(map(str, budgets.index)) | set(map(str, spent.index))
    index = sorted(ids, key=lambda q: (names.get(q, q).casefold(), q))
    out = pd.DataFrame(index=pd.Index(index, name="partnership"))
    out["name"] = [names.get(q, q) for q in index]
    out["exchanges"] = spent["count"].reindex(index).fillna(0).astype(int)
    out["budget_eur"] = budgets.rename(index=str).reindex(index).fillna(0.0).astype(float)
    com = committed.rename(index=str) if committed is not None else pd.Series(dtype=float)
    out["committed_eur"] = com.reindex(index).fillna(0.0).astype(float)
    out["proposed_eur"] = spent["sum"].reindex(index).fillna(0.0).astype(float).round(2)
    out["remaining_eur"] = (out["budget_eur"] - out["committed_eur"] - out["proposed_eur"]).round(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (out["committed_eur"] + out["proposed_eur"]) / out["budget_eur"].where(out["budget_eur"] > 0)
    out["used_share"] = share.astype(float)
    return out


#: The columns of :func:`budget_use` in words (:func:`budget_words`).
BUDGET_WORDS = {"name": "Partnership", "exchanges": "exchanges", "budget_eur": "budget (EUR)",
                "committed_eur": "committed earlier (EUR)", "proposed_eur": "proposed this round (EUR)",
                "remaining_eur": "remaining (EUR)", "used_share": "budget used"}


def budget_words(budget: pd.DataFrame) -> pd.DataFrame:
    """:func:`budget_use` for people: the Partnership's name, amounts in EUR, the share used in percent
    with one decimal (never rounded up to 100%: :func:`~matchmaker.proposals.wording.percent_text`)."""
    out = budget.reset_index(drop=True)[[c for c in BUDGET_WORDS if c in budget.columns]].copy()
    for c in ("budget_eur", "committed_eur", "proposed_eur", "remaining_eur"):
        out[c] = out[c].round(2)
    out["used_share"] = out["used_share"].map(percent_text)
    return out.rename(columns=BUDGET_WORDS)


def round_budget_use(summary: dict, proposals: pd.DataFrame, rnd: Round) -> pd.DataFrame:
    """:func:`budget_use` of a solved round, against the budgets it was solved with and what earlier
    rounds had committed (:func:`matchmaker.quality.metrics.round_budgets`: from ``summary.json`` for a
    round carried over from the ledger, else ``partnerships.csv``), with the Partnerships' names."""
    budgets, committed = round_budgets(rnd, summary)
    return budget_use(proposals, budgets, committed, partnership_labels(rnd.partnerships))
