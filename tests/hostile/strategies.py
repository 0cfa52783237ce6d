"""Hypothesis strategies for the hostile-input suite (issue 10, part 4).

Every case starts from a small *valid* round written with :mod:`helpers` (a handful of
visitors and hosts, the reference partnerships and countries, sometimes one feasible
lock) and then breaks it in one way:

* :func:`cell_cases`: one cell of a CSV file replaced by a hostile value (empty, 1e17,
  1e300, nan, inf, dates in year 9999 or 0001, ``=1+1``, ``+``/``-``/``@`` prefixes,
  1 MB of unquoted text, wrong types, unknown codes, stray quotes and commas);
* :func:`row_cases`: duplicated rows (duplicated ids), missing or unknown columns;
* :func:`file_cases`: a folder where a file should be, a deleted, empty, truncated or
  binary file, non-UTF-8 bytes;
* :func:`settings_cases`: ``settings.toml`` with nan/inf/huge/negative/wrongly typed
  values, unknown keys, broken TOML or bytes;
* :func:`cli_cases`: argument lists (bad ``--time-limit``/``--work-limit``/``--seed``,
  bad ``--out``, ledger URLs that are not usable, unknown sub-commands and options).

A case is a small frozen dataclass: Hypothesis prints it when a test fails, and
:func:`materialise` writes it to a folder. Tokens in braces in argument lists
(``{round}``, ``{out}``, ``{file}``, ...) are replaced by real paths at run time
(:func:`resolve_argv`).
"""

from __future__ import annotations

import csv
import io
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from helpers import host, visitor, write_round
from hypothesis import strategies as st

import matchmaker

DEFAULT_SETTINGS = tomllib.loads((Path(matchmaker.__file__).parent / "defaults" / "settings.toml").read_text())

#: 1 MB of text without commas, quotes or line breaks: a CSV writer leaves it unquoted.
HUGE_TEXT = "word " * 200_000
HUGE = "<1 MB of unquoted text>"

#: Hostile cell values (strings, as they stand in the file). ``HUGE`` stands for :data:`HUGE_TEXT`.
HOSTILE_CELLS = (
    "", " ", "1e17", "-1e17", "1e300", "-1e300", "1e-300", "nan", "NaN", "-nan", "inf", "-inf", "Infinity",
    "9999-12-31", "0001-01-01", "1677-09-21", "1677-09-22", "2262-04-12", "2027-02-30", "2027-13-01",
    "=1+1", "=HYPERLINK(\"http://x\",\"y\")", "+1", "+", "-", "-1", "@SUM(A1)", "@", "=", "\t=1",
    "0", "-0", "3.5", "22.0000000001", "1,5", "0x10", "99999999999999999999999", "true", "yes", "abc",
    "Textile", "ZZ", "es", "xx", "auto", ";", ";;", "textile;;ZZ", "é", "\u00a0", "\u202e", "\x00",
    "a\nb", "a\"b", "\"", "a,b", HUGE,
)

#: Hostile values by the type of the column they go into (more likely to reach the checks of that type).
_DATES = ("9999-12-31", "0001-01-01", "1677-09-21", "1677-09-22", "2262-04-11", "2262-04-12", "2027-02-30",
          "27-03-01", "2027/03/01", "03/01/2027", "2027-03-01T12:00", "nan", "")
_NUMBERS = ("1e17", "1e300", "-1e300", "nan", "inf", "-inf", "-0", "1e-300", "", "99999999999999999999999",
            "1,5", "0x10", "=1+1", "-1")
_WHOLE = ("1e17", "3.0", "22.5", "-3", "0", "nan", "inf", "1e300", "99999999999999999999999", "", "1e1")
_BOOLEANS = ("TRUE", "Yes", "2", "nan", "", "=TRUE()", "-1", "vrai")
_CODES = ("ZZ", "Textile", "auto", "", "textile;;ZZ", ";", "es", "=1+1", "@x", "-", "+ES", "ES ", "host;visitor")
_IDS = ("V001", "H001", "V002", "", "=1+1", "+1", "-1", "@x", " V001 ", "v001", HUGE)
_TEXT = ("=1+1", "+1", "-1", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")", HUGE, "a\nb", "a\"b", "\x00",
         "\u202e", "", "Łódź")
