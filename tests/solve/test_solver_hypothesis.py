"""Property tests: random small rounds are solved to the brute-force optimum.

Two levels:

* random :class:`~matchmaker.solve.problem.SolverInstance` s with every option
  (:func:`solver_strategies.solver_instances`): the solver proves the brute-force optimum, or
  reports infeasibility exactly when brute force finds no feasible assignment;
* random generated rounds (:func:`matchmaker.generator.generate.generate_round`): the proposals
  pass the independent validator and their objective is the brute-force optimum.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_bruteforce import brute_force, feasible, key
from solver_strategies import fixed, solver_instances

from matchmaker.solver import SolveConfig, solve


@fixed(120)
@given(solver_instances())
def test_solver_proves_the_brute_force_optimum(p):
    best, _ = brute_force(p)
    r = solve(p, SolveConfig(seed=0))
    if best is None:
        assert r.status == "infeasible" and r.conflicts
        return
    assert r.status == "optimal"
    assert feasible(p, r.pairs.tolist())
    assert key(p, r.pairs.tolist()) == best
    assert not r.core.violations(r.pairs, r.starts)


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_visitors=st.integers(2, 6), n_hosts=st.integers(1, 4),
       budget_share=st.sampled_from([0.3, 0.6, 1.0]))
def test_generated_rounds_pass_the_validator_at_the_brute_force_optimum(tmp_path_factory, seed, n_visitors,
                                                                      n_hosts, budget_share):
    from matchmaker.generator.generate import generate_round
    from matchmaker.inputs.loading import load_round
    from matchmaker.pairs.catalogue import build_catalogue
    from matchmaker.proposals.validator import check_proposals
    from matchmaker.run import proposals_table
    from matchmaker.solve.problem import build_instance

    d = tmp_path_factory.mktemp("round")
    generate_round(d, n_visitors, n_hosts, seed, budget_share=budget_share)
    rnd = load_round(d)
    cat = build_catalogue(rnd)
    p = build_instance(rnd, cat)
    best, _ = brute_force(p)
    r = solve(p, SolveConfig(seed=0))
    if best is None:
        assert r.status == "infeasible"
        return
    assert r.status == "optimal"
    assert key(p, r.pairs.tolist()) == best
    proposals = proposals_table(rnd, cat, p, r)
    assert check_proposals(rnd, proposals) == []
    # the objective counts scores in hundredths of a point: at most half a hundredth off per pair
    assert abs(float(proposals["score"].sum()) - float(np.sum(p.score[r.pairs])) / 100) <= 0.005 * len(r.pairs) + 1e-9
