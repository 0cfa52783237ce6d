"""A stable matching (hospital-resident with capacities, the ``matching`` package), then the budgets and the dates.

Visitors are the residents, hosts the hospitals. A visitor ranks the hosts of its
catalogue pairs by score (highest first), a host ranks the visitors of its pairs the
same way (ties: registration order); a host's capacity in the game is its places in the
round (``max_visitors``, less its locked pairs). The game's visitor-optimal stable
matching ignores the budgets and the dates; it is then made feasible, with no re-fill:

1. **budgets**: a Partnership over its budget drops its lowest-scoring paid pairs until
   it fits, then the programme budget the same way
   (:func:`matchmaker.compare.base.cut_to_budgets`);
2. **dates**: a host whose physical stays cannot all be placed under its same-day
   capacity drops its lowest-scoring stay until they can
   (:func:`matchmaker.compare.base.schedule_or_drop`).

Both steps are reported in the method's notes. Locked pairs are kept and their visitors
and places are not in the game.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from matchmaker.compare.base import Setting, cut_to_budgets, finish
from matchmaker.solve.problem import SolverInstance

# The matching package calls warnings.simplefilter("always") when it is imported, which would show every
# library's deprecation warnings in the notebooks from then on: keep the warning filters as they were.
with warnings.catch_warnings():
    from matching import Player
    from matching.algorithms import hospital_resident
    from matching.players import Hospital


def _preferences(p: SolverInstance, cand: np.ndarray) -> tuple[dict, dict]:
    """Each visitor's hosts and each host's visitors, best score first (ties: position)."""
    by_v = cand[np.lexsort((p.h[cand], -p.score[cand], p.v[cand]))]
    by_h = cand[np.lexsort((p.v[cand], -p.score[cand], p.h[cand]))]
    visitor_prefs: dict[int, list[int]] = {}
    for v, h in zip(p.v[by_v].tolist(), p.h[by_v].tolist()):
        visitor_prefs.setdefault(v, []).append(h)
    host_prefs: dict[int, list[int]] = {}
    for h, v in zip(p.h[by_h].tolist(), p.v[by_h].tolist()):
        host_prefs.setdefault(h, []).append(v)
    return visitor_prefs, host_prefs


def stable_pairs(p: SolverInstance, cand: np.ndarray, room: np.ndarray) -> np.ndarray:
    """The visitor-optimal stable matching of the candidate pairs, as pair indices (sorted).

    Parameters
    ----------
    p : SolverInstance
    cand : ndarray of int -- candidate pair indices (no locked visitor, a host with room).
    room : ndarray of int -- places of each host in the game.
    """
    cand = cand[room[p.h[cand]] > 0]
    if len(cand) == 0:
        return np.zeros(0, dtype=np.int64)
    visitor_prefs, host_prefs = _preferences(p, cand)
    # the players are built here: HospitalResident's own constructor deep-copies them, which
    # overflows Python's recursion limit on rounds of a few hundred visitors
    visitors = {v: Player(name=v) for v in visitor_prefs}
    hosts = {h: Hospital(name=h, capacity=int(room[h])) for h in host_prefs}
    for v, prefs in visitor_prefs.items():
        visitors[v].set_prefs([hosts[h] for h in prefs])
    for h, prefs in host_prefs.items():
        hosts[h].set_prefs([visitors[v] for v in prefs])
    matching = hospital_resident(list(visitors.values()), list(hosts.values()), optimal="resident")
    vv = [r.name for hosp, rs in matching.items() for r in rs]
    hh = [hosp.name for hosp, rs in matching.items() for _ in rs]
    key = p.v.astype(np.int64) * p.n_hosts + p.h  # pairs are sorted by (v, h)
    want = np.asarray(vv, dtype=np.int64) * p.n_hosts + np.asarray(hh, dtype=np.int64)
    return np.sort(np.searchsorted(key, want))


def stable_matching(setting: Setting, notes: list[str]) -> pd.DataFrame:
    """The stable matching, cut to the budgets (lowest score first) and scheduled.

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
    pairs = np.concatenate([core.locked, stable_pairs(p, core.cand, core.room)])
    pairs, dropped = cut_to_budgets(p, pairs, p.score)
    if dropped:
        notes.append(f"{dropped} pair(s) of the stable matching dropped to keep the Partnerships within their "
                     "budgets (lowest score first)")
    return finish(setting, pairs, notes)