TYPED_HOSTILE = {
    "available_from": _DATES, "available_to": _DATES,
    "latitude": _NUMBERS, "longitude": _NUMBERS, "max_distance_km": _NUMBERS, "budget_eur": _NUMBERS,
    "lump_sum_eur": _NUMBERS,
    "min_days": _WHOLE, "max_days": _WHOLE, "capacity": _WHOLE, "max_visitors": _WHOLE,
    "grouped": _BOOLEANS, "already_visited": _BOOLEANS, "cosme": _BOOLEANS,
    "org_id": _IDS, "visitor_id": _IDS, "host_id": _IDS, "partnership_id": _IDS, "country": _CODES,
    "name": _TEXT, "city": _TEXT, "description": _TEXT, "comment": _TEXT,
}

#: The columns of each CSV file of a round written by :func:`helpers.write_round`.
COLUMNS = {
    "registrations.csv": ("org_id", "name", "role", "org_type", "country", "city", "latitude", "longitude",
                          "partnership", "sectors", "activities", "objectives", "languages", "mode",
                          "available_from", "available_to", "min_days", "max_days", "capacity", "max_visitors",
                          "grouped", "already_visited", "preferred_countries", "max_distance_km", "description"),
    "partnerships.csv": ("partnership_id", "name", "sectors", "member_countries", "budget_eur"),
    "countries.csv": ("country", "name", "cosme", "lump_sum_eur"),
    "decisions.csv": ("visitor_id", "host_id", "decision", "comment"),
}

VISITOR_COUNTRIES = ("ES", "FR", "DE", "IT")
HOST_COUNTRIES = ("PT", "IT", "FR", "ES")
SECTORS = ("textile", "textile;advanced_manufacturing", "water;eco_industries", "energy")


@dataclass(frozen=True)
class RoundSpec:
    """A small valid round: registration rows, decisions and settings for :func:`helpers.write_round`."""

    rows: tuple
    decisions: tuple | None = None
    settings: tuple | None = None  # ((section, key, value), ...) overriding the defaults

    @property
    def n_visitors(self) -> int:
        return sum(r["role"] == "visitor" for r in self.rows)

    @property
    def n_hosts(self) -> int:
        return sum(r["role"] == "host" for r in self.rows)


@dataclass(frozen=True)
class CellEdit:
    """Replace one cell of ``file`` (row index counts data rows from 0) with ``value``.

    ``raw`` writes the row without any CSV quoting, as a hand-edited file would hold it.
    """

    file: str
    row: int
    column: str
    value: str
    raw: bool = False

    def names(self) -> tuple[str, ...]:
        return (self.file, self.column)


@dataclass(frozen=True)
class RowEdit:
    """``duplicate`` a data row, ``drop_column``, add an ``extra_column`` or a ``short_row``."""

    file: str
    kind: str
    row: int = 0
    column: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.file, self.column) if self.column else (self.file,)


@dataclass(frozen=True)
class FileEdit:
    """Break a whole file: ``folder``, ``delete``, ``empty``, ``truncate``, ``bad_bytes``, ``binary``, ``bom_only``."""

    file: str
    kind: str
    at: float = 0.5  # where to truncate or insert bytes, as a share of the file's length
    data: bytes = b""

    def names(self) -> tuple[str, ...]:
        stem = self.file.split(".")[0]
        return (self.file, stem)


@dataclass(frozen=True)
class SettingsEdit:
    """Set ``path`` (a tuple of TOML keys) of ``settings.toml`` to ``value``, or write ``text`` as the file."""

    path: tuple = ()
    value: object = None
    text: bytes | None = None

    def names(self) -> tuple[str, ...]:
        return ("settings", *(str(k) for k in self.path))


@dataclass(frozen=True)
class Case:
    """A valid round broken by ``edits``; ``names``: words of which the error message must hold one."""

    spec: RoundSpec
    edits: tuple = ()
    fmt: str = "csv"

    def names(self) -> tuple[str, ...]:
        return tuple(n for e in self.edits for n in e.names())


@dataclass(frozen=True)
class CliCase:
    """An argument list (with ``{token}`` placeholders) run against a valid round.

    ``usage_error``: the issue says this argument list is bad usage (exit code 2).
    ``names``: words of which the message must hold at least one when it fails.
    """

    spec: RoundSpec
    argv: tuple
    names: tuple = ()
    usage_error: bool = False
    with_ledger: bool = False
    with_solved: bool = False


# --- valid rounds --------------------------------------------------------------------------

