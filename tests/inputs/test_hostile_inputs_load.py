"""Loading refuses, with a named problem, what used to crash or mislead later (issue 10, part 3):
non-finite or unbounded settings, a settings.toml that is not UTF-8 or is a folder, round
files that are folders, long unquoted cells, .xlsx formulas without stored results."""

from __future__ import annotations

import csv
import datetime as dt
import math

import openpyxl
import pytest
from helpers import host, visitor, write_round

from matchmaker.common.errors import RoundDataError, SettingsError
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import MAX_SEED, load_settings


def problems_of(round_dir) -> list:
    with pytest.raises(RoundDataError) as info:
        load_round(round_dir)
    return info.value.problems


def settings_error(**sections) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings(overrides=sections)
    return str(info.value)


@pytest.mark.parametrize("section, key", [("solver", "time_limit_s"), ("solver", "work_limit"),
                                          ("solver", "programme_budget_eur"), ("solver", "fairness_share"),
                                          ("lump_sum", "full_from_km"), ("scoring.options", "min_score")])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_every_float_setting_must_be_finite(section, key, value):
    nested = {key: value}
    for part in reversed(section.split(".")):
        nested = {part: nested}
    assert f"'{section}.{key}'" in settings_error(**nested) and "finite" in settings_error(**nested)


@pytest.mark.parametrize("value", [math.nan, math.inf, 1e308])
def test_weights_are_finite_and_bounded(value):
    assert "scoring.weights.sectors" in settings_error(scoring={"weights": {"sectors": value}})


@pytest.mark.parametrize("solver, key", [({"programme_budget_eur": 1e300}, "programme_budget_eur"),
                                         ({"programme_budget_eur": 1.1e12}, "programme_budget_eur"),
                                         ({"time_limit_s": -1.0}, "time_limit_s"),
                                         ({"time_limit_s": 1e300}, "time_limit_s"),
                                         ({"work_limit": -1.0}, "work_limit"),
                                         ({"work_limit": 1e300}, "work_limit"),
                                         ({"fairness_share": 2.0}, "fairness_share"),
                                         ({"seed": -1}, "seed"), ({"seed": MAX_SEED + 1}, "seed")])
def test_solver_settings_out_of_range(solver, key):
    assert f"solver.{key}" in settings_error(solver=solver)


def test_solver_settings_at_their_bounds_are_accepted():
    s = load_settings(overrides={"solver": {"programme_budget_eur": 1e12, "seed": MAX_SEED, "work_limit": 0.0}})
    assert s["solver"]["seed"] == MAX_SEED


def test_holidays_outside_the_date_range_are_refused():
    assert "rules.holidays" in settings_error(rules={"holidays": [dt.date(1, 1, 1)]})


def test_settings_toml_not_utf8_says_so(tmp_path):
    d = write_round(tmp_path, [visitor(), host()])
    (d / "settings.toml").write_bytes(b"[solver]\ntime_limit_s = \xff\n")
    (p,) = [p for p in problems_of(d) if p.severity == "error"]
    assert "settings.toml" in p.file and "is not UTF-8 text" in p.rule and "save it as UTF-8" in p.rule


def test_settings_toml_that_is_a_folder_is_an_error(tmp_path):
    d = write_round(tmp_path, [visitor(), host()])
    (d / "settings.toml").mkdir()
    (p,) = [p for p in problems_of(d) if p.severity == "error"]
    assert p.file == "settings.toml" and "folder" in p.rule


@pytest.mark.parametrize("name", ["registrations.csv", "partnerships.csv", "countries.csv", "decisions.csv"])
def test_a_round_file_that_is_a_folder_says_folder(tmp_path, name):
    d = write_round(tmp_path, [visitor(), host()], decisions=[{"visitor_id": "V001", "host_id": "H001"}])
    (d / name).unlink()
    (d / name).mkdir()
    errors = [p for p in problems_of(d) if p.severity == "error"]
    assert [(p.file, "is a folder, not a file" in p.rule, "missing" in p.rule) for p in errors] == [
        (name, True, False)]


def test_a_1mb_unquoted_cell_is_one_clear_problem_on_its_row(tmp_path):
    text, limit = "word " * 200_000, csv.field_size_limit()
    d = write_round(tmp_path, [visitor(description=text), host()])
    (p,) = problems_of(d)
    assert (p.file, p.row, p.column) == ("registrations.csv", 2, "description")
    assert "cell of 999,999 characters, longer than the 32,767 a spreadsheet cell holds" in p.rule
    assert "(999,999 characters)" in str(p) and len(str(p)) < 400  # the value is not printed whole
    assert csv.field_size_limit() == limit  # the csv module's limit is restored


def test_a_cell_as_long_as_a_spreadsheet_cell_is_read(tmp_path):
    text = "x" * 32_767
    rnd = load_round(write_round(tmp_path, [visitor(description=text), host()]))
    assert rnd.visitors["description"].iloc[0] == text


def test_xlsx_formula_without_a_stored_result_is_named(tmp_path):
    d = write_round(tmp_path, [visitor(), host()], fmt="xlsx")
    wb = openpyxl.load_workbook(d / "registrations.xlsx")
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("max_days") + 1, value="=2*5")  # openpyxl stores no result
    wb.save(d / "registrations.xlsx")
    (p,) = problems_of(d)
    assert (p.file, p.row, p.column, p.value) == ("registrations.xlsx", 3, "max_days", "=2*5")
    assert "formula without a stored result" in p.rule and "save the file in Excel" in p.rule
