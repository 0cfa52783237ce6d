"""What every comparison method shares: the round as solver arrays, picking under the rules, cutting, scheduling.

A comparison method chooses pairs of the round's catalogue (the same eligible pairs, the
same scores and lump sums as the optimiser) and must end with proposals that the
independent validator accepts: each visitor once, each host at most ``max_visitors``
times and at most ``capacity`` visitors on site on the same day, every Partnership (and
the programme) within its budget, every locked pair proposed. The helpers here do that:

* :class:`Picker` takes pairs one at a time, only when they still fit (greedy methods);
* :func:`cut_to_budgets` drops pairs of a Partnership over its budget, lowest key first
  (methods that ignore the budgets while matching);
* :func:`schedule_or_drop` finds start dates with the solver's scheduler
  (:func:`matchmaker.solve.schedule.schedule_pairs`) and, at a host whose stays cannot
  all be placed, drops its lowest-scoring stay until they can;
* :func:`method_proposals` turns the chosen pairs into ``proposals.csv``'s table through
  :func:`matchmaker.proposals.table.proposals_table`, so a method's proposals are written exactly
  as the optimiser's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from matchmaker.common.errors import SettingsError
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.proposals.table import proposals_table
from matchmaker.solve.core import Core, build_core, lock_conflicts
from matchmaker.solve.problem import SolverInstance, build_instance
from matchmaker.solve.schedule import conflicting_hosts, schedule_pairs, schedule_stays
from matchmaker.solver import SolverResult

#: CP-SAT deterministic time (about seconds) for one host's exact schedule when the greedy orders fail.
SCHEDULE_TIME_LIMIT = 1.0


@dataclass
class MethodResult:
    """One way of matching the round, and what it gave.

    Attributes
    ----------
    key : str -- the method's name in :data:`matchmaker.compare.METHODS` (``"flow_then_budgets"``).
    name : str -- the method in words (``"min-cost flow without budgets, then cut to the budgets"``).
    proposals : DataFrame -- in ``proposals.csv``'s columns (:mod:`matchmaker.proposals.spec`).
    seconds : float -- time the method took (matching, cutting and scheduling; not the catalogue).
    blocking_pairs : int or None -- blocking pairs of its proposals (:mod:`matchmaker.quality.stability`).
    budget_total_eur : float -- the Partnerships' budgets together (for the budget use).
    notes : list of str -- what the method dropped and why, in words.
    """

    key: str
    name: str
    proposals: pd.DataFrame
    seconds: float
    blocking_pairs: int | None = None
    budget_total_eur: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class Setting:
    """The round as a comparison method sees it: the solver's arrays after the locks."""

    rnd: Round
    catalogue: Catalogue
    problem: SolverInstance
    core: Core

    @classmethod
    def build(cls, rnd: Round, catalogue: Catalogue) -> Setting:
        """The solver's arrays for the round; refused when the locked pairs already break a rule."""
        problem = build_instance(rnd, catalogue)
        conflicts = lock_conflicts(problem)
        if conflicts:
            raise SettingsError("the locked pairs (decisions.csv) cannot all be honoured, so the round cannot be "
                                f"matched another way either: {conflicts[0]['message']}")
        return cls(rnd, catalogue, problem, build_core(problem))


class Picker:
    """Pairs taken one at a time, each only if it still fits every rule (locks taken first)."""

    def __init__(self, core: Core):
        p = core.problem
        self.p = p
        self.chosen: list[int] = []
        self.vused = np.zeros(p.n_visitors, dtype=bool)
        self.hcount = np.zeros(p.n_hosts, dtype=np.int64)
        self.spend = np.zeros(p.n_partnerships, dtype=np.int64)
        self.prog = 0
        self.risky = np.zeros(p.n_hosts, dtype=bool)
        self.risky[conflicting_hosts(p, np.concatenate([core.cand, core.locked]))] = True
        self.stays: dict[int, list[int]] = {}
        for j in core.locked.tolist():
            self.take(j)

    def fits(self, j: int) -> bool:
        """Whether pair ``j`` can be added: free visitor, a place at the host, the budgets and a schedule."""
        p = self.p
        h, q, cost = int(p.h[j]), int(p.part[j]), int(p.cost[j])
        if self.vused[p.v[j]] or self.hcount[h] >= p.max_visitors[h] or self.spend[q] + cost > p.budget[q]:
            return False
        if p.programme_budget is not None and self.prog + cost > p.programme_budget:
            return False
        if p.physical[j] and self.risky[h]:
            stays = np.array(self.stays.get(h, []) + [j], dtype=np.int64)
            s, _ = schedule_stays(p.duration[stays], p.es[stays], p.ls[stays], int(p.capacity[h]),
                                  SCHEDULE_TIME_LIMIT)
            return s is not None
        return True

    def take(self, j: int) -> None:
        """Add pair ``j`` (checked by :meth:`fits`, or locked)."""
        p = self.p
        self.chosen.append(j)
        self.vused[p.v[j]] = True
        self.hcount[p.h[j]] += 1
        self.spend[p.part[j]] += p.cost[j]
        self.prog += int(p.cost[j])
        if p.physical[j] and self.risky[p.h[j]]:
            self.stays.setdefault(int(p.h[j]), []).append(j)

    def pairs(self) -> np.ndarray:
        """The chosen pair indices, sorted."""
        return np.sort(np.array(self.chosen, dtype=np.int64))