@st.composite
def _visitor(draw, first: bool) -> dict:
    if first:
        return visitor()
    mn = draw(st.integers(3, 8))
    start = draw(st.integers(1, 28))
    return visitor(country=draw(st.sampled_from(VISITOR_COUNTRIES)),
                   partnership=draw(st.sampled_from(("CLAMTEX", "auto", "BLUES"))),
                   sectors=draw(st.sampled_from(SECTORS)), mode=draw(st.sampled_from(("physical", "either"))),
                   min_days=mn, max_days=mn + draw(st.integers(0, 8)),
                   available_from=f"2027-03-{start:02d}", already_visited=draw(st.booleans()),
                   languages=draw(st.sampled_from(("en", "es;en", "fr"))),
                   description=draw(st.sampled_from(("", "We look for partners in recycled fibres.",
                                                     "Nous cherchons des partenaires."))))


@st.composite
def _host(draw, first: bool) -> dict:
    if first:
        return host()
    grouped = draw(st.booleans())
    capacity = draw(st.integers(1, 3)) if grouped else 1
    return host(country=draw(st.sampled_from(HOST_COUNTRIES)), sectors=draw(st.sampled_from(SECTORS)),
                grouped=grouped, capacity=capacity, max_visitors=capacity + draw(st.integers(0, 2)),
                mode=draw(st.sampled_from(("physical", "either"))), max_days=draw(st.integers(10, 22)))


@st.composite
def valid_rounds(draw, max_visitors: int = 4, max_hosts: int = 3) -> RoundSpec:
    """A small valid round; the first visitor (ES) and host (PT) keep the defaults, so a lock on them holds."""
    nv = draw(st.integers(1, max_visitors))
    nh = draw(st.integers(1, max_hosts))
    rows = [draw(_visitor(i == 0)) for i in range(nv)] + [draw(_host(i == 0)) for i in range(nh)]
    decisions = draw(st.sampled_from((None, (), ({"visitor_id": "V001", "host_id": "H001"},),
                                      ({"visitor_id": "V001", "host_id": "H001", "decision": "forbid"},))))
    return RoundSpec(rows=tuple(rows), decisions=decisions)


# --- broken rounds -------------------------------------------------------------------------

def _rows_of(spec: RoundSpec, file: str) -> int:
    counts = {"registrations.csv": len(spec.rows), "partnerships.csv": 13, "countries.csv": 42,
              "decisions.csv": len(spec.decisions or ())}
    return counts[file]


@st.composite
def cell_cases(draw, files: tuple = ("registrations.csv",)) -> Case:
    """A valid round with one to three cells of ``files`` replaced by hostile values."""
    spec = draw(valid_rounds())
    files = tuple(f for f in files if f != "decisions.csv" or spec.decisions) or ("registrations.csv",)
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        file = draw(st.sampled_from(files))
        column = draw(st.sampled_from(COLUMNS[file]))
        typed = TYPED_HOSTILE.get(column, _CODES)
        value = draw(st.one_of(st.sampled_from(typed), st.sampled_from(typed), st.sampled_from(HOSTILE_CELLS),
                               st.text(max_size=12)))
        edits.append(CellEdit(file, draw(st.integers(0, _rows_of(spec, file) - 1)), column, value,
                              raw=draw(st.booleans())))
    return Case(spec, tuple(edits))


@st.composite
def row_cases(draw) -> Case:
    """Duplicated rows (duplicated ids), missing or unknown columns, short rows."""
    spec = draw(valid_rounds())
    files = ("registrations.csv", "partnerships.csv", "countries.csv") + (("decisions.csv",) if spec.decisions
                                                                          else ())
    file = draw(st.sampled_from(files))
    kind = draw(st.sampled_from(("duplicate", "drop_column", "extra_column", "short_row", "rename_column")))
    column = draw(st.sampled_from(COLUMNS[file])) if kind in ("drop_column", "rename_column") else ""
    if kind == "extra_column":
        column = draw(st.sampled_from(("notes", "=1+1", "", "org_id", "Country ")))
    return Case(spec, (RowEdit(file, kind, draw(st.integers(0, _rows_of(spec, file) - 1)), column),))


@st.composite
def file_cases(draw) -> Case:
    """A folder where a file should be, a deleted, empty, truncated or binary file, non-UTF-8 bytes."""
    spec = draw(valid_rounds())
    files = ["registrations.csv", "partnerships.csv", "countries.csv", "settings.toml"]
    if spec.decisions is not None:
        files.append("decisions.csv")
    file = draw(st.sampled_from(files))
    kind = draw(st.sampled_from(("folder", "delete", "empty", "truncate", "truncate", "bad_bytes", "bad_bytes",
                                 "binary", "bom_only")))
    data = draw(st.sampled_from((b"\xff", b"\xe9", b"\x00", b"\xc3", b"\xef\xbb\xbf", b"\r", b"\"",
                                 b"\xff\xfe", "Łódź".encode("cp1250"))))
    return Case(spec, (FileEdit(file, kind, draw(st.floats(0.0, 1.0)), data),))


