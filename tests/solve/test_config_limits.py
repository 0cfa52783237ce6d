"""The solver's limits in the users' words (docs/decisions.md §34): the time limit derived from the work."""

from __future__ import annotations

import pytest

from matchmaker.common.errors import SettingsError
from matchmaker.inputs.settings import load_settings
from matchmaker.solve.config import DEFAULT_WORK, SolveConfig, derived_time_limit
from matchmaker.solve.effort import Effort

UNSET = dict(time_limit_s=0.0, work_limit=0.0, seed=0, relative_gap=0.0)


def test_the_default_settings_give_45_work_units_and_a_far_safety_net():
    config = SolveConfig.from_settings(load_settings()["solver"])
    assert (config.work_limit, config.time_limit) == (45.0, 390.0) == (DEFAULT_WORK, derived_time_limit(45.0))
    # a machine three times slower, spending 1.5 s per unit on the reference, still ends by the work, with room to spare
    assert config.time_limit > 3 * 1.5 * config.work_limit


def test_a_work_limit_alone_gets_the_derived_time_limit():
    assert SolveConfig.from_settings(UNSET, work_limit=10).time_limit == 110.0
    assert SolveConfig.from_settings(dict(UNSET, work_limit=100.0)).time_limit == 830.0


def test_a_time_limit_alone_gives_three_quarters_of_it_as_work_and_both_are_taken_as_given():
    assert SolveConfig.from_settings(UNSET, time_limit=5).work_limit == 3.75
    assert SolveConfig.from_settings(dict(UNSET, time_limit_s=300.0)).work_limit == 225.0
    config = SolveConfig.from_settings(dict(UNSET, time_limit_s=20.0), work_limit=3)
    assert (config.time_limit, config.work_limit) == (20.0, 3.0)


def test_a_time_limit_option_of_zero_is_refused_by_its_name():
    with pytest.raises(SettingsError, match=r"time_limit \(--time-limit\) must be a finite number > 0"):
        SolveConfig.from_settings(UNSET, time_limit=0)


def test_settings_accept_0_for_a_derived_time_limit_and_refuse_negative_ones():
    assert load_settings(overrides={"solver": {"time_limit_s": 0.0}})["solver"]["time_limit_s"] == 0.0
    with pytest.raises(SettingsError, match="solver.time_limit_s"):
        load_settings(overrides={"solver": {"time_limit_s": -1.0}})


def test_effort_offers_the_base_first_then_the_rest():
    e = Effort.for_config(SolveConfig(time_limit=600, work_limit=100.0, base_work=45.0))
    assert (e.work_limit, e.full_limit, e.left()) == (45.0, 100.0, 45.0)
    e.spend(50.0)
    assert e.left() == 0 and e.extend() == 50.0
    small = Effort.for_config(SolveConfig(time_limit=600, work_limit=3.75))
    assert small.work_limit == small.full_limit == 3.75
