"""Settings are checked all at once: every bad key or value of every file in one error.

A reviewer found that two bad values were reported one run at a time; each problem must name
the file that set the key, the key, the value and the rule, and ``matchmaker validate`` must
list them all in one run (exit code 1, a settings file is the round's input).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import host, visitor, write_round

from matchmaker.common.errors import RoundDataError, SettingsError
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings

#: Three different kinds of problem: an unknown choice, a value out of range, a wrong type.
THREE_BAD = {"solver": {"fairness_by": "planet", "stability_weight": 99.0, "seed": "seven"}}
THREE_WORDS = [
    "setting 'solver.fairness_by' = 'planet': must be one of partnership, country",
    "setting 'solver.stability_weight' = 99.0: must be from 0 (off: the total score) to 10",
    "setting 'solver.seed' = 'seven' must be of type int",
]


def _problems(**sections) -> list[str]:
    with pytest.raises(SettingsError) as info:
        load_settings(overrides=sections)
    return [p.rule for p in info.value.problems]


def test_three_bad_values_in_a_settings_file_are_reported_in_one_run(tmp_path):
    d = write_round(tmp_path, [visitor(), host()], settings=THREE_BAD)
    with pytest.raises(RoundDataError) as info:
        load_round(d)
    problems = [p for p in info.value.problems if p.file == "settings.toml"]
    assert len(problems) == 3
    for words, p in zip(THREE_WORDS, sorted(problems, key=lambda p: [w in p.rule for w in THREE_WORDS],
                                           reverse=True), strict=True):
        assert p.rule == f"{d / 'settings.toml'}: {words}"


def test_three_bad_values_are_listed_by_matchmaker_validate_in_a_subprocess(tmp_path):
    d = write_round(tmp_path, [visitor(), host()], settings=THREE_BAD)
    done = subprocess.run([sys.executable, "-m", "matchmaker.cli", "validate", str(d)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for words in THREE_WORDS:
        assert f"error: settings.toml: {d / 'settings.toml'}: {words}" in done.stderr
    assert "3 error(s)" in done.stderr


def test_load_settings_raises_one_error_listing_every_problem():
    with pytest.raises(SettingsError) as info:
        load_settings(overrides=THREE_BAD)
    assert [p.file for p in info.value.problems] == ["overrides"] * 3
    assert sorted(str(info.value).splitlines()) == sorted(f"overrides: {w}" for w in THREE_WORDS)


def test_unknown_keys_and_bad_values_of_two_files_each_name_their_own_file(tmp_path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text('colour = "red"\n[solver]\nfairness_share = 2.0\n')
    second.write_text("[rules]\nmax_working_days = 30\n[scoring.weights]\nsectors = -1.0\n")
    with pytest.raises(SettingsError) as info:
        load_settings(first, second)
    found = {(p.file, p.rule) for p in info.value.problems}
    assert found == {
        ("a.toml", f"{first}: unknown setting 'colour' (known here: lump_sum, quality, rules, scoring, solver)"),
        ("a.toml", f"{first}: setting 'solver.fairness_share' = 2.0: must be between 0 and 1"),
        ("b.toml", f"{second}: setting 'rules.max_working_days' = 30: one month has at most 23 working days"),
        ("b.toml", f"{second}: setting 'scoring.weights.sectors' = -1.0: weights must be >= 0 and <= 1e+06"),
    }


def test_an_unreadable_file_does_not_hide_the_problems_of_the_next(tmp_path):
    broken, other = tmp_path / "broken.toml", tmp_path / "other.toml"
    broken.write_text("[solver\n")
    other.write_text('[solver]\nobjective = "speed"\n')
    rules = _rules_of(broken, other)
    assert len(rules) == 2
    assert rules[0].startswith(f"{broken}: not valid TOML")
    assert rules[1] == f"{other}: setting 'solver.objective' = 'speed': must be one of score, exchanges_then_score"


def _rules_of(*files) -> list[str]:
    with pytest.raises(SettingsError) as info:
        load_settings(*files)
    return [p.rule for p in info.value.problems]


def test_a_wrongly_typed_value_is_not_reported_again_by_the_rules_between_keys():
    rules = _problems(rules={"min_working_days": "three"}, scoring={"weights": {"sectors": float("nan")}})
    assert rules == ["overrides: setting 'rules.min_working_days' = 'three' must be of type int",
                     "overrides: setting 'scoring.weights.sectors' = nan must be a finite number"]


def test_a_rule_between_keys_names_the_files_that_set_them(tmp_path):
    low, high = tmp_path / "low.toml", tmp_path / "high.toml"
    low.write_text("[rules]\nmax_working_days = 4\n")
    high.write_text("[rules]\nmin_working_days = 6\n")
    assert _rules_of(low, high) == [f"{low}, {high}: setting 'rules.min_working_days' = 6: must be >= 1 and <= "
                                    "rules.max_working_days"]


def test_every_bad_holiday_is_reported_and_a_table_in_place_of_a_value():
    rules = _problems(rules={"holidays": ["2026-05-01", 3]}, solver={"seed": {"x": 1}})
    assert len(rules) == 3
    assert "setting 'solver.seed' = {'x': 1} must be of type int" in rules[0]
    assert all("rules.holidays" in r and "ISO dates" in r for r in rules[1:])


def test_good_settings_still_load():
    s = load_settings(overrides={"solver": {"fairness_by": "country", "stability_weight": 2}})
    assert s["solver"]["fairness_by"] == "country" and s["solver"]["stability_weight"] == 2.0
