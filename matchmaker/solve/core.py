"""What is left to decide once the locked pairs are in: the solver's working core.

Locked pairs are fixed first (:func:`build_core`); the models then decide only among
*candidate* pairs: visitors without a lock, hosts with a free place, lump sums that fit
the partnership's remaining budget, and (without the fairness option) a positive weight,
since a pair adding nothing to the objective is never needed (all rules are packing
rules, so dropping such a pair never breaks one). :func:`lock_conflicts` explains why
the locks alone already break a rule (the round is then infeasible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from matchmaker.solve.problem import SolverInstance, group_reduce, objective_weights
from matchmaker.solve.schedule import conflicting_hosts, max_coverage, schedule_pairs


@dataclass
class Core:
    """The reduced instance: a :class:`~matchmaker.solve.problem.SolverInstance` after fixing its locks.

    What the models decide: the candidate pairs, the places and budgets the locks leave,
    and the objective weights (module docstring).

    Attributes
    ----------
    problem : SolverInstance -- the whole round, locks included.
    w : ndarray of int64 -- objective weight of every pair.
    penalty : int -- objective cost of one missing fair exchange (0 without fairness).
    locked : ndarray of int -- indices of locked pairs.
    cand : ndarray of int -- candidate pair indices, sorted by (visitor, pair index).
    room : ndarray of int64 -- free places per host after the locks.
    budget : ndarray of int64 -- remaining budget per partnership after the locks (cents).
    programme : int or None -- remaining programme budget after the locks.
    target : ndarray of int64 -- fairness target per fairness group (whole round).
    fixed_value : int -- sum of the locked pairs' weights.
    energy : ndarray of int64 -- per host, working days x capacity in the span of its
        physical pairs, less the locked stays (the "energy" relaxation of the capacity).
    """

    problem: SolverInstance
    w: np.ndarray
    penalty: int
    locked: np.ndarray
    cand: np.ndarray
    room: np.ndarray
    budget: np.ndarray
    programme: int | None
    target: np.ndarray
    fixed_value: int
    energy: np.ndarray

    @property
    def locked_count(self) -> np.ndarray:
        """Locked exchanges per fairness group (the partnerships by default)."""
        return np.bincount(self.problem.fair[self.locked], minlength=self.problem.n_fair_groups)

    def value(self, chosen: ArrayLike) -> int:
        """Objective value of a solution given by all its pair indices (locks included)."""
        chosen = np.asarray(chosen, dtype=np.int64)
        n = np.bincount(self.problem.fair[chosen], minlength=self.problem.n_fair_groups)
        return int(self.w[chosen].sum()) - self.penalty * int(np.maximum(self.target - n, 0).sum())

    def violations(self, chosen: ArrayLike, starts: ArrayLike) -> list[str]:
        """Rules a solution breaks (empty when feasible); an internal cross-check.

        Parameters
        ----------
        chosen : array of pair indices (locks included)
        starts : start index of each chosen pair (working days for physical pairs)
        """
        p = self.problem
        chosen = np.asarray(chosen, dtype=np.int64)
        starts = np.asarray(starts, dtype=np.int64)
        out = []
        if np.setdiff1d(self.locked, chosen).size:
            out.append("a locked pair is missing")
        if (np.bincount(p.v[chosen], minlength=p.n_visitors) > 1).any():
            out.append("a visitor has two exchanges")
        if (np.bincount(p.h[chosen], minlength=p.n_hosts) > p.max_visitors).any():
            out.append("a host has more than max_visitors")
        spend = np.bincount(p.part[chosen], weights=p.cost[chosen], minlength=p.n_partnerships)
        if (spend > p.budget).any():
            out.append("a partnership budget is exceeded")
        if p.programme_budget is not None and p.cost[chosen].sum() > p.programme_budget:
            out.append("the programme budget is exceeded")
        if ((starts < p.es[chosen]) | (starts > p.ls[chosen])).any():
            out.append("a start is outside its range")
        ph = p.physical[chosen]
        if ph.any():
            j, s = chosen[ph], starts[ph]
            deep = max_coverage(p.h[j], s, s + p.duration[j] - 1, p.n_hosts)
            if (deep > p.capacity).any():
                out.append("a host has more physical visitors on one day than its capacity")
        return out


def lock_conflicts(problem: SolverInstance, exact_time_limit: float = 10.0) -> list[dict]:
    """Rules that the locked pairs alone break.

    Returns
    -------
    list of dict
        One per conflict: ``rule`` (short name), ``message`` (a sentence naming the
        visitors, hosts, partnerships and numbers) and ``pairs`` (locked pair indices).
        Empty when the locks can all be honoured together.
    """
    p = problem
    lk = np.flatnonzero(p.locked)
    out = []
    if len(lk) == 0:
        return out
    vs, counts = np.unique(p.v[lk], return_counts=True)
    for v in vs[counts > 1]:
        j = lk[p.v[lk] == v]
        out.append(dict(rule="one_exchange_per_visitor", pairs=j.tolist(),
                        message=f"visitor {v} is locked to {len(j)} hosts {sorted(p.h[j].tolist())}; "
                                "a visitor takes part in at most one exchange"))
    per_host = np.bincount(p.h[lk], minlength=p.n_hosts)
    for h in np.flatnonzero(per_host > p.max_visitors):
        out.append(dict(rule="max_visitors", pairs=lk[p.h[lk] == h].tolist(),
                        message=f"host {h} has {per_host[h]} locked visitors but max_visitors = {p.max_visitors[h]}"))
    spend = np.bincount(p.part[lk], weights=p.cost[lk], minlength=p.n_partnerships).astype(np.int64)
    for q in np.flatnonzero(spend > p.budget):
        out.append(dict(rule="partnership_budget", pairs=lk[p.part[lk] == q].tolist(),
                        message=f"the locked lump sums of partnership {p.partnerships[q]} add up to "
                                f"EUR {spend[q] / 100:.2f}, over its budget of EUR {p.budget[q] / 100:.2f}"))
    if p.programme_budget is not None and p.cost[lk].sum() > p.programme_budget:
        out.append(dict(rule="programme_budget", pairs=lk.tolist(),
                        message=f"the locked lump sums add up to EUR {p.cost[lk].sum() / 100:.2f}, over the "
                                f"programme budget of EUR {p.programme_budget / 100:.2f}"))
    ok_hosts = np.flatnonzero(per_host <= p.max_visitors)
    sel = lk[np.isin(p.h[lk], ok_hosts)]
    _, failed, unproven = schedule_pairs(p, sel, exact_time_limit)
    for h in failed:
        j = sel[(p.h[sel] == h) & p.physical[sel]]
        sure = "" if h not in unproven else " (no schedule found within the time limit)"
        out.append(dict(rule="capacity", pairs=j.tolist(),
                        message=f"the {len(j)} locked physical stays at host {h} cannot be placed with at most "
                                f"{p.capacity[h]} visitor(s) on the same day inside their date ranges{sure}"))
    return out


def build_core(problem: SolverInstance) -> Core:
    """Fix the locks and list the candidate pairs (call after :func:`lock_conflicts` is empty)."""
    p = problem
    w, penalty = objective_weights(p)
    lk = np.flatnonzero(p.locked)
    room = p.max_visitors.astype(np.int64) - np.bincount(p.h[lk], minlength=p.n_hosts)
    budget = p.budget - np.bincount(p.part[lk], weights=p.cost[lk], minlength=p.n_partnerships).astype(np.int64)
    programme = None if p.programme_budget is None else int(p.programme_budget - p.cost[lk].sum())
    locked_visitor = np.zeros(p.n_visitors, dtype=bool)
    locked_visitor[p.v[lk]] = True
    ok = ~p.locked & ~locked_visitor[p.v] & (room[p.h] > 0) & (p.cost <= budget[p.part])
    if programme is not None:
        ok &= p.cost <= programme
    if penalty == 0:
        ok &= w > 0
    cand = np.flatnonzero(ok)
    if not (p.v[cand][1:] >= p.v[cand][:-1]).all():
        cand = cand[np.argsort(p.v[cand], kind="stable")]

    # energy per host: capacity x working days in the span of its physical pairs
    phys = np.concatenate([cand, lk])
    phys = phys[p.physical[phys]]
    phys = phys[np.argsort(p.h[phys], kind="stable")]  # sorted once for both reductions
    lo = group_reduce(np.minimum, p.h[phys], p.es[phys].astype(np.int64), p.n_hosts, np.iinfo(np.int64).max)
    hi = group_reduce(np.maximum, p.h[phys], (p.ls[phys] + p.duration[phys] - 1).astype(np.int64), p.n_hosts,
                      np.iinfo(np.int64).min)
    span = np.where(hi >= lo, hi - lo + 1, 0)
    lkp = lk[p.physical[lk]]
    energy = p.capacity * span - np.bincount(p.h[lkp], weights=p.duration[lkp], minlength=p.n_hosts).astype(np.int64)
    return Core(problem=p, w=w, penalty=penalty, locked=lk, cand=cand, room=room, budget=budget,
                programme=programme, target=p.fairness_targets(), fixed_value=int(w[lk].sum()),
                energy=energy)


def energy_rows(core: Core) -> np.ndarray:
    """Hosts whose energy row can bind: possible overlaps and more work than room.

    The work is the sum of the ``room`` longest candidate physical stays at the host.
    """
    p = core.problem
    c = core.cand[p.physical[core.cand]]
    if len(c) == 0:
        return np.zeros(0, dtype=np.int64)
    risky = conflicting_hosts(p, np.concatenate([c, core.locked]))
    if len(risky) == 0:
        return risky
    c = c[np.isin(p.h[c], risky)]
    order = np.lexsort((-p.duration[c], p.h[c]))
    c = c[order]
    hs = p.h[c]
    first = np.searchsorted(hs, hs, side="left")
    rank = np.arange(len(c)) - first
    top = rank < core.room[hs]
    work = np.bincount(hs[top], weights=p.duration[c][top], minlength=p.n_hosts)
    return risky[work[risky] > core.energy[risky]]
