"""The instance: a matching round's validated data, held in pandas tables.

A :class:`Round` is built only by :func:`matchmaker.inputs.loading.load_round` (or the
generator through it), so everything downstream can trust its types:

* ``visitors`` and ``hosts``: one row per registration in that role, index ``0..n-1``
  (the position used by every vectorised computation). Columns are those of
  ``registrations.csv`` parsed to Python/NumPy types: list columns hold tuples of
  codes, dates are ``datetime64[ns]``, booleans are ``bool``; plus ``source_row`` (the
  row number in the file; ``visitors`` leaves out the host-only columns ``capacity``,
  ``max_visitors``, ``grouped`` and ``hosts`` the visitor-only ``already_visited``;
  optional columns left empty hold ``()``, ``NaN`` or ``""``) and, after partnership
  selection, ``partnership`` (the
  resolved id), ``partnership_requested`` (what the file said) and
  ``partnership_reason``.
* ``partnerships``: index ``partnership_id``; ``name``, ``sectors``,
  ``member_countries`` (tuples), ``budget_eur`` (float).
* ``countries``: index ``country``; ``name``, ``cosme`` (bool), ``lump_sum_eur``.
* ``decisions``: ``visitor_id``, ``host_id``, ``decision`` (``lock``/``forbid``),
  ``comment``, ``source_row``.
* ``settings``: the checked settings dict (:mod:`matchmaker.inputs.settings`).
* ``warnings``: non-blocking :class:`~matchmaker.common.errors.Problem` s found on loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import Problem


@dataclass
class Round:
    """A validated matching round (see module docstring for the tables)."""

    visitors: pd.DataFrame
    hosts: pd.DataFrame
    partnerships: pd.DataFrame
    countries: pd.DataFrame
    decisions: pd.DataFrame
    settings: dict
    source: Path | None = None
    input_hash: str = ""
    warnings: list[Problem] = field(default_factory=list)

    @property
    def n_visitors(self) -> int:
        return len(self.visitors)

    @property
    def n_hosts(self) -> int:
        return len(self.hosts)

    def visitor_index(self) -> dict[str, int]:
        """``org_id`` -> row position in :attr:`visitors`."""
        return dict(zip(self.visitors["org_id"], range(len(self.visitors))))

    def host_index(self) -> dict[str, int]:
        """``org_id`` -> row position in :attr:`hosts`."""
        return dict(zip(self.hosts["org_id"], range(len(self.hosts))))

    def pair_decisions(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Visitor and host positions of the decisions of ``kind`` (``lock``/``forbid``)."""
        d = self.decisions[self.decisions["decision"] == kind]
        vi, hi = self.visitor_index(), self.host_index()
        v = np.array([vi[x] for x in d["visitor_id"]], dtype=np.int64)
        h = np.array([hi[x] for x in d["host_id"]], dtype=np.int64)
        return v, h
