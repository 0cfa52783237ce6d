"""Brute-force optimum of tiny solver problems, independent of the solver's code.

Every assignment (each visitor: no exchange or one of its pairs) is enumerated; the
same-day capacity is checked by enumerating machines and orders (:func:`schedulable`); the
objective is compared as a tuple in the scheme's words (fewest fairness shortfall,
then most exchanges if asked, then highest score), not through the solver's weights.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from matchmaker.solve.problem import make_instance


def schedulable(durations, es, ls, capacity) -> bool:
    """True when some start days put at most ``capacity`` stays on any day.

    Exact by enumeration: stays that overlap at most ``capacity`` deep can be split into
    ``capacity`` sequences of non-overlapping stays (interval graphs are perfect), and
    for one sequence in a fixed order, starting each stay as early as possible is best.
    So every split into ``capacity`` machines and every order on each machine is tried.
    """
    n = len(durations)
    if n <= capacity:
        return True
    m = min(capacity, n)
    for machines in itertools.product(range(m), repeat=n):
        ok = True
        for k in range(m):
            mine = [i for i in range(n) if machines[i] == k]
            if not any(_sequence_fits(order, durations, es, ls) for order in itertools.permutations(mine)):
                ok = False
                break
        if ok:
            return True
    return False


def _sequence_fits(order, durations, es, ls) -> bool:
    free = -10**9
    for i in order:
        s = max(es[i], free)
        if s > ls[i]:
            return False
        free = s + durations[i]
    return True


def feasible(p, chosen) -> bool:
    chosen = list(chosen)
    if any(j not in chosen for j in np.flatnonzero(p.locked)):
        return False
    vs = [int(p.v[j]) for j in chosen]
    if len(vs) != len(set(vs)):
        return False
    for host in range(p.n_hosts):
        mine = [j for j in chosen if p.h[j] == host]
        if len(mine) > p.max_visitors[host]:
            return False
        phys = [j for j in mine if p.physical[j]]
        if not schedulable([int(p.duration[j]) for j in phys], [int(p.es[j]) for j in phys],
                           [int(p.ls[j]) for j in phys], int(p.capacity[host])):
            return False
    for q in range(p.n_partnerships):
        if sum(int(p.cost[j]) for j in chosen if p.part[j] == q) > p.budget[q]:
            return False
    if p.programme_budget is not None and sum(int(p.cost[j]) for j in chosen) > p.programme_budget:
        return False
    return True


def key(p, chosen) -> tuple:
    """The objective as a tuple, larger is better."""
    chosen = list(chosen)
    shortfall = 0
    if p.fairness_share > 0:
        for q in range(p.n_partnerships):
            elig = len({int(v) for v in p.v if p.visitor_part[v] == q})
            target = math.ceil(p.fairness_share * elig - 1e-9)
            shortfall += max(0, target - sum(1 for j in chosen if p.part[j] == q))
    score = sum(int(p.score[j]) for j in chosen)
    count = len(chosen) if p.objective == "exchanges_then_score" else 0
    return (-shortfall, count, score)


def brute_force(p):
    """Best key and one optimal set of pairs (None when the locks make it infeasible)."""
    options = []
    for v in range(p.n_visitors):
        js = [int(j) for j in np.flatnonzero(p.v == v)]
        options.append([None] + js)
    best, best_set = None, None
    for combo in itertools.product(*options):
        chosen = [j for j in combo if j is not None]
        k = key(p, chosen)
        if best is not None and k <= best:
            continue
        if feasible(p, chosen):
            best, best_set = k, chosen
    return best, best_set


def with_pair_locked(p, j: int):
    """``p`` with pair ``j`` locked too: the round's optimum among solutions that use ``j``."""
    locked = p.locked | (np.arange(p.n_pairs) == j)
    return make_instance(dict(v=p.v, h=p.h, score=p.score, cost=p.cost, physical=p.physical,
                              duration=p.duration, es=p.es, ls=p.ls, locked=locked),
                         capacity=p.capacity, max_visitors=p.max_visitors, budget=p.budget,
                         visitor_part=p.visitor_part, n_visitors=p.n_visitors, objective=p.objective)


def feasible_solutions(p) -> list[list[int]]:
    """Every feasible set of pairs (locks included), each as a sorted list of pair indices."""
    options = [[None] + [int(j) for j in np.flatnonzero(p.v == v)] for v in range(p.n_visitors)]
    out = []
    for combo in itertools.product(*options):
        chosen = sorted(j for j in combo if j is not None)
        if feasible(p, chosen):
            out.append(chosen)
    return out
