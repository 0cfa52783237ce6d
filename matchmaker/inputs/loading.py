"""Load a matching round's directory into a validated :class:`~matchmaker.inputs.instance.Round`.

A round directory holds ``registrations.csv`` *or* ``registrations.xlsx``,
``partnerships.csv``, and optionally ``countries.csv`` (else the reference table is
used, with a warning), ``decisions.csv`` and ``settings.toml``. Every file, row and
column is checked against :mod:`matchmaker.common.schema` and the cross-file rules
below; all problems of all files are raised together in one
:class:`~matchmaker.common.errors.RoundDataError`.
See ``docs/data-format.md`` for the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common import schema
from matchmaker.common.errors import Problem, RoundDataError, SettingsError, rows_text
from matchmaker.common.schema import Column
from matchmaker.inputs.columns import ParsedTable, check_required, parse_table
from matchmaker.inputs.instance import Round
from matchmaker.inputs.partnership_selection import load_country_points, resolve_partnerships
from matchmaker.inputs.raw_tables import RawTable, read_table
from matchmaker.inputs.reference import load_vocabularies, reference_file
from matchmaker.inputs.settings import load_settings, settings_json
from matchmaker.inputs.tables import checked_countries, checked_partnerships, duplicate_rows, row_frame

#: Columns that only one role fills (the other role's values are ignored).
ROLE_COLUMNS = {
    role: tuple(c.name for c in schema.REGISTRATIONS if c.required == role) for role in ("host", "visitor")
}


def _role_ignored(parsed: ParsedTable, roles: dict[str, np.ndarray]) -> tuple[list[Problem], set]:
    """Warnings for one role's columns filled on the other role's rows, and those cells."""
    warnings, ignored = [], set()
    for role, other in (("host", "visitor"), ("visitor", "host")):
        for name in ROLE_COLUMNS[role]:
            if name not in parsed.present:
                continue
            filled = roles[other] & ~parsed.missing[name]
            if filled.any():
                rows = parsed.rows[filled]
                ignored.update((name, int(r)) for r in rows)
                first = parsed.text.at[int(np.argmax(filled)), name]
                warnings.append(Problem(parsed.file, int(rows[0]), name, first,
                                        f"{role}-only column filled on {other} rows ({rows_text(rows, limit=8)}); "
                                        f"ignored for {other}s", "warning"))
    return warnings, ignored


def _registrations(table: RawTable, vocabularies):
    """Visitors and hosts tables and the problems of the registrations file."""
    parsed, problems = parse_table(table, schema.REGISTRATIONS, vocabularies)
    v = parsed.values
    role_ok = parsed.ok("role")
    roles = {r: role_ok & (v["role"] == r).to_numpy() for r in ("host", "visitor")}
    warnings, ignored = _role_ignored(parsed, roles)
    problems = [p for p in problems if (p.column, p.row) not in ignored] + warnings
    conditions = {r: (roles[r], f"{r} rows") for r in roles}
    problems += check_required(parsed, schema.REGISTRATIONS, conditions)
    for r in roles:
        problems += duplicate_rows(parsed, ["org_id"], roles[r] & parsed.ok("org_id"), f"org_id among {r} rows")
    f, t = table.file, parsed.text

    both = parsed.ok("available_from") & parsed.ok("available_to")
    for i in np.flatnonzero(both & (v["available_to"] < v["available_from"]).to_numpy()):
        problems.append(Problem(f, int(parsed.rows[i]), "available_to", t.at[i, "available_to"],
                                f"available_to must not be before available_from ({t.at[i, 'available_from']})"))
    both = parsed.ok("min_days") & parsed.ok("max_days")
    for i in np.flatnonzero(both & (v["min_days"] > v["max_days"]).fillna(False).to_numpy(dtype=bool)):
        problems.append(Problem(f, int(parsed.rows[i]), "max_days", t.at[i, "max_days"],
                                f"max_days must not be below min_days ({t.at[i, 'min_days']})"))
    single = roles["host"] & parsed.ok("grouped") & parsed.ok("capacity")
    single &= (~v["grouped"].fillna(True) & (v["capacity"] > 1)).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(single):
        problems.append(Problem(f, int(parsed.rows[i]), "capacity", t.at[i, "capacity"],
                                "a host with grouped = false receives one visitor at a time: capacity must be 1 "
                                "(or set grouped = true) (docs/decisions.md §7)"))
    for r in ("visitor", "host"):
        if len(table.data) and not roles[r].any():  # an empty file is reported as such
            problems.append(Problem(f, None, "role", "", f"no {r} rows: nobody can be matched", "warning"))
    names = [c.name for c in schema.REGISTRATIONS]
    tables = {r: row_frame(parsed, [n for n in names if n not in ROLE_COLUMNS[o]], roles[r])
              for r, o in (("visitor", "host"), ("host", "visitor"))}
    return tables["visitor"], tables["host"], problems


def _decisions(table: RawTable, vocabularies, visitors, hosts) -> tuple[pd.DataFrame, list[Problem]]:
    parsed, problems = parse_table(table, schema.DECISIONS, vocabularies)
    problems += check_required(parsed, schema.DECISIONS)
    v, f = parsed.values, table.file
    if visitors is not None and hosts is not None:
        known = {"visitor_id": (set(visitors["org_id"]), set(hosts["org_id"]), "visitor", "host"),
                 "host_id": (set(hosts["org_id"]), set(visitors["org_id"]), "host", "visitor")}
        for column, (ids, other_ids, role, other) in known.items():
            unknown = parsed.ok(column) & ~v[column].isin(ids).to_numpy()
            for i in np.flatnonzero(unknown):
                value = v.at[i, column]
                hint = f" ({value!r} is registered as a {other} only)" if value in other_ids else ""
                problems.append(Problem(f, int(parsed.rows[i]), column, value,
                                        f"unknown {role}: no {role} row with this org_id in registrations{hint}"))
    usable = parsed.ok("visitor_id") & parsed.ok("host_id") & parsed.ok("decision")
    pairs = v.loc[usable, ["visitor_id", "host_id", "decision"]]
    rows = pd.Series(parsed.rows[usable], index=pairs.index)
    first = rows.groupby([pairs["visitor_id"], pairs["host_id"]], sort=False).transform("min")
    first_decision = pairs["decision"].groupby([pairs["visitor_id"], pairs["host_id"]], sort=False).transform("first")
    for i in pairs.index[(rows != first).to_numpy()]:
        if pairs.at[i, "decision"] == first_decision[i]:
            rule = f"duplicate decision: same pair and decision as row {int(first[i])}"
        else:
            rule = f"pair is both locked and forbidden (rows {int(first[i])} and {int(rows[i])}); keep one decision"
        problems.append(Problem(f, int(rows[i]), "decision", pairs.at[i, "decision"], rule))
    return row_frame(parsed, [c.name for c in schema.DECISIONS]), problems


def _empty_decisions() -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype=str) for c in schema.DECISIONS})
    frame["source_row"] = pd.Series(dtype=np.int64)
    return frame


def _registrations_path(round_dir: Path) -> tuple[Path | None, list[Problem]]:
    csv_path, xlsx_path = round_dir / "registrations.csv", round_dir / "registrations.xlsx"
    if csv_path.is_file() and xlsx_path.is_file():
        return None, [Problem("registrations.csv", None, None, "",
                              "both registrations.csv and registrations.xlsx are present; keep exactly one")]
    for path in (csv_path, xlsx_path):
        if path.is_file():
            return path, []
    for path in (csv_path, xlsx_path):
        if path.exists():
            return None, [Problem(path.name, None, None, "", f"{path} is a folder, not a file: the round needs "
                                  "registrations.csv or registrations.xlsx as a file")]
    found = sorted(p.name for p in round_dir.iterdir() if p.name.lower().startswith("registration"))
    hint = f" (found: {', '.join(found)}; Excel files must be saved as .xlsx)" if found else ""
    return None, [Problem("registrations.csv", None, None, "",
                          f"missing file: the round needs registrations.csv or registrations.xlsx{hint}")]


def _settings(round_dir: Path, settings_file, overrides) -> tuple[dict | None, list[Problem]]:
    own = round_dir / "settings.toml"
    files = [own if own.exists() else None, settings_file]  # a folder named settings.toml is an error
    try:
        return load_settings(*files, overrides=overrides), []
    except SettingsError as exc:  # every problem of the settings, each naming its file
        return None, list(exc.problems)


def sorted_problems(problems: list[Problem], spec: Iterable[Column]) -> list[Problem]:
    """Problems of one file in reading order: whole-file ones, then by row and column order."""
    order = {c.name: i for i, c in enumerate(spec)}
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0, order.get(p.column, -1)))


def load_round(round_dir: str | Path, settings_file: str | Path | None = None,
               overrides: dict | None = None) -> Round:
    """Read and check every file of a round directory.

    Parameters
    ----------
    round_dir : path-like
        Directory with ``registrations.csv`` or ``registrations.xlsx`` (first sheet),
        ``partnerships.csv`` and optionally ``countries.csv``, ``decisions.csv`` and
        ``settings.toml``.
    settings_file : path-like, optional
        Settings TOML applied after the round's own ``settings.toml``.
    overrides : dict, optional
        Nested settings applied last (for example from notebook widgets).

    Returns
    -------
    Round
        Validated tables; ``partnership = auto`` resolved by
        :func:`matchmaker.inputs.partnership_selection.resolve_partnerships`; non-blocking
        problems in ``warnings``.

    Raises
    ------
    RoundDataError
        With every problem (errors and warnings) of every file, when any is an error.
    """
    round_dir = Path(round_dir)
    if not round_dir.is_dir():
        raise RoundDataError([Problem(str(round_dir), None, None, "", "round directory not found")])
    settings, problems = _settings(round_dir, settings_file, overrides)
    vocabularies: dict = dict(load_vocabularies())
    files = _RoundFiles()
    countries = _load_countries(round_dir, files, vocabularies, problems)
    partnerships = _load_partnerships(round_dir, files, vocabularies, problems)
    visitors, hosts = _load_registrations(round_dir, files, vocabularies, problems)
    decisions = _load_decisions(round_dir, files, vocabularies, visitors, hosts, problems)
    if settings is None or any(p.severity == "error" for p in problems):
        raise RoundDataError(problems)
    visitors, hosts = _resolve_auto(visitors, hosts, partnerships, countries, problems)
    return Round(visitors=visitors, hosts=hosts, partnerships=partnerships, countries=countries,
                 decisions=decisions, settings=settings, source=round_dir,
                 input_hash=files.input_hash(settings_json(settings)), warnings=problems)


class _RoundFiles:
    """Reads a round's files, keeping each one's bytes for the round's input hash."""

    def __init__(self) -> None:
        self.inputs: list[tuple[str, bytes]] = []

    def read(self, path: Path, allow_empty: bool = False) -> tuple[RawTable | None, list[Problem]]:
        table, found = read_table(path, allow_empty)
        if table is not None:
            self.inputs.append((path.name, table.raw))
        return table, found

    def input_hash(self, settings_text: str) -> str:
        """SHA-256 of every file read (name, length, bytes, in reading order) and the settings."""
        digest = hashlib.sha256()
        for name, raw in self.inputs:
            digest.update(f"{name}\0{len(raw)}\0".encode())
            digest.update(raw)
        digest.update(settings_text.encode())
        return digest.hexdigest()