HOSTILE_SETTING_VALUES = (
    float("nan"), float("inf"), float("-inf"), 1e300, -1e300, 1e17, -1.0, -1, 0, 0.0, 2, 2.0, 1e-300, True,
    "abc", "", "nan", [], [1.0], {"x": 1}, "2027-01-01", 2 ** 62,
)


@st.composite
def settings_cases(draw) -> Case:
    """``settings.toml`` with a hostile value for a known key, an unknown key, or broken text."""
    spec = draw(valid_rounds())
    paths = [(sec, key) for sec, table in DEFAULT_SETTINGS.items() for key, val in table.items()
             if not isinstance(val, dict)]
    paths += [(sec, key, sub) for sec, table in DEFAULT_SETTINGS.items() for key, val in table.items()
              if isinstance(val, dict) for sub in val]
    choice = draw(st.integers(0, 9))
    if choice <= 6:
        edits = tuple(SettingsEdit(draw(st.sampled_from(paths)), draw(st.sampled_from(HOSTILE_SETTING_VALUES)))
                      for _ in range(draw(st.integers(1, 2))))
    elif choice <= 7:
        path = draw(st.sampled_from((("solver", "bogus"), ("nosuch", "x"), ("scoring", "weights", "nosuch"),
                                     ("rules", "holidays"), ("solver", "fairness_share"))))
        value = ["9999-12-31"] if path == ("rules", "holidays") else draw(st.sampled_from((1, 2, "x")))
        edits = (SettingsEdit(path, value),)
    else:
        text = draw(st.sampled_from((b"[solver\n", b"\xff\xfe[solver]", b"[solver]\ntime_limit_s = \xff\n",
                                     b"[solver]\ntime_limit_s = 1e400\n", b"solver = 3\n",
                                     b"[solver]\nseed = 99999999999999999999999\n",
                                     b"\xef\xbb\xbf[solver]\nseed = 1\n", b"[rules]\nvirtual_until = 9999-12-31\n",
                                     b"[rules]\nholidays = [0001-01-01]\n", b"[[solver]]\n")))
        edits = (SettingsEdit(text=text),)
    return Case(spec, edits)


# --- command lines -----------------------------------------------------------------------

#: ``--time-limit`` / ``--work-limit`` values the issue names as usage errors.
BAD_TIME_LIMITS = ("0", "-1", "nan", "-inf", "-0")
BAD_WORK_LIMITS = ("-1", "nan", "-inf")
#: ``--out`` values the issue names as usage errors.
BAD_OUTS = ("{file}", "{file}/sub", "", "/proc", "/proc/x", "/sys/x", "{unwritable}/x")
BAD_LEDGERS = ("mysql://x", "postgresql://127.0.0.1:1/x", "postgresql+psycopg://u:p@127.0.0.1:1/x",
               "sqlite:///{round}/registrations.csv", "sqlite:///{file}/ledger.sqlite", "sqlite:///{round}",
               "not a url", "")


def _limit_option(draw, option: str, bad: tuple, good: tuple) -> tuple[tuple, bool]:
    value = draw(st.sampled_from(bad + good))
    return (option, value), value in bad


@st.composite
def _solve_argv(draw) -> tuple:
    names = []
    usage = False
    argv = ["solve", "{round}", "--quiet"]
    out = draw(st.sampled_from(BAD_OUTS + ("{out}", "{out}", "{out}", "{out}")))
    argv += ["--out", out]
    usage |= out in BAD_OUTS
    names += ["--out", out]
    for option, bad, good in (("--time-limit", BAD_TIME_LIMITS, ("20", "inf", "1e300", "abc")),
                              ("--work-limit", BAD_WORK_LIMITS, ("0.3", "0.3", "inf", "1e300", "0", "abc"))):
        if draw(st.booleans()) or option == "--work-limit":
            opt, is_bad = _limit_option(draw, option, bad, good)
            argv += list(opt)
            usage |= is_bad or opt[1] == "abc"
            names += [option, option.strip("-").replace("-", "_"), option.strip("-").replace("-", " ")]
    if draw(st.booleans()):
        seed = draw(st.sampled_from(("1", "-1", "abc", "1e3", "99999999999999999999999")))
        argv += ["--seed", seed]
        usage |= seed in ("abc", "1e3")
        names += ["--seed", "seed"]
    return tuple(argv), tuple(names), usage


