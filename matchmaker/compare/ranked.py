"""Ranked-list picking: the old practice, where applicants take their best available counterpart in turn.

The IT Tool showed each applicant a ranked list of counterparts and applicants picked.
Two orders of picking, both under every rule of the round (the same catalogue, the
host's places and same-day capacity, the Partnerships' and the programme's budgets; the
locked pairs first):

* **registration order**: each visitor in turn (the order of the registrations file)
  takes the highest-scoring host that still fits; a visitor for whom none fits stays
  unmatched;
* **score order**: the round's pairs from the highest score down; a pair is taken when
  its visitor is still free and it fits (the best case of picking: the best pairs
  first).

Dates come from the solver's scheduler: a physical stay is taken only if all the host's
stays can still be placed (:class:`matchmaker.compare.base.Picker`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.compare.base import Picker, Setting, finish


def registration_order(setting: Setting, notes: list[str]) -> pd.DataFrame:
    """Each visitor, in registration order, takes its best host that still fits.

    Parameters
    ----------
    setting : Setting
    notes : list of str
        What the method dropped and why, appended to in words.

    Returns
    -------
    DataFrame in ``proposals.csv``'s columns.
    """
    core, p = setting.core, setting.problem
    picker = Picker(core)
    cand = core.cand
    order = np.lexsort((p.h[cand], -p.score[cand], p.v[cand]))  # by visitor, best score first
    cand = cand[order]
    bounds = np.flatnonzero(np.r_[True, p.v[cand][1:] != p.v[cand][:-1], True])
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        for j in cand[a:b].tolist():
            if picker.fits(j):
                picker.take(j)
                break
    return finish(setting, picker.pairs(), notes)


def score_order(setting: Setting, notes: list[str]) -> pd.DataFrame:
    """The round's pairs from the highest score down, each taken when its visitor is free and it fits.

    Parameters
    ----------
    setting : Setting
    notes : list of str
        What the method dropped and why, appended to in words.

    Returns
    -------
    DataFrame in ``proposals.csv``'s columns.
    """
    core, p = setting.core, setting.problem
    picker = Picker(core)
    cand = core.cand
    cand = cand[np.lexsort((p.h[cand], p.v[cand], -p.score[cand]))]
    vused = picker.vused
    for j, v in zip(cand.tolist(), p.v[cand].tolist()):
        if not vused[v] and picker.fits(j):
            picker.take(j)
    return finish(setting, picker.pairs(), notes)
