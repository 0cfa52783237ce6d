"""Rounds for the branch-and-price tests (tests/solve/test_branch_price.py, test_schedule_cuts.py).

* :func:`tiny_round` -- small enough for brute force (tests/solve/solver_bruteforce.py): two
  partnerships with binding budgets, a grouped host (2 a day) between two individual ones,
  stays on overlapping dates and near-equal scores, so that the search branches;
* :func:`random_round` -- too big for brute force, checked against SCIP (tests/solve/exact_scip.py):
  binding budgets, grouped and individual hosts, virtual pairs, a few locks;
* :func:`hard_round` -- bigger still, near-equal scores: trees of several to hundreds of nodes.
"""

from __future__ import annotations

import numpy as np
from solver_strategies import pair

from matchmaker.solve.problem import SolverInstance, make_instance


def tiny_round(seed: int, n_visitors: int = 6, locks: bool = False) -> SolverInstance:
    """``n_visitors`` visitors with two hosts each out of three (capacities 1, 2, 1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_visitors):
        for h in rng.choice(3, size=2, replace=False).tolist():
            es = int(rng.integers(0, 5))
            rows.append(pair(v, h, int(rng.integers(500, 540)), cost=int(rng.choice([500, 700, 1100, 1300])),
                             duration=int(rng.integers(2, 5)), es=es, ls=es + int(rng.integers(0, 4)),
                             physical=bool(rng.random() < 0.9), locked=locks and bool(rng.random() < 0.1)))
    return make_instance(rows, capacity=[1, 2, 1], max_visitors=[3, 3, 2], budget=[2000, 2400],
                         visitor_part=[v % 2 for v in range(n_visitors)], n_visitors=n_visitors)


def random_round(seed: int, n_visitors: int = 12, n_hosts: int = 4) -> SolverInstance:
    """Two partnerships with binding budgets, grouped and individual hosts with overlapping
    dates, virtual pairs, a few locks."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_visitors):
        for h in rng.choice(n_hosts, size=int(rng.integers(1, 4)), replace=False).tolist():
            es = int(rng.integers(0, 8))
            rows.append(pair(v, h, int(rng.integers(100, 1000)), cost=int(rng.choice([500, 1000, 1500, 2000])),
                             duration=int(rng.integers(2, 6)), es=es, ls=es + int(rng.integers(0, 5)),
                             physical=bool(rng.random() < 0.8), locked=bool(rng.random() < 0.04)))
    return make_instance(rows, capacity=[1, 2, 1, 3][:n_hosts], max_visitors=[3, 4, 2, 5][:n_hosts],
                         budget=[4000, 5000], visitor_part=[v % 2 for v in range(n_visitors)],
                         n_visitors=n_visitors)


def hard_round(seed: int, n_visitors: int = 30, n_hosts: int = 6) -> SolverInstance:
    """Three partnerships with binding budgets, six hosts (capacities 1-3), scores within 1 %."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_visitors):
        for h in rng.choice(n_hosts, size=int(rng.integers(2, 5)), replace=False).tolist():
            es = int(rng.integers(0, 10))
            rows.append(pair(v, h, int(rng.integers(500, 600)), cost=int(rng.choice([700, 1100, 1300, 1700, 1900])),
                             duration=int(rng.integers(2, 6)), es=es, ls=es + int(rng.integers(0, 6)),
                             physical=bool(rng.random() < 0.85)))
    return make_instance(rows, capacity=[1, 2, 1, 3, 2, 1][:n_hosts], max_visitors=[4, 6, 3, 7, 5, 4][:n_hosts],
                         budget=[9000, 10000, 8000], visitor_part=[v % 3 for v in range(n_visitors)],
                         n_visitors=n_visitors)
