"""Loading and validation of a round's files: every kind of bad input is reported with
file, row, column, value and rule, all at once; valid CSV and XLSX give the same Round."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import REFERENCE_DIR, host, visitor, write_big_round, write_csv, write_round

from matchmaker.cli import main as cli_main
from matchmaker.common import schema
from matchmaker.common.errors import Problem, RoundDataError
from matchmaker.inputs import reference
from matchmaker.inputs.loading import load_round

ROOT = Path(__file__).resolve().parents[2]
#: One partnership with members in ES and PT only, for rounds with a small countries.csv.
ES_PT = [{"partnership_id": "CLAMTEX", "member_countries": "ES;PT"}]


def problems_of(round_dir, **kwargs) -> list[Problem]:
    with pytest.raises(RoundDataError) as info:
        load_round(round_dir, **kwargs)
    return info.value.problems


def only(problems, **where) -> Problem:
    """The single problem matching every ``field=value`` of ``where``."""
    found = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert len(found) == 1, f"expected one problem with {where}, got {found} among:\n" + "\n".join(map(str, problems))
    return found[0]


def rows_two_roles(**visitor_values):
    return [visitor(**visitor_values), host()]


# --- a valid round -------------------------------------------------------------------

def test_valid_round_tables_have_documented_types(small_round):
    rnd = load_round(small_round)
    assert (rnd.n_visitors, rnd.n_hosts) == (3, 2)
    v, h = rnd.visitors, rnd.hosts
    assert list(v.index) == [0, 1, 2] and list(h.index) == [0, 1]
    assert v["sectors"].iloc[2] == ("water", "eco_industries")
    assert v["available_from"].dtype == "datetime64[ns]"
    assert v["min_days"].dtype == np.int64 and h["capacity"].dtype == np.int64
    assert v["already_visited"].dtype == bool and h["grouped"].dtype == bool
    assert list(v["source_row"]) == [2, 3, 4] and list(h["source_row"]) == [5, 6]
    assert "capacity" not in v.columns and "already_visited" not in h.columns
    assert v["preferred_countries"].iloc[0] == () and np.isnan(v["max_distance_km"].iloc[0])
    # partnership = auto resolved, what the file said is kept
    assert v["partnership_requested"].tolist() == ["CLAMTEX", "auto", "BLUES"]
    assert v["partnership"].iloc[1] != "auto"
    assert rnd.partnerships.index.name == "partnership_id" and rnd.countries.index.name == "country"
    assert rnd.countries.loc["GB", "cosme"].item() is False
    decided = rnd.decisions[["visitor_id", "host_id", "decision", "source_row"]]
    assert decided.values.tolist() == [["V001", "H001", "lock", 2]]
    assert rnd.warnings == [] and re.fullmatch(r"[0-9a-f]{64}", rnd.input_hash)


def test_csv_and_equivalent_xlsx_load_to_the_same_round(tmp_path):
    rows = [visitor(preferred_countries="PT;FR", max_distance_km=1500.5, name="Clúster Textil Valencià"),
            visitor(partnership="auto", country="FR", mode="either", already_visited=True),
            host(capacity=3, grouped=True, max_visitors=4), host(country="IT")]
    a = load_round(write_round(tmp_path, rows, name="csv"))
    b = load_round(write_round(tmp_path, rows, name="xlsx", fmt="xlsx"))
    for table in ("visitors", "hosts", "partnerships", "countries", "decisions"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.settings == b.settings and a.warnings == b.warnings == []


def test_xlsx_with_text_cells_and_extra_sheet_loads_with_a_warning(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), fmt="xlsx")
    wb = openpyxl.load_workbook(d / "registrations.xlsx")
    # every cell as text, as a user typing in a text-formatted sheet would have
    for row in wb.active.iter_rows():
        for cell in row:
            cell.value = None if cell.value is None else str(cell.value).lower() if isinstance(cell.value, bool) \
                else cell.value.date().isoformat() if hasattr(cell.value, "date") else str(cell.value)
    wb.create_sheet("notes")
    wb.save(d / "registrations.xlsx")
    rnd = load_round(d)
    assert rnd.n_visitors == 1 and rnd.visitors["min_days"].iloc[0] == 5
    w = only(rnd.warnings, file="registrations.xlsx")
    assert "first sheet 'registrations'" in w.rule and "'notes'" in w.rule


def test_utf8_bom_is_accepted(tmp_path):
    d = write_round(tmp_path, rows_two_roles(name="Clúster Textil Valencià"))
    path = d / "registrations.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    rnd = load_round(d)
    assert rnd.visitors["org_id"].iloc[0] == "V001" and rnd.visitors["name"].iloc[0] == "Clúster Textil Valencià"


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers(tmp_path):
    d = write_round(tmp_path, [visitor(), host(), visitor(min_days="x")])
    path = d / "registrations.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0] + "\n" + lines[1] + ",,,\n" + "".join(lines[2:]), encoding="utf-8")
    p = only(problems_of(d), column="min_days")
    assert p.row == 6  # header 1, blank 2, V001 3, commas-only 4, H001 5, V002 6


def test_ineligible_but_well_formed_registrations_load(tmp_path):
    d = write_round(tmp_path, [visitor(org_type="other"), visitor(country="GB", city="Leeds"), host(country="NO")])
    rnd = load_round(d)
    assert rnd.n_visitors == 2 and rnd.n_hosts == 1 and rnd.warnings == []


def test_same_org_id_in_both_roles_is_allowed(tmp_path):
    rnd = load_round(write_round(tmp_path, [visitor(org_id="ORG-1"), host(org_id="ORG-1")]))
    assert rnd.visitors["org_id"].tolist() == rnd.hosts["org_id"].tolist() == ["ORG-1"]


def test_visitor_only_round_needs_no_host_columns(tmp_path):
    d = write_round(tmp_path, [visitor()], drop_columns=("capacity", "max_visitors", "grouped"))
    rnd = load_round(d)
    assert rnd.n_hosts == 0
    p = only(rnd.warnings, column="role")
    assert (p.file, p.severity, p.rule) == ("registrations.csv", "warning", "no host rows: nobody can be matched")


# --- files ------------------------------------------------------------------------------

def test_missing_files_are_reported(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    (d / "partnerships.csv").unlink()
    (d / "registrations.csv").rename(d / "registration.csv")
    problems = problems_of(d)
    p = only(problems, file="partnerships.csv")
    assert (p.row, p.column, p.value, p.rule) == (None, None, "", "missing file")
    p = only(problems, file="registrations.csv")
    assert p.rule.startswith("missing file: the round needs registrations.csv or registrations.xlsx")
    assert "found: registration.csv" in p.rule


def test_round_directory_not_found(tmp_path):
    p = only(problems_of(tmp_path / "nope"))
    assert p.file.endswith("nope") and p.rule == "round directory not found"


def test_both_csv_and_xlsx_registrations_is_an_error(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    write_round(tmp_path, rows_two_roles(), fmt="xlsx")  # same directory name: adds the .xlsx
    p = only(problems_of(d))
    assert p.file == "registrations.csv" and "keep exactly one" in p.rule


@pytest.mark.parametrize("content, rule", [
    (b"", "empty file: no header row"),
    (b"\n\n", "empty file: row 1 must be the header with the column names"),
    (b"partnership_id,name,sectors,member_countries,budget_eur\n", "empty file: header but no data rows"),
])
def test_empty_file(tmp_path, content, rule):
    d = write_round(tmp_path, rows_two_roles())
    (d / "partnerships.csv").write_bytes(content)
    problems = problems_of(d)
    p = only(problems, file="partnerships.csv")
    assert (p.row, p.column, p.value, p.rule) == (None, None, "", rule)


def test_decisions_file_with_header_only_means_no_decisions(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), decisions=[])
    rnd = load_round(d)
    assert len(rnd.decisions) == 0 and list(rnd.decisions.columns)[:3] == ["visitor_id", "host_id", "decision"]


def test_registrations_with_header_only_is_one_problem(tmp_path):
    """Not also one 'unknown visitor/host' per decision and 'no visitor/host rows' warnings."""
    d = write_round(tmp_path, rows_two_roles(), decisions=[{"visitor_id": "V001", "host_id": "H001"}])
    path = d / "registrations.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    p = only(problems_of(d))
    assert (p.file, p.row, p.rule) == ("registrations.csv", None, "empty file: header but no data rows")


def test_wrong_encoding_names_byte_position_and_row(tmp_path):
    d = write_round(tmp_path, [visitor(name="Cluster Valencia"), host(name="Clúster Têxtil"), visitor(name="Óptica")])
    path = d / "registrations.csv"
    text = path.read_text(encoding="utf-8")
    raw = text.encode("latin-1")
    path.write_bytes(raw)
    p = only(problems_of(d), file="registrations.csv")
    position = raw.index(b"\xfa")
    assert (p.row, p.column, p.value) == (3, None, "Clúster Têxtil")  # the cell, read as Windows-1252
    assert p.rule.startswith(f"file is not UTF-8 text: byte 0xFA at byte position {position} (line 3) "
                             "cannot be decoded")
    assert "2 lines have such bytes" in p.rule and "Windows-1252/Latin-1" in p.rule
    assert "save the file as UTF-8" in p.rule


def test_utf16_file_is_one_problem_not_a_flood(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    path = d / "registrations.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    p = only(problems_of(d))
    assert (p.file, p.row, p.column, p.value) == ("registrations.csv", None, None, "")
    assert p.rule.startswith("file is UTF-16 text, not UTF-8: save the file as UTF-8")


def test_malformed_csv_quote(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    path = d / "partnerships.csv"
    path.write_text(path.read_text() + 'X,"unterminated,textile,ES,1\n')
    p = only(problems_of(d), file="partnerships.csv")
    assert p.row == 15 and p.rule.startswith("malformed CSV")


def test_row_with_more_cells_than_the_header(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    path = d / "partnerships.csv"
    path.write_text(path.read_text() + "EXTRA,Extra,textile,ES,1000,oops\n")
    p = only(problems_of(d), file="partnerships.csv")
    assert (p.row, p.value) == (15, "oops") and p.rule.startswith("row has 6 cells but the header names only 5 columns")


def test_unreadable_xlsx(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    (d / "registrations.csv").unlink()
    (d / "registrations.xlsx").write_bytes(b"not a zip")
    p = only(problems_of(d), file="registrations.xlsx")
    assert p.rule.startswith("not a readable Excel .xlsx workbook")


# --- columns -----------------------------------------------------------------------------

def test_missing_required_column(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), drop_columns=("city",))))
    assert (p.file, p.row, p.column, p.value, p.rule) == ("registrations.csv", None, "city", "",
                                                          "missing required column")


def test_missing_host_column_when_there_are_hosts(tmp_path):
    p = only(problems_of(write_round(tmp_path, [visitor(), host()], drop_columns=("grouped",))))
    assert (p.row, p.column, p.rule) == (None, "grouped", "missing column, required for host rows (first at row 3)")


def test_unknown_column_is_a_warning_naming_it(tmp_path):
    rnd = load_round(write_round(tmp_path, rows_two_roles(sector="textile")))
    p = only(rnd.warnings, column="sector")
    assert (p.file, p.row, p.value, p.severity) == ("registrations.csv", None, "", "warning")
    assert p.rule.startswith("unknown column, ignored; did you mean 'sectors'?")
    assert "sector" not in rnd.visitors.columns


def test_duplicate_column_name(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    path = d / "countries.csv"
    path.write_text(path.read_text().replace("lump_sum_eur", "name", 1))
    p = only(problems_of(d), column="name")
    assert (p.file, p.row) == ("countries.csv", 1) and "appears more than once (columns 2 and 4)" in p.rule


@pytest.mark.parametrize("column, value, rule", [
    ("min_days", "five", "must be a whole number, from 3 to 22"),
    ("min_days", "4.5", "must be a whole number, from 3 to 22"),
    ("latitude", "north", "must be a number (for example 39.4699), from -90 to 90"),
    ("latitude", "39,47", "must be a number (for example 39.4699), from -90 to 90; use a decimal point, not a comma"),
    ("max_distance_km", "nan", "must be a number (for example 1500), from 0 to 20000"),
    ("available_from", "01/03/2027", "must be an ISO date YYYY-MM-DD (for example 2027-03-01)"),
    ("available_from", "2027-02-30", "must be an ISO date YYYY-MM-DD (for example 2027-03-01)"),
    ("already_visited", "maybe", "must be true or false (also accepted: yes/1/y and no/0/n)"),
])
def test_wrong_type(tmp_path, column, value, rule):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(**{column: value}))))
    assert (p.file, p.row, p.column, p.value, p.rule) == ("registrations.csv", 2, column, value, rule)


@pytest.mark.parametrize("column, value, rule", [
    ("latitude", "95", "value out of range: must be from -90 to 90"),
    ("min_days", "2", "value out of range: must be from 3 to 22"),
    ("max_distance_km", "-1", "value out of range: must be from 0 to 20000"),
])
def test_value_out_of_range(tmp_path, column, value, rule):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(**{column: value}))))
    assert (p.row, p.column, p.value, p.rule) == (2, column, value, rule)


def test_budget_out_of_range(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), partnerships=[{"partnership_id": "CLAMTEX", "budget_eur": -5}])
    p = only(problems_of(d))
    assert (p.file, p.row, p.column, p.value, p.rule) == ("partnerships.csv", 2, "budget_eur", "-5",
                                                          "value out of range: must be from 0 to 1,000,000,000,000")


@pytest.mark.parametrize("column, value, rule", [
    ("org_type", "ngo", "unknown code 'ngo' of vocabulary 'org_type' (allowed: cluster_organisation, "
                        "scaleup_support, sme, other)"),
    ("mode", "hybrid", "unknown code 'hybrid' of vocabulary 'mode' (allowed: physical, virtual, either)"),
    ("country", "XX", "unknown country code 'XX': not in countries.csv"),
    ("country", "es", "unknown country code 'es': not in countries.csv; did you mean 'ES'? (codes are case-sensitive)"),
    ("partnership", "NOPE", "unknown partnership id 'NOPE': not in partnerships.csv "
                            "(use a partnership_id from partnerships.csv or 'auto')"),
    ("sectors", "textile;Energy;bogus", "unknown code 'Energy', 'bogus' in this ';'-separated list of vocabulary "
                                        "'sector' (allowed: see data/reference/vocabularies.csv); did you mean "
                                        "'energy'? (codes are case-sensitive)"),
    ("preferred_countries", "PT;ZZ", "unknown country code 'ZZ' in this ';'-separated list: not in countries.csv"),
])
def test_unknown_code(tmp_path, column, value, rule):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(**{column: value}))))
    assert (p.file, p.row, p.column, p.value, p.rule) == ("registrations.csv", 2, column, value, rule)


def test_country_must_be_in_the_rounds_countries_csv(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), countries=[{"country": "PT", "lump_sum_eur": 780}])
    problems = problems_of(d)
    p = only(problems, file="registrations.csv")
    assert (p.row, p.column, p.value) == (2, "country", "ES")
    # the partnerships' member countries are checked against it too
    p = only(problems, file="partnerships.csv", row=2)
    assert p.column == "member_countries" and "unknown country code 'DE', 'ES', 'FR', 'PL', 'CZ'" in p.rule


def test_country_code_format(tmp_path):
    countries = [{"country": "ES"}, {"country": "PT"}, {"country": "Por"}]
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), ES_PT, countries)))
    assert (p.file, p.row, p.column, p.value) == ("countries.csv", 4, "country", "Por")
    assert p.rule == "must be an ISO 3166-1 alpha-2 code: two capital letters (Kosovo: XK)"


# --- rows ----------------------------------------------------------------------------------

def test_required_value_missing(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(name=""))))
    assert (p.row, p.column, p.value, p.rule) == (2, "name", "", "required value is missing")


def test_list_of_separators_only_counts_as_missing(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(languages=" ; ;"))))
    assert (p.row, p.column, p.rule) == (2, "languages", "required value is missing")


@pytest.mark.parametrize("column", ["capacity", "max_visitors", "grouped"])
def test_host_row_missing_host_value(tmp_path, column):
    p = only(problems_of(write_round(tmp_path, [visitor(), host(**{column: ""})])))
    assert (p.row, p.column, p.value, p.rule) == (3, column, "", "required for host rows: value is missing")


def test_visitor_row_missing_already_visited(tmp_path):
    p = only(problems_of(write_round(tmp_path, [visitor(already_visited=""), host()])))
    assert (p.row, p.column, p.rule) == (2, "already_visited", "required for visitor rows: value is missing")


def test_duplicate_org_id_within_a_role(tmp_path):
    d = write_round(tmp_path, [visitor(org_id="A"), host(org_id="A"), visitor(org_id="B"), visitor(org_id="A")])
    p = only(problems_of(d))
    assert (p.row, p.column, p.value, p.rule) == (5, "org_id", "A",
                                                  "duplicate org_id among visitor rows (first at row 2)")


def test_duplicate_partnership_id_and_country(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), partnerships=ES_PT * 2,
                    countries=[{"country": "ES"}, {"country": "PT"}, {"country": "ES"}])
    problems = problems_of(d)
    p = only(problems, file="partnerships.csv")
    assert (p.row, p.column, p.value, p.rule) == (3, "partnership_id", "CLAMTEX",
                                                  "duplicate partnership_id (first at row 2)")
    p = only(problems, file="countries.csv")
    assert (p.row, p.column, p.value, p.rule) == (4, "country", "ES", "duplicate country (first at row 2)")


def test_available_to_before_available_from(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(available_from="2027-05-01", available_to="2027-04-30"))))
    assert (p.row, p.column, p.value, p.rule) == (
        2, "available_to", "2027-04-30", "available_to must not be before available_from (2027-05-01)")


def test_min_days_above_max_days(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(min_days=8, max_days=5))))
    assert (p.row, p.column, p.value, p.rule) == (2, "max_days", "5", "max_days must not be below min_days (8)")


def test_single_host_with_capacity_above_one(tmp_path):
    p = only(problems_of(write_round(tmp_path, [visitor(), host(grouped=False, capacity=2, max_visitors=3)])))
    assert (p.row, p.column, p.value) == (3, "capacity", "2")
    assert p.rule.startswith("a host with grouped = false receives one visitor at a time: capacity must be 1")
    assert "decisions.md §7" in p.rule


def test_other_roles_columns_are_ignored_with_a_warning(tmp_path):
    rows = [visitor(capacity=3), visitor(capacity="many", grouped="true"), host(already_visited="yes")]
    rnd = load_round(write_round(tmp_path, rows))
    p = only(rnd.warnings, column="capacity")
    assert (p.row, p.value, p.severity) == (2, "3", "warning")
    assert p.rule == "host-only column filled on visitor rows (2, 3); ignored for visitors"
    p = only(rnd.warnings, column="already_visited")
    assert (p.row, p.value) == (4, "yes") and p.rule == "visitor-only column filled on host rows (4); ignored for hosts"
    only(rnd.warnings, column="grouped")
    assert "capacity" not in rnd.visitors.columns


def test_lump_sum_missing_for_a_cosme_country(tmp_path):
    countries = [{"country": "ES"}, {"country": "PT", "lump_sum_eur": ""},
                 {"country": "GB", "cosme": False, "lump_sum_eur": ""}]
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), ES_PT, countries)))
    assert (p.file, p.row, p.column, p.value) == ("countries.csv", 3, "lump_sum_eur", "")
    assert p.rule == "required for COSME countries (cosme = true): value is missing"


# --- decisions -------------------------------------------------------------------------------

def test_decision_naming_unknown_ids(tmp_path):
    decisions = [{"visitor_id": "V404", "host_id": "H001"}, {"visitor_id": "H001", "host_id": "V001"}]
    problems = problems_of(write_round(tmp_path, rows_two_roles(), decisions=decisions))
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [
        ("decisions.csv", 2, "visitor_id", "V404"), ("decisions.csv", 3, "visitor_id", "H001"),
        ("decisions.csv", 3, "host_id", "V001")]
    assert problems[0].rule == "unknown visitor: no visitor row with this org_id in registrations"
    assert problems[1].rule.endswith("('H001' is registered as a host only)")
    assert problems[2].rule == ("unknown host: no host row with this org_id in registrations "
                                "('V001' is registered as a visitor only)")


def test_decision_pair_both_locked_and_forbidden(tmp_path):
    decisions = [{"visitor_id": "V001", "host_id": "H001"},
                 {"visitor_id": "V001", "host_id": "H001", "decision": "forbid"}]
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), decisions=decisions)))
    assert (p.file, p.row, p.column, p.value) == ("decisions.csv", 3, "decision", "forbid")
    assert p.rule == "pair is both locked and forbidden (rows 2 and 3); keep one decision"


def test_duplicate_decision_rows(tmp_path):
    decisions = [{"visitor_id": "V001", "host_id": "H001", "decision": "forbid"}] * 2
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), decisions=decisions)))
    assert (p.row, p.column, p.value, p.rule) == (3, "decision", "forbid",
                                                  "duplicate decision: same pair and decision as row 2")


def test_unknown_decision_code(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles(),
                                     decisions=[{"visitor_id": "V001", "host_id": "H001", "decision": "accept"}])))
    assert (p.file, p.row, p.column, p.value) == ("decisions.csv", 2, "decision", "accept")
    assert p.rule == "unknown code 'accept' of vocabulary 'decision' (allowed: lock, forbid)"


# --- everything at once, fallbacks, settings, hash ---------------------------------------------

def test_all_problems_of_all_files_are_reported_at_once(tmp_path):
    rows = [visitor(min_days="x", country="XX"), visitor(org_id="V001"), host(capacity="")]
    d = write_round(tmp_path, rows, partnerships=[{"partnership_id": "CLAMTEX", "budget_eur": "lots"}],
                    countries=[{"country": "ES"}, {"country": "PT", "cosme": "perhaps"}],
                    decisions=[{"visitor_id": "V001", "host_id": "H999"}], settings={"rules": {"min_working_days": 0}})
    problems = problems_of(d)
    found = {(p.file, p.row, p.column) for p in problems}
    assert found == {
        ("settings.toml", None, None),
        ("countries.csv", 3, "cosme"),
        ("partnerships.csv", 2, "budget_eur"),
        ("registrations.csv", 2, "country"), ("registrations.csv", 2, "min_days"),
        ("registrations.csv", 3, "org_id"), ("registrations.csv", 4, "capacity"),
        ("decisions.csv", 2, "host_id"),
    }
    assert "min_working_days" in only(problems, file="settings.toml").rule
    # problems come file by file, rows in order
    assert [p.file for p in problems] == sorted([p.file for p in problems], key=[
        "settings.toml", "countries.csv", "partnerships.csv", "registrations.csv", "decisions.csv"].index)


def test_countries_fall_back_to_reference_with_a_warning(tmp_path):
    rnd = load_round(write_round(tmp_path, rows_two_roles(), countries=False))
    p = only(rnd.warnings, file="countries.csv")
    assert p.severity == "warning" and p.rule.startswith("no countries.csv in the round: using the reference table")
    assert str(REFERENCE_DIR / "countries.csv") in p.rule
    pd.testing.assert_frame_equal(rnd.countries, reference.load_countries())


def test_settings_layers_round_file_then_settings_file_then_overrides(tmp_path):
    d = write_round(tmp_path, rows_two_roles(), settings={"rules": {"max_working_days": 20, "min_working_days": 4}})
    extra = tmp_path / "extra.toml"
    extra.write_text("[rules]\nmax_working_days = 15\n")
    assert load_round(d).settings["rules"]["max_working_days"] == 20
    rnd = load_round(d, settings_file=extra, overrides={"scoring": {"options": {"top_k": 7}}})
    assert rnd.settings["rules"]["max_working_days"] == 15 and rnd.settings["rules"]["min_working_days"] == 4
    assert rnd.settings["scoring"]["options"]["top_k"] == 7


def test_bad_override_is_reported_as_a_problem(tmp_path):
    p = only(problems_of(write_round(tmp_path, rows_two_roles()), overrides={"rules": {"bogus": 1}}))
    assert p.file == "overrides" and "unknown setting 'rules.bogus'" in p.rule


def test_input_hash_covers_files_and_settings(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    first = load_round(d).input_hash
    assert load_round(d).input_hash == first
    assert load_round(d, overrides={"solver": {"seed": 1}}).input_hash != first
    path = d / "partnerships.csv"
    path.write_text(path.read_text().replace("60000", "60001", 1))
    assert load_round(d).input_hash != first


def test_big_round_loads_in_seconds(tmp_path):
    d = write_big_round(tmp_path, 10_000, 5_000)
    start = time.perf_counter()
    rnd = load_round(d)
    elapsed = time.perf_counter() - start
    assert (rnd.n_visitors, rnd.n_hosts) == (10_000, 5_000) and rnd.warnings == []
    assert not (rnd.visitors["partnership"] == "auto").any()
    assert elapsed < 10, f"loading 15,000 registrations took {elapsed:.1f} s"


def test_big_round_with_bad_cells_reports_each(tmp_path):
    d = write_big_round(tmp_path, 2_000, 1_000)
    frame = pd.read_csv(d / "registrations.csv", dtype=str, keep_default_na=False)
    bad = np.arange(5, 3_000, 250)
    frame.loc[bad, "min_days"] = "x"
    frame.to_csv(d / "registrations.csv", index=False)
    problems = problems_of(d)
    assert [p.row for p in problems] == list(bad + 2) and {p.column for p in problems} == {"min_days"}


# --- reference data ------------------------------------------------------------------------------

def test_vocabularies_include_reference_and_fixed_ones():
    v = reference.load_vocabularies()
    assert v["org_type"] == ("cluster_organisation", "scaleup_support", "sme", "other")
    assert "textile" in v["sector"] and "en" in v["language"]
    for name, codes in schema.FIXED_VOCABULARIES.items():
        assert v[name] == codes


def test_reference_tables():
    countries = reference.load_countries()
    assert countries.loc["PT", "lump_sum_eur"] == 780 and countries["lump_sum_eur"].max() == 1100
    assert not countries.loc["GB", "cosme"] and countries.loc["XK", "cosme"]
    partnerships = reference.load_partnerships()
    assert len(partnerships) == 13 and {"PLACEHOLDER_12", "PLACEHOLDER_13"} <= set(partnerships.index)
    assert partnerships.loc["CLAMTEX", "member_countries"] == ("ES", "PT", "FR")


def test_reference_directory_from_environment(tmp_path, monkeypatch):
    for name in ("countries.csv", "partnerships.csv"):
        (tmp_path / name).write_bytes((REFERENCE_DIR / name).read_bytes())
    write_csv(tmp_path / "vocabularies.csv", ["vocabulary", "code", "label"],
              [{"vocabulary": "sector", "code": "textile", "label": "Textile"},
               {"vocabulary": "sector", "code": "textile", "label": "again"}])
    monkeypatch.setenv("MATCHMAKER_REFERENCE", str(tmp_path))
    assert reference.reference_dir() == tmp_path
    with pytest.raises(RoundDataError) as info:
        reference.load_vocabularies()
    p = only(info.value.problems)
    assert (p.file, p.row, p.column, p.value) == (str(tmp_path / "vocabularies.csv"), 3, "code", "textile")
    monkeypatch.setenv("MATCHMAKER_REFERENCE", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="MATCHMAKER_REFERENCE"):
        reference.load_countries()


# --- command line and documentation ----------------------------------------------------------------

def test_cli_validate_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    d = write_round(tmp_path, [visitor(min_days="x", description="multi\nline"), host(capacity="", unknown_col="1")])
    assert cli_main(["validate", str(d)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: registrations.csv, column 'unknown_col': unknown column, ignored (known columns: "
        + ", ".join(schema.column_names(schema.REGISTRATIONS)) + ")",
        "error: registrations.csv, row 2, column 'min_days': value 'x': must be a whole number, from 3 to 22",
        "error: registrations.csv, row 3, column 'capacity': value '': required for host rows: value is missing",
        f"{d}: 2 error(s): not usable as it is; fix the problems above and run the command again",
    ]


def _doc_generator():
    spec = importlib.util.spec_from_file_location("gen_data_format_doc", ROOT / "scripts" / "gen_data_format_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_format_doc_is_generated_from_schema():
    doc = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    assert doc == _doc_generator().render(), "docs/data-format.md is stale: run scripts/gen_data_format_doc.py"
    for spec in schema.FILES.values():
        for column in spec:
            assert f"| `{column.name}` |" in doc


def test_data_format_doc_examples_load(tmp_path):
    doc = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"## `(\w+)\.csv.*?```csv\n(.*?)```", doc, flags=re.S)
    examples = dict(blocks)
    d = tmp_path / "round"
    d.mkdir()
    (d / "registrations.csv").write_text(examples["registrations"], encoding="utf-8")
    (d / "decisions.csv").write_text(examples["decisions"], encoding="utf-8")
    (d / "partnerships.csv").write_bytes((REFERENCE_DIR / "partnerships.csv").read_bytes())
    rnd = load_round(d)
    assert (rnd.n_visitors, rnd.n_hosts, len(rnd.decisions)) == (1, 1, 1)
    assert [p.file for p in rnd.warnings] == ["countries.csv"]


def test_semicolon_separated_csv_is_named(tmp_path):
    d = write_round(tmp_path, rows_two_roles())
    path = d / "partnerships.csv"
    path.write_text(path.read_text().replace(",", ";"))
    p = only(problems_of(d))
    assert (p.file, p.row, p.column, p.value) == ("partnerships.csv", 1, None,
                                                  "partnership_id;name;sectors;member_countries;budget_eur")
    assert p.rule.startswith("the columns are separated by ';', not commas")


def test_column_name_in_other_case_gets_a_suggestion(tmp_path):
    d = write_round(tmp_path, [visitor(), host()])
    path = d / "registrations.csv"
    path.write_text(path.read_text().replace("org_type", "Org_Type", 1))
    problems = problems_of(d)
    assert only(problems, column="org_type").rule == (
        "missing required column (the header has 'Org_Type': column names are case-sensitive)")
    assert only(problems, column="Org_Type").rule.startswith(
        "unknown column, ignored; did you mean 'org_type'? (names are case-sensitive)")


def test_misspelt_column_name_is_named_in_the_missing_column_problem(tmp_path):
    d = write_round(tmp_path, [visitor(), host()])
    path = d / "registrations.csv"
    path.write_text(path.read_text().replace("latitude", "lattitude", 1))
    assert only(problems_of(d), column="latitude").rule == (
        "missing required column (the header has 'lattitude': is it this column misspelt?)")


def test_member_country_without_a_point_for_partnership_selection(tmp_path):
    countries = [{"country": "ES"}, {"country": "PT"}, {"country": "QZ", "name": "Newland"}]
    partnerships = [{"partnership_id": "CLAMTEX", "member_countries": "ES;PT;QZ"}]
    p = only(problems_of(write_round(tmp_path, rows_two_roles(), partnerships, countries)))
    assert (p.file, p.row, p.column) == ("partnerships.csv", None, None)
    assert p.rule.startswith("automatic partnership selection cannot run: ") and "'QZ'" in p.rule
