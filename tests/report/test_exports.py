"""Safe exports: hostile cells neutralised, numbers kept numeric, accents read back intact."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from ledger_helpers import hand_made_round, proposal, solution

from matchmaker.cli import main
from matchmaker.common.csv_safe import unneutralise
from matchmaker.ledger.store import Ledger
from matchmaker.report.exports import DECIMAL_MARK, export_csv, export_partnership_lists, export_xlsx, neutralise

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\tx", "\rx", "\nx", "＝1+1"]
ACCENTED = ["Clúster Textil Valencià", "Škoda", "Łódź", "Ørsted"]


@pytest.fixture
def table():
    names = HOSTILE + ACCENTED + ['quote " and ; and , inside']
    n = len(names)
    return pd.DataFrame({
        "visitor_name": names,
        "lump_sum_eur": [-415.0] + [830.0] * (n - 1),  # a negative number is data, not a formula
        "working_days": list(range(3, 3 + n)),
        "locked": [True] + [False] * (n - 1),
        "comment": ["-5 days please"] + [None] * (n - 1),
    })


def expected_names():
    return ["'" + h for h in HOSTILE] + ACCENTED + ['quote " and ; and , inside']


def test_neutralise_prefixes_only_dangerous_text():
    assert [neutralise(h) for h in HOSTILE] == ["'" + h for h in HOSTILE]
    assert neutralise("Łódź") == "Łódź" and neutralise("'quoted") == "'quoted"
    # apostrophes then a formula character get one more, so that every reader restores the text exactly
    assert neutralise("'=already") == "''=already" and unneutralise(neutralise("'=already")) == "'=already"
    assert neutralise(-2.5) == -2.5 and neutralise(None) is None and neutralise("") == ""


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_with_hostile_cells_and_accents_reads_back(table, tmp_path, sep):
    path = export_csv(table, tmp_path / "list.csv", sep=sep)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the accents
    assert b"\r\n" in raw and raw.count(b"\r\n") >= len(table) + 1
    back = pd.read_csv(path, sep=sep, decimal=DECIMAL_MARK[sep], encoding="utf-8-sig")
    assert back["visitor_name"].tolist() == expected_names()
    assert back["lump_sum_eur"].tolist()[0] == -415.0 and back["lump_sum_eur"].dtype == float
    assert back["working_days"].tolist() == table["working_days"].tolist()
    assert back.loc[0, "comment"] == "'-5 days please"
    # no cell of the file starts with a formula character
    for cell in back.select_dtypes(exclude=["number", "bool"]).stack().dropna():
        assert not str(cell).startswith(("=", "+", "-", "@", "\t", "\r", "\n"))


def test_csv_lf_line_ends_on_request(table, tmp_path):
    plain = table.iloc[len(HOSTILE):]  # no line breaks inside cells
    raw = export_csv(plain, tmp_path / "lf.csv", line_end="\n").read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") == len(plain) + 1


def test_csv_quotes_every_text_cell_so_no_separator_splits_it(table, tmp_path):
    text = export_csv(table, tmp_path / "q.csv", sep=";").read_text(encoding="utf-8-sig")
    assert '"quote "" and ; and , inside"' in text
    # whole numbers and booleans unquoted; with ';' a fraction has a decimal comma (so pandas quotes it)
    assert ';"-415,0";3;True;' in text.splitlines()[1]


def test_semicolon_export_uses_decimal_comma(tmp_path):
    df = pd.DataFrame({"visitor_id": ["V1", "V2"], "lump_sum_eur": [780.5, 1234.25], "score": [72.1234, 0.5],
                       "working_days": [10, 5]})
    semi = export_csv(df, tmp_path / "semi.csv", sep=";").read_text(encoding="utf-8-sig").splitlines()
    assert semi == ['"visitor_id";"lump_sum_eur";"score";"working_days"', '"V1";"780,5";"72,1234";10',
                    '"V2";"1234,25";"0,5";5']  # spreadsheets read a quoted number as a number
    comma = export_csv(df, tmp_path / "comma.csv", sep=",").read_text(encoding="utf-8-sig").splitlines()
    assert comma[1] == '"V1",780.5,72.1234,10'  # with ',' the decimal mark stays '.'
    back = pd.read_csv(tmp_path / "semi.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert back["lump_sum_eur"].tolist() == [780.5, 1234.25] and back["score"].dtype == float


def test_xlsx_has_fitted_widths_frozen_header_and_filters(tmp_path):
    df = pd.DataFrame({"id": ["V1", "V2"], "visitor_name": ["A", "Clúster Textil Valencià de la Moda Sostenible"],
                       "start_date": pd.to_datetime(["2027-03-01", "2027-08-05"]), "lump_sum_eur": [780.0, 0.0],
                       "notes": ["x" * 200, ""]})
    sheet = openpyxl.load_workbook(export_xlsx(df, tmp_path / "w.xlsx")).active
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDE"}
    assert widths["A"] == 6  # "id", "V1": the narrowest width
    assert widths["B"] == len("Clúster Textil Valencià de la Moda Sostenible") + 2
    assert widths["C"] == len("start_date") + 2 and widths["D"] == len("lump_sum_eur") + 2
    assert widths["E"] == 60  # at most the widest width
    assert len(set(widths.values())) == 5  # not all alike (they used to be 13)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E3"
    assert sheet["C2"].number_format == "yyyy-mm-dd" and sheet["C3"].value.date().isoformat() == "2027-08-05"


def test_hostile_column_names_are_neutralised(tmp_path):
    df = pd.DataFrame({"=HYPERLINK(\"http://x\")": ["a"], "ok": [1]})
    back = pd.read_csv(export_csv(df, tmp_path / "h.csv"), encoding="utf-8-sig")
    assert back.columns.tolist() == ["'=HYPERLINK(\"http://x\")", "ok"]


def test_xlsx_with_hostile_cells_and_accents_reads_back(table, tmp_path):
    path = export_xlsx(table, tmp_path / "list.xlsx")
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("visitor_name", "lump_sum_eur", "working_days", "locked", "comment")
    # XML (hence .xlsx) may read a carriage return inside text back as a line feed: openpyxl's
    # default parser does, with lxml installed (python-docx brings it) the carriage return stays
    assert [r[0].replace("\r", "\n") for r in rows[1:]] == [n.replace("\r", "\n") for n in expected_names()]
    assert rows[1][1] == -415 and rows[1][3] is True and rows[1][4] == "'-5 days please"
    for cell in sheet["A"]:
        assert cell.data_type != "f"  # nothing is stored as a formula


def test_xlsx_replaces_characters_it_cannot_hold(tmp_path):
    path = export_xlsx(pd.DataFrame({"name": ["bad\x01name"]}), tmp_path / "c.xlsx")
    assert openpyxl.load_workbook(path).active["A2"].value == "bad\ufffdname"


def test_bad_separator_is_refused(table, tmp_path):
    with pytest.raises(ValueError, match="separator '\\|' must be ',' or ';'"):
        export_csv(table, tmp_path / "x.csv", sep="|")


@pytest.fixture
def recorded(tmp_path):
    led = Ledger.for_round_dir(tmp_path)
    rid = led.record_round(hand_made_round(), solution(
        proposal("V1", "H1", visitor_name="=cmd|' /C calc'!A0"), proposal("V2", "H2"), proposal("V3", "H2")))
    led.decide(rid, "V2", "H2", "accept", reviewer="@evil", comment="+1 great")
    yield led, rid
    led.close()


def test_partnership_lists_from_the_ledger(recorded, tmp_path):
    led, rid = recorded
    files = export_partnership_lists(rid, tmp_path / "lists", sep=";", ledger=led, xlsx=True)
    assert sorted(files) == ["BLUES", "CLAMTEX", "EXTRATEX", "round"]
    whole = pd.read_csv(files["round"], sep=";", encoding="utf-8-sig")
    assert len(whole) == 3
    ext = pd.read_csv(files["EXTRATEX"], sep=";", encoding="utf-8-sig")
    assert ext[["visitor_name", "decision", "reviewer", "latest_comment"]].values.tolist() == [
        ["Škoda Cluster", "accept", "'@evil", "'+1 great"]]
    clam = pd.read_csv(files["CLAMTEX"], sep=";", encoding="utf-8-sig")
    assert clam.loc[0, "visitor_name"] == "'=cmd|' /C calc'!A0"
    assert (tmp_path / "lists" / f"round_{rid}_EXTRATEX.xlsx").is_file()


def test_partnership_lists_from_a_dataframe_with_odd_partnership_names(tmp_path):
    df = pd.DataFrame({"visitor_id": ["V1", "V2"], "partnership": ["Safe Smart Food", "../x"]})
    files = export_partnership_lists(df, tmp_path)
    assert files["Safe Smart Food"].name == "round_Safe_Smart_Food.csv"
    assert files["../x"].parent == tmp_path  # never written outside out_dir


def test_round_id_without_ledger_is_refused(tmp_path):
    with pytest.raises(ValueError, match="a round id needs ledger="):
        export_partnership_lists(1, tmp_path)


def test_export_command(recorded, tmp_path, capsys):
    led, rid = recorded
    code = main(["export", str(tmp_path), "--round", str(rid), "--out", str(tmp_path / "cli"), "--sep", "semicolon",
                 "--xlsx"])
    assert code == 0
    assert "wrote 4 match list(s)" in capsys.readouterr().out
    back = pd.read_csv(tmp_path / "cli" / f"round_{rid}_CLAMTEX.csv", sep=";", encoding="utf-8-sig")
    assert back.loc[0, "visitor_name"] == "'=cmd|' /C calc'!A0"
    assert main(["export", str(tmp_path), "--round", "42", "--out", str(tmp_path / "cli")]) == 1
    assert "round 42 is not in the ledger" in capsys.readouterr().err


@pytest.mark.parametrize("value, sep", [("comma", ","), ("semicolon", ";"), (",", ","), (";", ";"), ("Semicolon", ";")])
def test_sep_option_takes_names_and_characters(value, sep):
    from matchmaker.cli import build_parser

    args = build_parser().parse_args(["export", "ROUND", "--out", "OUT", "--sep", value])
    assert args.sep == sep


def test_sep_option_help_is_readable(capsys):
    from matchmaker.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    help_text = capsys.readouterr().out
    assert "--sep {comma,semicolon}" in help_text and "{,,;}" not in help_text
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["export", "ROUND", "--out", "OUT", "--sep", "|"])
    assert info.value.code == 2 and "must be comma or semicolon" in capsys.readouterr().err