@st.composite
def _ledger_argv(draw) -> tuple:
    command = draw(st.sampled_from(("export", "round")))
    url = draw(st.sampled_from(BAD_LEDGERS + (None,)))
    out = draw(st.sampled_from(("{out}", "{out}", "{file}", "{file}/sub", "")))
    argv = [command, "{round}", "--out", out]
    if command == "round":
        argv += ["--quiet", "--work-limit", "0.3"]
    if url is not None:
        argv += ["--ledger", url]
    if command == "export" and draw(st.booleans()):
        argv += ["--round", draw(st.sampled_from(("1", "0", "-1", "99", "abc")))]
    names = ("--out", out, "--ledger", "ledger", "--round", "round", *(() if url is None else (url,)))
    usage = out in ("{file}", "{file}/sub", "") or url in ("mysql://x", "not a url", "")
    return tuple(argv), names, usage


@st.composite
def _other_argv(draw) -> tuple:
    kind = draw(st.sampled_from(("validate", "check", "score", "rank", "report", "generate", "unknown")))
    if kind == "validate":
        settings = draw(st.sampled_from(("{file}", "{missing}", "{round}", "{round}/registrations.csv", "/dev/null")))
        return ("validate", "{round}", "--settings", settings), ("--settings", "settings", settings), False
    if kind == "check":
        p = draw(st.sampled_from(("{missing}", "{round}", "{round}/registrations.csv", "{file}", "/dev/null")))
        return ("check", "{round}", p), (p, "proposals"), False
    if kind == "score":
        out = draw(st.sampled_from(("{out}/pairs.csv", "{file}/x.csv", "{round}", "", "/proc/x.csv")))
        return ("score", "{round}", "--out", out), ("--out", out), out in ("{file}/x.csv", "")
    if kind == "rank":
        org = draw(st.sampled_from(("V001", "H001", "NOPE", "", "=1+1")))
        top = draw(st.sampled_from(("10", "0", "-1", "abc", "1e3")))
        return ("rank", "{round}", "--org", org, "--top", top), ("--org", org, "--top", "top"), top in ("abc", "1e3")
    if kind == "report":
        html = draw(st.sampled_from(("{out}/r.html", "{file}/r.html", "{round}", "")))
        return ("report", "{solved}", "--html", html), ("--html", html, "report"), html in ("{file}/r.html", "")
    if kind == "generate":
        n = draw(st.sampled_from(("-1", "0", "2", "abc")))
        share = draw(st.sampled_from(("0.5", "nan", "-1", "2", "inf")))
        out = draw(st.sampled_from(("{out}", "{file}", "")))
        argv = ("generate", "--visitors", n, "--hosts", "2", "--budget-share", share, "--out", out)
        usage = n in ("-1", "abc") or share in ("nan", "-1", "inf") or out in ("{file}", "")
        return argv, ("--visitors", "visitors", "--budget-share", "budget", "--out", out), usage
    argv = draw(st.sampled_from((("frobnicate",), ("",), ("-x",), ("VALIDATE", "{round}"), ("validate",),
                                 ("validate", "{round}", "--bogus"), ("solve", "{round}", "--out"),
                                 ("solve", "{round}", "--time-limit", "5"), ("validate", "{round}", "{round}"))))
    return argv, ("usage", "error", "argument"), True


@st.composite
def cli_cases(draw) -> CliCase:
    """An argument list for one sub-command, with hostile options, run against a valid round."""
    spec = draw(valid_rounds(max_visitors=3, max_hosts=2))
    argv, names, usage = draw(st.one_of(_solve_argv(), _ledger_argv(), _other_argv()))
    with_ledger = argv[0] == "export" and draw(st.booleans())
    return CliCase(spec, argv, names, usage, with_ledger=with_ledger, with_solved="{solved}" in argv)


# --- writing cases ----------------------------------------------------------------------

def write_spec(parent: Path, spec: RoundSpec, name: str = "round") -> Path:
    """Write ``spec`` with :func:`helpers.write_round` and return the round folder."""
    settings = None
    if spec.settings:
        settings = {}
        for *keys, value in spec.settings:
            node = settings
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            node[keys[-1]] = value
    decisions = None if spec.decisions is None else list(spec.decisions)
    return write_round(parent, list(spec.rows), decisions=decisions, settings=settings, name=name)


