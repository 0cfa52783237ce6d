"""The proposals' columns: one specification read by every part that handles proposals.

:data:`PROPOSALS` lists the columns of ``proposals.csv`` (docs/design.md), each a
:class:`ProposalColumn`: its name, type, whether it is required, the text that documents
it, and which parts use it:

* the output writer (:func:`matchmaker.proposals.table.proposals_table`) builds its table with
  :func:`output_frame`, in :func:`output_columns` order, rounded as ``decimals`` says;
* the validator's reader (:mod:`matchmaker.proposals.reading`) reads and types the
  ``validated`` columns (:data:`VALIDATED`) and any ``score_<criterion>`` column;
* the ledger (:mod:`matchmaker.ledger.store`, :mod:`matchmaker.proposals.solution`)
  checks, stores and reads back the ``stored`` columns (:data:`STORED`); its SQL table
  (:mod:`matchmaker.ledger.tables`) declares the same columns, which a test checks;
* the review grid (:mod:`matchmaker.ui.pairs_grid`) shows the ``grid`` columns.

The per-criterion columns ``score_<criterion>`` come from the criteria registry
(:data:`matchmaker.criteria.registry.SCORE_COLUMNS`) and follow ``score``; the columns
marked ``after_scores`` come after them.

``proposals.csv`` has no ``status`` column: every pair a solve writes is proposed, and
``locked`` says which the round's ``decisions.csv`` fixed; a pair's status (proposed,
accepted, locked, rejected, withdrawn) comes from the ledger's decisions and is in its
views and exports (docs/decisions.md §31).

Adding an export column: one :class:`ProposalColumn` here, its values in
:func:`matchmaker.proposals.table.proposals_table`, and (when ``stored``) its SQL column in
:mod:`matchmaker.ledger.tables`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from matchmaker.common.schema import EXCHANGE_MODES, SCORE_PREFIX, Column
from matchmaker.criteria.registry import SCORE_COLUMNS

#: Decimals of the ``score_<criterion>`` columns in ``proposals.csv``.
SCORE_DECIMALS = 4


@dataclass(frozen=True)
class ProposalColumn(Column):
    """One column of ``proposals.csv`` (the fields of :class:`~matchmaker.common.schema.Column`, and).

    Parameters
    ----------
    decimals : int or None
        The writer rounds a number column to this many decimals.
    validated : bool
        The validator reads and checks the column (``matchmaker check``).
    stored : bool
        The ledger keeps it in a column of its ``proposals`` table.
    grid : bool
        The review grid shows it.
    after_scores : bool
        It comes after the ``score_<criterion>`` columns (in the file and the ledger).
    """

    decimals: int | None = None
    validated: bool = True
    stored: bool = True
    grid: bool = True
    after_scores: bool = False


#: A column of words derived from the round (countries' names, the host's partnership, the dates in words):
#: written for people, neither read by the validator nor stored by the ledger (whoever shows the
#: ledger's rows words them with :mod:`matchmaker.proposals.wording`).
WORDS = dict(validated=False, stored=False, grid=False)

#: The columns of ``proposals.csv``, in file order (the score columns follow ``score``).
PROPOSALS: tuple[ProposalColumn, ...] = (
    ProposalColumn("visitor_id", "str", True, "`org_id` of the visitor.", "ORG-0001"),
    ProposalColumn("visitor_name", "str", False, "Checked against the registration when given.",
                   "Clúster Textil Valencià"),
    ProposalColumn("visitor_country", "str", False, "Checked against the registration when given.", "ES"),
    ProposalColumn("visitor_country_name", "str", False, "The visitor's country in words (countries.csv `name`).",
                   "Spain", **WORDS),
    ProposalColumn("host_id", "str", True, "`org_id` of the host.", "ORG-0420"),
    ProposalColumn("host_name", "str", False, "Checked against the registration when given.", "Cluster Têxtil Porto"),
    ProposalColumn("host_country", "str", False, "Checked against the registration when given.", "PT"),
    ProposalColumn("host_country_name", "str", False, "The host's country in words (countries.csv `name`).",
                   "Portugal", **WORDS),
    ProposalColumn("host_partnership", "str", False, "The host's partnership (it signs the Commitment to Quality; "
                   "the visitor's partnership pays).", "BRILLIANT", **WORDS),
    ProposalColumn("mode", "code", True, "Mode of the exchange: `physical` or `virtual`.", "physical",
                   vocabulary="exchange_mode"),
    ProposalColumn("start_date", "date", True, "First day of the exchange (ISO date).", "2027-03-01"),
    ProposalColumn("end_date", "date", True, "Last day of the exchange (ISO date).", "2027-03-12"),
    ProposalColumn("working_days", "int", True, "Length of the stay in working days (virtual: days, one a week).",
                   "10", minimum=0),
    ProposalColumn("schedule", "str", False, "The dates in words: physical, consecutive working days on site; "
                   "virtual, one day a week for as many weeks (docs/decisions.md §3).",
                   "10 working days in a row on site, 1 Mar 2027 to 12 Mar 2027", **WORDS),
    ProposalColumn("distance_km", "float", False, "Great-circle distance between the two, km; empty for a virtual "
                   "exchange (nobody travels).", "724.2", minimum=0, decimals=1),
    ProposalColumn("lump_sum_eur", "float", True, "Lump sum of the visitor, EUR.", "780", minimum=0, decimals=2),
    ProposalColumn("partnership", "str", True, "The visitor's (paying) partnership.", "CLAMTEX", grid=False),
    # to the hundredth the solver counts (docs/decisions.md §23), so the scores add up to its objective (§33)
    ProposalColumn("score", "float", False, "Score of the pair, out of 100 (0-100), to a hundredth of a point.",
                   "72.5", minimum=0, decimals=2),
    ProposalColumn("locked", "bool", False, "Whether decisions.csv locks the pair.", "false", after_scores=True),
)

#: Vocabularies of the proposals' code columns.
VOCABULARIES: dict[str, tuple[str, ...]] = {"exchange_mode": EXCHANGE_MODES}


def names(columns: Iterable[Column]) -> tuple[str, ...]:
    """The names of ``columns``, in order."""
    return tuple(c.name for c in columns)


#: Columns every proposals table must have.
REQUIRED = names(c for c in PROPOSALS if c.required is True)
#: Columns read as text (never as numbers or missing values).
TEXT = names(c for c in PROPOSALS if c.type in ("str", "code"))
#: The columns the validator reads (besides ``score_<criterion>``).
VALIDATED = tuple(c for c in PROPOSALS if c.validated)
#: Columns the ledger stores in its ``proposals`` table (the scores go into ``score_breakdown``).
STORED = names(c for c in PROPOSALS if c.stored)
#: Columns before the ``score_<criterion>`` columns, and after them.
BEFORE_SCORES = names(c for c in PROPOSALS if not c.after_scores)
AFTER_SCORES = names(c for c in PROPOSALS if c.after_scores)
#: The review grid's columns before the reviewers' decision columns, and after them.
GRID_BEFORE_DECISIONS = names(c for c in PROPOSALS if c.grid and not c.after_scores)
GRID_AFTER_DECISIONS = names(c for c in PROPOSALS if c.grid and c.after_scores)

BY_NAME: dict[str, ProposalColumn] = {c.name: c for c in PROPOSALS}


def score_column(name: str) -> ProposalColumn:
    """The spec of a ``score_<criterion>`` column: score points, kept in the ledger's ``score_breakdown``."""
    if not name.startswith(SCORE_PREFIX):
        raise ValueError(f"{name!r} is not a score column (they start with {SCORE_PREFIX!r})")
    return ProposalColumn(name, "float", False, "Score points of one criterion.", "12.5", minimum=0,
                          decimals=SCORE_DECIMALS, stored=False, grid=False)


def output_columns() -> tuple[ProposalColumn, ...]:
    """The columns the writer gives ``proposals.csv``: :data:`PROPOSALS` with the registry's score columns."""
    scores = tuple(score_column(c) for c in SCORE_COLUMNS)
    return (*(BY_NAME[c] for c in BEFORE_SCORES), *scores, *(BY_NAME[c] for c in AFTER_SCORES))


def output_frame(values: Mapping[str, object]) -> pd.DataFrame:
    """The proposals table from each column's values, in :func:`output_columns` order, numbers rounded.

    Raises
    ------
    KeyError
        When ``values`` lacks a column of :func:`output_columns`.
    """
    columns = output_columns()
    missing = [c.name for c in columns if c.name not in values]
    if missing:
        raise KeyError(f"proposals: no values for column(s) {', '.join(missing)}")
    out = pd.DataFrame({c.name: values[c.name] for c in columns})
    for c in columns:
        if c.decimals is not None:
            out[c.name] = out[c.name].round(c.decimals)
    return out