def _load_countries(round_dir: Path, files: _RoundFiles, vocabularies: dict,
                    problems: list[Problem]) -> pd.DataFrame | None:
    """``countries.csv`` of the round (else the reference table, with a warning); sets the country vocabulary."""
    path = round_dir / "countries.csv"
    if not path.exists():
        path = reference_file("countries.csv")
        problems.append(Problem("countries.csv", None, None, "", f"no countries.csv in the round: using the "
                                f"reference table {path}", "warning"))
    countries = None
    table, found = files.read(path)
    if table is not None:
        countries, more = checked_countries(table, vocabularies)
        found += more
    problems += sorted_problems(found, schema.COUNTRIES)
    vocabularies["country"] = tuple(countries.index) if countries is not None else None
    return countries


def _load_partnerships(round_dir: Path, files: _RoundFiles, vocabularies: dict,
                       problems: list[Problem]) -> pd.DataFrame | None:
    """``partnerships.csv``; sets the partnership vocabularies (with and without ``auto``)."""
    partnerships = None
    table, found = files.read(round_dir / "partnerships.csv")
    if table is not None:
        partnerships, more = checked_partnerships(table, vocabularies)
        found += more
    problems += sorted_problems(found, schema.PARTNERSHIPS)
    ids = tuple(partnerships.index) if partnerships is not None else None
    vocabularies["partnership"] = ids
    vocabularies["partnership_or_auto"] = ids + ("auto",) if ids is not None else None
    return partnerships