def _read_csv(path: Path) -> list[list[str]]:
    # a case may hold two 1 MB cells; the csv module's global limit is restored for the product
    limit = csv.field_size_limit(1 << 26)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.reader(fh))
    finally:
        csv.field_size_limit(limit)


def _write_rows(path: Path, rows: list[list[str]], raw_rows: frozenset = frozenset()) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, r in enumerate(rows):
        if i in raw_rows:
            buf.write(",".join(r) + "\n")
        else:
            w.writerow(r)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _apply_cell(d: Path, e: CellEdit) -> None:
    path = d / e.file
    rows = _read_csv(path)
    header = rows[0]
    if e.column not in header or e.row + 1 >= len(rows) or header.index(e.column) >= len(rows[e.row + 1]):
        return  # an earlier raw edit reshaped the file
    value = HUGE_TEXT if e.value == HUGE else e.value
    rows[e.row + 1][header.index(e.column)] = value
    _write_rows(path, rows, frozenset({e.row + 1}) if e.raw else frozenset())


def _apply_row(d: Path, e: RowEdit) -> None:
    path = d / e.file
    rows = _read_csv(path)
    header = rows[0]
    r = min(e.row + 1, len(rows) - 1)
    if e.kind == "duplicate" and r >= 1:
        rows.insert(r + 1, list(rows[r]))
    elif e.kind in ("drop_column", "rename_column") and e.column in header:
        k = header.index(e.column)
        if e.kind == "drop_column":
            rows = [row[:k] + row[k + 1:] for row in rows]
        else:
            header[k] = e.column.upper() + " "
    elif e.kind == "extra_column":
        rows = [row + ([e.column] if i == 0 else ["x"]) for i, row in enumerate(rows)]
    elif e.kind == "short_row" and r >= 1:
        rows[r] = rows[r][: len(rows[r]) // 2]
    _write_rows(path, rows)


def _apply_file(d: Path, e: FileEdit) -> None:
    path = d / e.file
    raw = path.read_bytes() if path.is_file() else b'[solver]\nseed = 1\n'
    if path.is_file() or e.kind == "folder":
        path.unlink(missing_ok=True)
    if e.kind == "folder":
        path.mkdir()
        (path / "inside.csv").write_bytes(raw)
    elif e.kind == "empty":
        path.write_bytes(b"")
    elif e.kind == "truncate":
        path.write_bytes(raw[: int(len(raw) * e.at)])
    elif e.kind == "bad_bytes":
        k = int(len(raw) * e.at)
        path.write_bytes(raw[:k] + e.data + raw[k:])
    elif e.kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif e.kind == "bom_only":
        path.write_bytes(b"\xef\xbb\xbf")


def _apply_settings(d: Path, edits: list[SettingsEdit]) -> None:
    path = d / "settings.toml"
    texts = [e.text for e in edits if e.text is not None]
    if texts:
        path.write_bytes(texts[-1])
        return
    settings: dict = {}
    for e in edits:
        node = settings
        for k in e.path[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                break
        else:
            node[e.path[-1]] = e.value
    path.write_bytes(tomli_w.dumps(settings).encode())


def materialise(parent: Path, case: Case) -> Path:
    """Write ``case``'s valid round under ``parent``, then break it; return the round folder."""
    d = write_spec(parent, case.spec)
    settings_edits = [e for e in case.edits if isinstance(e, SettingsEdit)]
    if settings_edits:
        _apply_settings(d, settings_edits)
    for e in case.edits:
        if isinstance(e, CellEdit):
            _apply_cell(d, e)
        elif isinstance(e, RowEdit):
            _apply_row(d, e)
        elif isinstance(e, FileEdit):
            _apply_file(d, e)
    return d


def unwritable_dir(parent: Path) -> Path:
    """A folder this process cannot create files in (root ignores permissions: sysfs then)."""
    d = parent / "read_only"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o500)
    if os.access(d, os.W_OK):
        return Path("/sys/kernel")
    return d


def resolve_argv(argv: tuple, paths: dict) -> list[str]:
    """``argv`` with every ``{token}`` replaced by ``paths[token]``."""
    out = []
    for a in argv:
        for k, v in paths.items():
            a = a.replace("{" + k + "}", str(v))
        out.append(a)
    return out
