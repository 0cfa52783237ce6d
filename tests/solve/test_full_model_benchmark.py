"""benchmarks/full_model.py (issue 12): its time-indexed matrix model of a whole round, solved by
HiGHS and SCIP, gives the optimum of the independent SCIP model (tests/solve/exact_scip.py), and
every solution it reports is decoded to pairs and days that break no rule."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from branch_price_rounds import hard_round, random_round, tiny_round
from exact_scip import scip_optimum

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "full_model.py"
_SPEC = importlib.util.spec_from_file_location("full_model_benchmark", _PATH)
full_model = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = full_model
_SPEC.loader.exec_module(full_model)

ROUNDS = [("tiny", tiny_round(1, locks=True)), ("tiny-locks", tiny_round(4, n_visitors=8, locks=True)),
          ("random", random_round(3)), ("random-2", random_round(7)), ("hard", hard_round(2, n_visitors=16))]


@pytest.mark.parametrize("name,p", ROUNDS, ids=[n for n, _ in ROUNDS])
@pytest.mark.parametrize("method", ["highs", "scip"])
def test_full_model_reaches_the_exact_optimum(name, p, method):
    optimum = scip_optimum(p)
    assert optimum is not None
    run = dict(highs=full_model.run_highs, scip=full_model.run_scip)[method]
    res = run(p, 60.0, 1)
    assert res["violations"] == []
    assert res["objective"] == pytest.approx(optimum / 100)
    assert res["solver_objective"] == pytest.approx(optimum / 100)
    assert res["bound"] == pytest.approx(optimum / 100, abs=1e-6)
    assert res["trace"]["gap_1e-06"] is not None


def test_model_has_a_column_per_start_day_and_capacity_rows_that_can_bind():
    p = random_round(3)
    m = full_model.build_model(p)
    n_cols = np.where(p.physical, p.ls - p.es + 1, 1).sum()
    assert m.A.shape[1] == n_cols == len(m.pair) == len(m.start)
    assert ((m.start >= p.es[m.pair]) & (m.start <= p.ls[m.pair])).all()
    assert m.row_blocks["visitor"] == p.n_visitors and m.row_blocks["host"] == p.n_hosts
    assert m.row_blocks["locked pair"] == p.locked.sum()
    assert m.row_blocks["host-day capacity"] > 0


def test_a_broken_solution_is_reported_not_hidden():
    p = tiny_round(1)
    m = full_model.build_model(p)
    x = np.ones(len(m.c))  # every start of every pair: breaks visitors, hosts, budgets, capacity
    out = full_model.check_solution(p, m, x)
    assert "a visitor has two exchanges" in out["violations"]
    assert "a pair has two start days" in out["violations"]


def test_fairness_and_exchanges_first_are_not_supported():
    p = random_round(3)
    with pytest.raises(full_model.Unsupported):
        full_model.build_model(dataclasses.replace(p, fairness_share=0.5))
    with pytest.raises(full_model.Unsupported):
        full_model.build_model(dataclasses.replace(p, objective="exchanges_then_score"))