def _load_registrations(round_dir: Path, files: _RoundFiles, vocabularies: dict,
                        problems: list[Problem]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The visitors and hosts of ``registrations.csv`` (or ``.xlsx``)."""
    visitors = hosts = None
    path, found = _registrations_path(round_dir)
    if path is not None:
        table, found = files.read(path)
        if table is not None:
            visitors, hosts, more = _registrations(table, vocabularies)
            found += more
            if not len(table.data):  # reported as empty; checking decisions against no one adds nothing
                visitors = hosts = None
    problems += sorted_problems(found, schema.REGISTRATIONS)
    return visitors, hosts


def _load_decisions(round_dir: Path, files: _RoundFiles, vocabularies: dict, visitors: pd.DataFrame | None,
                    hosts: pd.DataFrame | None, problems: list[Problem]) -> pd.DataFrame:
    """``decisions.csv`` when the round has one (locks and forbids), else an empty table."""
    decisions = _empty_decisions()
    if (round_dir / "decisions.csv").exists():
        table, found = files.read(round_dir / "decisions.csv", allow_empty=True)
        if table is not None:
            decisions, more = _decisions(table, vocabularies, visitors, hosts)
            found += more
        problems += sorted_problems(found, schema.DECISIONS)
    return decisions


def _resolve_auto(visitors: pd.DataFrame, hosts: pd.DataFrame, partnerships: pd.DataFrame,
                  countries: pd.DataFrame, problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``partnership = auto`` resolved for visitors and hosts (automatic partnership selection)."""
    try:
        points = load_country_points()
        return (resolve_partnerships(visitors, partnerships, countries, points),
                resolve_partnerships(hosts, partnerships, countries, points))
    except RoundDataError as exc:  # the reference table of country points
        raise RoundDataError(problems + exc.problems) from exc
    except (ValueError, FileNotFoundError) as exc:  # e.g. a member country without a point
        raise RoundDataError(problems + [Problem("partnerships.csv", None, None, "",
                                                 f"automatic partnership selection cannot run: {exc}")]) from exc