def _drop_over(groups: np.ndarray, cost: np.ndarray, key: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """Which pairs to drop so that each group sheds at least its ``excess`` (cents), lowest ``key`` first."""
    order = np.lexsort((np.arange(len(key)), key, groups))
    g, c = groups[order], cost[order]
    first = np.searchsorted(g, g, side="left")
    cum = np.cumsum(c)
    before = cum - c - (cum - c)[first]  # what the group shed before this pair
    drop = np.zeros(len(key), dtype=bool)
    drop[order] = before < excess[g]
    return drop


def cut_to_budgets(problem: SolverInstance, pairs: ArrayLike, key: ArrayLike) -> tuple[np.ndarray, int]:
    """Drop pairs until every Partnership and the programme are within budget.

    Each Partnership over its budget drops its unlocked paid pairs in increasing ``key``
    (then pair index) until it fits; then the programme budget, the same way over all
    Partnerships. Vectorised: a pair is dropped when what its Partnership shed before it
    is still short of the excess.

    Parameters
    ----------
    problem : SolverInstance
    pairs : array of pair indices (locks included)
    key : array, one value per pair of the problem (e.g. the score, or score per euro)

    Returns
    -------
    pairs : ndarray of int64 -- the pairs kept, sorted.
    dropped : int -- how many were dropped.
    """
    p = problem
    pairs = np.sort(np.asarray(pairs, dtype=np.int64))
    key = np.asarray(key, dtype=float)
    n0 = len(pairs)
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships).astype(np.int64)
    excess = np.maximum(spend - p.budget, 0)
    if excess.any():
        free = pairs[~p.locked[pairs] & (p.cost[pairs] > 0)]
        drop = _drop_over(p.part[free].astype(np.int64), p.cost[free], key[free], excess)
        pairs = np.setdiff1d(pairs, free[drop])
    if p.programme_budget is not None and p.cost[pairs].sum() > p.programme_budget:
        free = pairs[~p.locked[pairs] & (p.cost[pairs] > 0)]
        over = np.array([int(p.cost[pairs].sum()) - p.programme_budget])
        drop = _drop_over(np.zeros(len(free), np.int64), p.cost[free], key[free], over)
        pairs = np.setdiff1d(pairs, free[drop])
    return pairs, n0 - len(pairs)


def schedule_or_drop(problem: SolverInstance, pairs: ArrayLike) -> tuple[np.ndarray, np.ndarray, int]:
    """Start dates for the pairs; a host whose stays cannot all be placed drops its lowest-scoring stay until they can.

    Returns
    -------
    pairs : ndarray of int64 -- the pairs kept, sorted.
    starts : ndarray of int64 -- their start indices (as :class:`~matchmaker.solver.SolverResult` ``starts``).
    dropped : int -- stays dropped because no schedule was found.
    """
    p = problem
    pairs = np.sort(np.asarray(pairs, dtype=np.int64))
    _, failed, _ = schedule_pairs(p, pairs, SCHEDULE_TIME_LIMIT)
    dropped = 0
    for host in failed.tolist():
        stays = pairs[(p.h[pairs] == host) & p.physical[pairs]]
        while True:
            s, _ = schedule_stays(p.duration[stays], p.es[stays], p.ls[stays], int(p.capacity[host]),
                                  SCHEDULE_TIME_LIMIT)
            free = stays[~p.locked[stays]]
            if s is not None or len(free) == 0:
                break
            worst = free[np.lexsort((free, p.score[free]))[0]]
            stays = stays[stays != worst]
            pairs = pairs[pairs != worst]
            dropped += 1
    starts, failed, _ = schedule_pairs(p, pairs, SCHEDULE_TIME_LIMIT)
    if len(failed):  # only when the locked stays alone cannot be placed, which Setting.build refuses
        raise RuntimeError(f"no schedule for the stays at host position(s) {failed.tolist()}")
    return pairs, starts, dropped


def method_proposals(setting: Setting, pairs: ArrayLike, starts: ArrayLike) -> pd.DataFrame:
    """The chosen pairs and their start indices as ``proposals.csv``'s table."""
    result = SolverResult(status="feasible", objective=None, bound=None, gap=None,
                          pairs=np.asarray(pairs, dtype=np.int64), starts=np.asarray(starts, dtype=np.int64))
    return proposals_table(setting.rnd, setting.catalogue, setting.problem, result)


def finish(setting: Setting, pairs: ArrayLike, notes: list[str]) -> pd.DataFrame:
    """Schedule the pairs (dropping stays that cannot be placed, said in ``notes``) into proposals."""
    pairs, starts, dropped = schedule_or_drop(setting.problem, pairs)
    if dropped:
        notes.append(f"{dropped} stay(s) dropped because the host's same-day capacity left no dates for them "
                     "(lowest score first)")
    return method_proposals(setting, pairs, starts)
