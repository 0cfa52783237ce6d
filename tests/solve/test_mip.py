"""The restricted MIP (matchmaker.solve.mip) against brute force, and its limits.

Over all candidate pairs and without limits the MIP proves the brute-force optimum; its
window and no-good cuts never cut off a feasible solution; a work limit becomes a node
limit that HiGHS keeps, and the same limit gives the same answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from solver_bruteforce import brute_force, feasible
from solver_strategies import fixed, pair, solver_instances

import matchmaker.solve.mip as mip
from matchmaker.solve.core import build_core
from matchmaker.solve.heuristics import complete
from matchmaker.solve.mip import scheduling_cuts, solve_restricted_mip, window_cuts
from matchmaker.solve.problem import make_instance
from matchmaker.solve.schedule import conflicting_hosts, schedule_pairs


def optimal_set(p):
    _, chosen = brute_force(p)
    return None if chosen is None else np.array(sorted(chosen), dtype=np.int64)


@fixed(80)
@given(solver_instances())
def test_mip_over_all_candidates_proves_the_brute_force_optimum(p):
    best = optimal_set(p)
    if best is None:
        return
    core = build_core(p)
    r = solve_restricted_mip(core, core.cand, time_limit=None)
    opt = core.value(best)
    if len(core.cand) == 0:
        assert r.status == "unknown" and r.pairs is None
        return
    assert r.status == "optimal"
    assert r.objective == r.bound == opt
    assert feasible(p, r.pairs.tolist())


@fixed(60)
@given(solver_instances())
def test_cuts_never_cut_off_the_optimum(p):
    """Window cuts of every host that might not fit, and the cuts that remove an
    unschedulable assignment, hold for a (brute-force) optimal solution."""
    best = optimal_set(p)
    if best is None:
        return
    core = build_core(p)
    chosen = np.zeros(p.n_pairs, dtype=bool)
    chosen[best] = True
    cuts = [c for host in conflicting_hosts(p, core.cand).tolist() for c in window_cuts(core, host, core.cand)]
    every = np.concatenate([core.cand, core.locked])
    _, failed, unproven = schedule_pairs(p, every)
    cuts += scheduling_cuts(core, every, failed, core.cand, set(), unproven=unproven)
    for cut in cuts:
        assert float(cut.coef[chosen[cut.pairs]].sum()) <= cut.rhs + 1e-9, cut.kind


def busy_round(seed=3, n_visitors=30, n_hosts=8):
    rng = np.random.default_rng(seed)
    rows = [pair(v, h, int(rng.integers(1, 90)) * 100 + int(rng.integers(0, 50)), cost=int(rng.choice([0, 500, 900])),
                 duration=int(rng.integers(2, 6)), es=int(rng.integers(0, 6)), ls=0)
            for v in range(n_visitors) for h in range(n_hosts) if rng.random() < 0.5]
    for r in rows:
        r["ls"] = r["es"] + int(rng.integers(0, 4))
    return make_instance(rows, capacity=rng.integers(1, 3, n_hosts), max_visitors=rng.integers(1, 5, n_hosts),
                         budget=[6000, 5000, 4000], visitor_part=rng.integers(0, 3, n_visitors), n_visitors=n_visitors)


def test_node_limit_from_the_work_limit_is_respected(monkeypatch):
    """Each round's node limit (from its share of the work) is passed to HiGHS and kept."""
    seen = []
    solve = mip.Highs.solve

    def recording(self, time_limit=None, node_limit=None):
        status = solve(self, time_limit, node_limit)
        seen.append((node_limit, self.mip_nodes(), status))
        return status

    monkeypatch.setattr(mip.Highs, "solve", recording)
    core = build_core(busy_round())
    r = solve_restricted_mip(core, core.cand, time_limit=None, max_work=0.05)
    assert seen and r.rounds == len(seen)
    for node_limit, nodes, _ in seen:
        assert node_limit is not None and node_limit >= 1 and nodes <= node_limit
    assert r.objective is None or r.objective <= r.bound


def test_same_work_limit_gives_the_same_answer():
    core = build_core(busy_round(seed=5))
    a = solve_restricted_mip(core, core.cand, time_limit=None, max_work=0.1)
    b = solve_restricted_mip(core, core.cand, time_limit=None, max_work=0.1)
    assert (a.status, a.objective, a.bound, a.rounds, a.work) == (b.status, b.objective, b.bound, b.rounds, b.work)
    assert (a.pairs is None and b.pairs is None) or a.pairs.tolist() == b.pairs.tolist()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_start_solution_is_kept_or_improved(seed):
    core = build_core(busy_round(seed=seed, n_visitors=12, n_hosts=4))
    start = complete(core, np.zeros(0, dtype=np.int64))
    keep = core.cand[:0]  # only the start's pairs
    r = solve_restricted_mip(core, keep, time_limit=None, start=start)
    assert r.objective >= core.value(start)
    assert not core.violations(r.pairs, schedule_pairs(core.problem, r.pairs)[0])
