"""Money of the exchanges: what each Partnership has reserved, committed, paid and released.

Each exchange's lump sum (paid by the visitor's Partnership) is, by its state
(:func:`matchmaker.ledger.steps.exchange_pipeline`):

* **reserved**: the pair is accepted (or locked) and its Financial Agreement is not signed yet;
* **committed**: ``fa_signed``, ``started`` or ``completed``: the agreement binds the Partnership;
* **paid**: ``reported``: the FAQ pays the lump sum on the visitor's closing report, so an
  exchange counts as paid once it is reported (``completed`` alone is still committed);
* **released**: ``withdrawn``, at any step: nothing is or will be paid.

A virtual exchange has no lump sum (EUR 0 in every column). The next matching round
(:mod:`matchmaker.ledger.carry_over`) takes off each Partnership's budget every lump sum of
an accepted exchange that is not released: reserved, committed and paid alike. Locked pairs
are spent inside each round's solve instead (they are proposed again); :func:`statement`
lists them as reserved, so its ``remaining_eur`` is what new pairs may still use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.ledger.steps import exchange_pipeline
from matchmaker.ledger.store import Ledger

#: Money columns of a statement, in order.
MONEY_COLUMNS = ["reserved_eur", "committed_eur", "paid_eur", "released_eur"]
#: Columns of :func:`statement`'s ``exchanges`` table.
STATEMENT_COLUMNS = ["visitor_id", "visitor_name", "host_id", "host_name", "mode", "start_date", "end_date",
                     "state", "state_words", "lump_sum_eur", "money", *MONEY_COLUMNS]

#: An exchange's state -> where its lump sum is.
MONEY_OF_STATE = {"accepted": "reserved", "locked": "reserved", "ctq_drafted": "reserved",
                  "signed_by_host": "reserved", "signed_by_visitor": "reserved",
                  "validated_by_partnership": "reserved", "validated_by_support_office": "reserved",
                  "validated_by_ec": "reserved", "fa_signed": "committed", "started": "committed",
                  "completed": "committed", "reported": "paid", "withdrawn": "released"}


def money_status(pipeline: pd.DataFrame) -> pd.Series:
    """Where each exchange's lump sum is: ``reserved``, ``committed``, ``paid``, ``released``, or ``none``
    (the pair was rejected or reopened after its chain ended without a withdrawal)."""
    status = pipeline["state"].map(MONEY_OF_STATE).fillna("none")
    gone = pipeline["decision"].isna() & ~status.isin(["released", "paid"])
    return status.mask(gone, "none")


def statement(ledger: Ledger, partnership: str, budget_eur: float | None = None) -> dict:
    """A Partnership's statement: its budget, and each exchange it pays with where the lump sum is.

    Parameters
    ----------
    ledger : Ledger
    partnership : str
        The paying (visitor's) Partnership.
    budget_eur : float, optional
        Its budget (``budget_eur`` of the round's partnerships.csv); when missing,
        ``budget_eur`` and ``remaining_eur`` are NaN.

    Returns
    -------
    dict
        ``partnership``, ``budget_eur``, ``reserved_eur``, ``committed_eur``,
        ``paid_eur``, ``released_eur``, ``remaining_eur`` (budget less reserved,
        committed and paid) and ``exchanges``: a DataFrame of :data:`STATEMENT_COLUMNS`,
        one row per exchange (``money`` says where its lump sum is).
    """
    pipe = exchange_pipeline(ledger)
    pipe = pipe[pipe["partnership"] == str(partnership)].reset_index(drop=True)
    rows = pipe.assign(money=money_status(pipe))
    lump = pd.to_numeric(rows["lump_sum_eur"], errors="coerce").fillna(0.0).astype(float)
    rows["lump_sum_eur"] = lump
    for col in MONEY_COLUMNS:
        rows[col] = np.where(rows["money"] == col.removesuffix("_eur"), lump, 0.0)
    totals = {col: round(float(rows[col].sum()), 2) for col in MONEY_COLUMNS}
    budget = float("nan") if budget_eur is None else round(float(budget_eur), 2)
    spent = totals["reserved_eur"] + totals["committed_eur"] + totals["paid_eur"]
    return {"partnership": str(partnership), "budget_eur": budget, **totals,
            "remaining_eur": round(budget - spent, 2), "exchanges": rows[STATEMENT_COLUMNS]}


def statement_table(result: dict) -> pd.DataFrame:
    """A statement as one table for a CSV file: one row per exchange, then a ``total`` row with the budget."""
    rows = result["exchanges"].copy()
    total = {"visitor_id": "total", "state_words": f"budget EUR {result['budget_eur']:,.2f}, remaining EUR "
                                                  f"{result['remaining_eur']:,.2f}",
             "lump_sum_eur": float(rows["lump_sum_eur"].sum()), **{c: result[c] for c in MONEY_COLUMNS}}
    return pd.concat([rows, pd.DataFrame([total])], ignore_index=True)[STATEMENT_COLUMNS]


def describe_statement(result: dict) -> str:
    """A statement in a few lines, for the command line."""
    head = (f"Partnership {result['partnership']}: budget EUR {result['budget_eur']:,.2f}; reserved EUR "
            f"{result['reserved_eur']:,.2f}, committed EUR {result['committed_eur']:,.2f}, paid EUR "
            f"{result['paid_eur']:,.2f}, released EUR {result['released_eur']:,.2f}; remaining EUR "
            f"{result['remaining_eur']:,.2f}")
    lines = [head, f"{len(result['exchanges'])} exchange(s):"]
    for r in result["exchanges"].to_dict("records"):
        mode = r["mode"] or "mode not proposed"
        money = ("no lump sum (a virtual exchange)" if r["mode"] == "virtual" else
                 f"lump sum EUR {r['lump_sum_eur']:,.2f} {r['money']}")
        lines.append(f"  visitor {r['visitor_id']} with host {r['host_id']} ({mode}): {r['state_words']}; {money}")
    return "\n".join(lines)
