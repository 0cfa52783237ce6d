"""Typed columns from raw text (matchmaker.inputs.columns): every type, vocabularies, ranges,
required values and the wording of each problem, on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matchmaker.common.schema import Column
from matchmaker.inputs.columns import check_required, parse_table, range_text, vocabulary_rule
from matchmaker.inputs.raw_tables import RawTable

SPEC = (
    Column("id", "str", True, "Identifier.", "A-1"),
    Column("days", "int", True, "Days.", "5", minimum=3, maximum=22),
    Column("km", "float", False, "Distance.", "12.5", minimum=0),
    Column("from", "date", False, "First day.", "2027-03-01"),
    Column("grouped", "bool", "host", "Grouped.", "true"),
    Column("mode", "code", False, "Mode.", "physical", vocabulary="mode"),
    Column("languages", "list", False, "Languages.", "en;es", vocabulary="language"),
)
VOCABULARIES = {"mode": ("physical", "virtual", "either"), "language": ("en", "es", "fr")}


def raw(**columns: list[str]) -> RawTable:
    """A table of text cells (every column the same length), rows numbered from 2."""
    data = pd.DataFrame(columns, dtype=object)
    return RawTable("t.csv", data, np.arange(2, 2 + len(data)), b"")


def parsed(**columns: list[str]):
    return parse_table(raw(**columns), SPEC, VOCABULARIES)


def test_valid_cells_get_their_types():
    p, problems = parsed(id=["A", "B"], days=["5", "22"], km=["1.5", ""], **{"from": ["2027-03-01", ""]},
                         grouped=["yes", "FALSE"], mode=["virtual", ""], languages=["en; es;en", ""])
    assert problems == []
    v = p.values
    assert list(v["id"]) == ["A", "B"]
    assert v["days"].dtype == "Int64" and list(v["days"]) == [5, 22]
    assert v["km"].iloc[0] == 1.5 and np.isnan(v["km"].iloc[1])
    assert v["from"].iloc[0] == pd.Timestamp("2027-03-01") and pd.isna(v["from"].iloc[1])
    assert list(v["grouped"]) == [True, False]
    assert v["languages"].iloc[0] == ("en", "es") and v["languages"].iloc[1] == ()
    assert list(p.missing["km"]) == [False, True] and list(p.missing["languages"]) == [False, True]
    assert p.ok("days").all() and p.present == {"id", "days", "km", "from", "grouped", "mode", "languages"}


@pytest.mark.parametrize("column, cell, rule", [
    ("days", "5.5", "must be a whole number, from 3 to 22"),
    ("days", "2", "value out of range: must be from 3 to 22"),
    ("km", "1,5", "must be a number (for example 12.5), at least 0; use a decimal point, not a comma"),
    ("km", "-1", "value out of range: must be at least 0"),
    ("from", "01/03/2027", "must be an ISO date YYYY-MM-DD (for example 2027-03-01)"),
    ("grouped", "maybe", "must be true or false (also accepted: yes/1/y and no/0/n)"),
    ("mode", "Virtual", "unknown code 'Virtual' of vocabulary 'mode' (allowed: physical, virtual, either); "
                        "did you mean 'virtual'? (codes are case-sensitive)"),
    ("languages", "en;de", "unknown code 'de' in this ';'-separated list of vocabulary 'language' "
                           "(allowed: en, es, fr)"),
])
def test_each_bad_cell_is_one_problem_naming_row_column_value_and_rule(column, cell, rule):
    cells = {"id": ["A"], "days": ["5"], column: [cell]}
    p, problems = parsed(**cells)
    assert [(q.file, q.row, q.column, q.value, q.rule) for q in problems] == [("t.csv", 2, column, cell, rule)]
    assert p.bad[column][0] and not p.ok(column)[0]


def test_unknown_and_missing_columns_are_reported():
    p, problems = parsed(id=["A"], dayz=["5"])
    by_column = {q.column: q for q in problems}
    assert by_column["dayz"].severity == "warning" and "unknown column, ignored; did you mean 'days'?" in \
        by_column["dayz"].rule
    assert by_column["days"].rule == "missing required column (the header has 'dayz': is it this column misspelt?)"
    assert p.missing["days"].all()


def test_a_vocabulary_the_spec_names_must_be_given():
    with pytest.raises(KeyError, match="unknown vocabulary 'mode'"):
        parse_table(raw(id=["A"], days=["5"]), SPEC, {"language": ("en",)})


def test_check_required_for_every_row_and_for_some_rows():
    p, _ = parsed(id=["A", ""], days=["5", "6"], grouped=["", "true"])
    host_rows = (np.array([True, False]), "host rows")
    problems = check_required(p, SPEC, {"host": host_rows})
    assert [(q.row, q.column, q.rule) for q in problems] == [
        (3, "id", "required value is missing"), (2, "grouped", "required for host rows: value is missing")]
    with pytest.raises(KeyError, match="'host'"):
        check_required(p, SPEC)


def test_a_column_required_for_some_rows_may_be_absent_when_no_row_needs_it():
    p, _ = parsed(id=["A"], days=["5"])
    assert check_required(p, SPEC, {"host": (np.array([False]), "host rows")}) == []
    missing = check_required(p, SPEC, {"host": (np.array([True]), "host rows")})
    assert [q.rule for q in missing] == ["missing column, required for host rows (first at row 2)"]


def test_range_and_vocabulary_wording():
    assert range_text(SPEC[1]) == "from 3 to 22"
    assert range_text(SPEC[2]) == "at least 0"
    assert range_text(Column("x", "int", False, "", "", maximum=9)) == "at most 9"
    assert range_text(SPEC[0]) == ""
    assert vocabulary_rule("country", ("ES", "PT"), ["es"]) == (
        "unknown country code 'es': not in countries.csv; did you mean 'ES'? (codes are case-sensitive)")
    assert vocabulary_rule("partnership_or_auto", ("CLAMTEX",), ["CLAMTX"]).startswith(
        "unknown partnership id 'CLAMTX': not in partnerships.csv (use a partnership_id from partnerships.csv or "
        "'auto'); did you mean 'CLAMTEX'?")
    many = tuple(f"c{i}" for i in range(13))
    assert "see data/reference/vocabularies.csv" in vocabulary_rule("sector", many, ["zz"])


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2262-04-12", "1677-09-22", "1899-12-31", "2200-01-01"])
def test_dates_outside_the_documented_range_are_refused_not_wrapped(value):
    p, problems = parsed(id=["A", "B"], days=["5", "5"], **{"from": [value, "2027-03-01"]})
    assert [(q.row, q.column, q.value, q.rule) for q in problems] == [
        (2, "from", value, "date out of range: must be from 1900-01-01 to 2199-12-31")]
    assert p.bad["from"].tolist() == [True, False] and pd.isna(p.values["from"].iloc[0])
    assert p.values["from"].dtype == "datetime64[ns]" and p.values["from"].iloc[1] == pd.Timestamp("2027-03-01")


@pytest.mark.parametrize("value", ["1900-01-01", "2199-12-31"])
def test_dates_at_the_ends_of_the_range_are_accepted(value):
    p, problems = parsed(id=["A"], days=["5"], **{"from": [value]})
    assert problems == [] and p.values["from"].iloc[0] == pd.Timestamp(value)


def test_large_bounds_are_written_with_thousands_separators():
    assert range_text(Column("b", "float", True, "", "1", minimum=0, maximum=1e12)) == "from 0 to 1,000,000,000,000"
    assert range_text(Column("d", "date", True, "", "2027-01-01")) == "from 1900-01-01 to 2199-12-31"
