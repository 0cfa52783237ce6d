"""Shared Hypothesis strategies and settings for the solver's tests (tests/solve/).

Named ``solver_strategies`` so that it never shadows another suite's ``strategies`` module
(pytest puts every test folder on ``sys.path``, so top-level test module names must differ).

* :func:`pair` -- one catalogue row of a small instance, with defaults;
* :func:`solver_instances` -- random small :class:`~matchmaker.solve.problem.SolverInstance`
  s with every option (locks, budgets, programme budget, grouped and individual hosts,
  virtual pairs, the lexicographic objective, fairness), small enough for
  ``tests/solve/solver_bruteforce.py``;
* :func:`stays` -- the stays of one host (durations, earliest and latest starts);
* :func:`fixed` -- settings that make a property test deterministic (``derandomize``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from matchmaker.solve.problem import SolverInstance, make_instance


def pair(v: int, h: int, score: int, cost: int = 0, duration: int = 5, es: int = 0, ls: int = 10,
         physical: bool = True, locked: bool = False) -> dict:
    """One pair (catalogue row) of a small instance: score in hundredths, lump sum in cents."""
    return dict(v=v, h=h, score=score, cost=cost, physical=physical, duration=duration, es=es, ls=ls, locked=locked)


def fixed(max_examples: int) -> settings:
    """Deterministic settings: the same examples on every run, no deadline."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def solver_instances(draw: st.DrawFn, hosts_bind: bool = True, options: bool = True) -> SolverInstance:
    """Up to 5 visitors, 3 hosts and 2 partnerships, each visitor-host pair present at random.

    Parameters
    ----------
    hosts_bind : bool
        Random same-day capacities (1-2) and ``max_visitors`` (1-3); when False every host
        takes every visitor at once, so only the budgets bind.
    options : bool
        Draw locks (one pair in ten), fairness shares and a programme budget.
    """
    nv = draw(st.integers(1, 5))
    nh = draw(st.integers(1, 3))
    npart = draw(st.integers(1, 2))
    rows = []
    for v in range(nv):
        for h in range(nh):
            if draw(st.booleans()) or (v == 0 and h == 0):
                es = draw(st.integers(0, 3))
                rows.append(pair(v, h, draw(st.integers(0, 9)) * 100 + draw(st.integers(0, 2)),
                                 cost=draw(st.sampled_from([0, 500, 1000, 1500])), physical=draw(st.booleans()),
                                 duration=draw(st.integers(1, 3)), es=es, ls=es + draw(st.integers(0, 2)),
                                 locked=options and draw(st.integers(0, 9)) == 0))
    opts = {}
    if draw(st.booleans()):
        opts["objective"] = "exchanges_then_score"
    if options and draw(st.booleans()):
        opts["fairness_share"] = draw(st.sampled_from([0.3, 0.5, 1.0]))
    if options and draw(st.integers(0, 3)) == 0:
        opts["programme_budget"] = draw(st.integers(0, 4000))
    if hosts_bind:
        capacity = draw(st.lists(st.integers(1, 2), min_size=nh, max_size=nh))
        max_visitors = draw(st.lists(st.integers(1, 3), min_size=nh, max_size=nh))
    else:
        capacity = max_visitors = [nv] * nh
    budget = draw(st.lists(st.integers(0, 40).map(lambda b: 100 * b), min_size=npart, max_size=npart))
    return make_instance(rows, capacity=capacity, max_visitors=max_visitors, budget=budget,
                         visitor_part=draw(st.lists(st.integers(0, npart - 1), min_size=nv, max_size=nv)),
                         n_visitors=nv, **opts)


@st.composite
def stays(draw: st.DrawFn, max_stays: int = 6) -> tuple[list[int], list[int], list[int], int]:
    """``(durations, earliest starts, latest starts, capacity)`` of one host's stays."""
    n = draw(st.integers(0, max_stays))
    d = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    es = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    ls = [e + draw(st.integers(0, 4)) for e in es]
    return d, es, ls, draw(st.integers(1, 3))
