"""Automatic partnership selection for registrations with ``partnership = auto``.

The scheme lets an applicant pick its Partnership "by sector coverage and/or the
location of the Partnership's members", or ask for automatic selection. For every
``auto`` registration this module picks, among all partnerships, the first in this
order (docs/decisions.md, "Automatic partnership selection"):

1. highest **sector coverage**: the share of the applicant's sectors that the
   partnership covers;
2. a partnership with a **member in the applicant's own country** before one without;
3. the shortest **distance** from the applicant (its latitude/longitude) to the
   nearest member country, each country represented by its capital in
   ``data/reference/country_centroids.csv`` (members in the applicant's own country
   count as 0 km, so among same-country partnerships this key is a tie);
4. the smallest ``partnership_id`` (plain string order), so the choice is
   deterministic.

Applicants who chose a partnership keep it. The whole selection is vectorised over
registrations x partnerships (a few boolean and distance matrices).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import RoundDataError
from matchmaker.common.geo import great_circle_km
from matchmaker.common.schema import Column
from matchmaker.inputs.columns import check_required, parse_table
from matchmaker.inputs.raw_tables import read_table
from matchmaker.inputs.reference import REFERENCE_DIR, reference_file
from matchmaker.inputs.tables import duplicate_rows

#: Value of ``registrations.partnership`` that asks for automatic selection.
AUTO = "auto"

#: One point (the capital) per country, used for distances to member countries.
CENTROIDS_FILE = REFERENCE_DIR / "country_centroids.csv"

#: Reason shown for applicants who chose their partnership.
CHOSEN_REASON = "chosen by the applicant"


#: Columns of ``country_centroids.csv`` (checked like a round's files).
COUNTRY_POINTS = (
    Column("country", "str", True, "ISO 3166-1 alpha-2 code.", "PT"),
    Column("place", "str", False, "What the point is (the capital).", "Lisbon (capital)"),
    Column("latitude", "float", True, "WGS84 latitude, degrees.", "38.7223", minimum=-90, maximum=90),
    Column("longitude", "float", True, "WGS84 longitude, degrees.", "-9.1393", minimum=-180, maximum=180),
)


def load_country_points(path: str | Path | None = None) -> pd.DataFrame:
    """Latitude/longitude of one point per country, indexed by ``country``.

    Parameters
    ----------
    path : path-like, optional
        CSV with columns ``country, place, latitude, longitude`` (:data:`COUNTRY_POINTS`);
        default ``country_centroids.csv`` of the reference directory in use
        (:func:`matchmaker.inputs.reference.reference_dir`, like every reference table).

    Raises
    ------
    RoundDataError
        Naming file, row, column, value and rule of every problem of the file.
    """
    path = Path(path) if path is not None else reference_file(CENTROIDS_FILE.name)
    stat = path.stat() if path.is_file() else None
    return _read_country_points(str(path), stat and (stat.st_mtime_ns, stat.st_size)).copy()


@functools.lru_cache(maxsize=4)
def _read_country_points(path: str, version) -> pd.DataFrame:
    """:func:`load_country_points` of one version of a file (read once per process)."""
    table, problems = read_table(path)
    if table is not None:
        parsed, more = parse_table(table, COUNTRY_POINTS, {})
        problems += more + check_required(parsed, COUNTRY_POINTS)
        problems += duplicate_rows(parsed, ["country"], parsed.ok("country"), "country: one point per country")
    errors = [replace(p, file=str(path)) for p in problems if p.severity == "error"]
    if table is None or errors:
        raise RoundDataError(errors)
    return parsed.values.set_index("country")[["latitude", "longitude"]]


def _membership(values: pd.Series, classes: list[str]) -> np.ndarray:
    """Boolean matrix (len(values) x len(classes)): row i has the codes of values[i]."""
    col = {c: j for j, c in enumerate(classes)}
    out = np.zeros((len(values), len(classes)), dtype=bool)
    rows = np.repeat(np.arange(len(values)), [len(t) for t in values])
    cols = np.fromiter((col[c] for t in values for c in t), dtype=np.int64, count=len(rows))
    out[rows, cols] = True
    return out


def _where(regs: pd.DataFrame, i: int) -> str:
    if "source_row" in regs.columns:
        return f"registrations.csv, row {regs['source_row'].iloc[i]}"
    return f"registration at position {i}"


def _check(regs: pd.DataFrame, partnerships: pd.DataFrame, points: pd.DataFrame) -> None:
    need = {"partnership", "sectors", "country", "latitude", "longitude"}
    missing = need - set(regs.columns)
    if missing:
        raise ValueError(f"registrations: missing column(s) {', '.join(sorted(missing))} "
                         "needed for partnership selection")
    for c in ("sectors", "member_countries"):
        if c not in partnerships.columns:
            raise ValueError(f"partnerships.csv: missing column '{c}'")
    known = set(partnerships.index) | {AUTO}
    bad = ~regs["partnership"].isin(known).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{_where(regs, i)}, column 'partnership': value {regs['partnership'].iloc[i]!r}: "
            f"must be a partnership_id from partnerships.csv or '{AUTO}'"
        )
    for pid, members in partnerships["member_countries"].items():
        if len(members) == 0:
            raise ValueError(f"partnerships.csv, partnership {pid!r}, column 'member_countries': empty; "
                             "a partnership needs members")
        unknown = [c for c in members if c not in points.index]
        if unknown:
            raise ValueError(
                f"partnerships.csv, partnership {pid!r}, column 'member_countries': value {unknown[0]!r} "
                f"has no point in {CENTROIDS_FILE.name}; add its capital's latitude/longitude there"
            )


def select_partnerships(regs: pd.DataFrame, partnerships: pd.DataFrame,
                        points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Most suitable partnership for every registration, whatever it asked for.

    Parameters
    ----------
    regs : DataFrame
        Registrations with tuple ``sectors``, ``country``, ``latitude``, ``longitude``.
    partnerships : DataFrame
        Indexed by ``partnership_id`` with tuple ``sectors`` and ``member_countries``.
    points : DataFrame, optional
        One point per country (:func:`load_country_points`); read from
        :data:`CENTROIDS_FILE` when omitted.

    Returns
    -------
    DataFrame
        Same index as ``regs``; columns ``partnership``, ``covered`` (tuple of the
        applicant's sectors it covers), ``n_sectors``, ``same_country`` (bool),
        ``nearest_country`` and ``distance_km`` (0 when ``same_country``).
    """
    if points is None:
        points = load_country_points()
    parts = partnerships.sort_index()  # column order = final tie-break
    pids = parts.index.to_numpy(dtype=object)
    sectors = sorted({s for t in regs["sectors"] for s in t} | {s for t in parts["sectors"] for s in t})
    R = _membership(regs["sectors"], sectors).astype(np.int32)           # n x S
    P = _membership(parts["sectors"], sectors).astype(np.int32)          # p x S
    n_sec = R.sum(axis=1)
    covered = R @ P.T                                                    # n x p
    coverage = covered / np.maximum(n_sec, 1)[:, None]

    countries = list(points.index)
    M = _membership(parts["member_countries"], countries)                # p x C
    cidx = {c: j for j, c in enumerate(countries)}
    own = np.array([cidx.get(c, -1) for c in regs["country"]])
    same = np.zeros_like(coverage, dtype=bool)
    known_own = own >= 0
    same[known_own] = M[:, own[known_own]].T
    D = great_circle_km(regs["latitude"].to_numpy(float)[:, None], regs["longitude"].to_numpy(float)[:, None],
                        points["latitude"].to_numpy()[None, :], points["longitude"].to_numpy()[None, :])  # n x C
    masked = np.where(M[None, :, :], D[:, None, :], np.inf)              # n x p x C
    nearest = masked.argmin(axis=2)
    dist = np.take_along_axis(masked, nearest[..., None], axis=2)[..., 0]
    dist = np.where(same, 0.0, dist)

    cand = coverage == coverage.max(axis=1, keepdims=True)
    with_same = cand & same
    cand = np.where(with_same.any(axis=1, keepdims=True), with_same, cand)
    d = np.where(cand, dist, np.inf)
    cand &= d == d.min(axis=1, keepdims=True)
    best = cand.argmax(axis=1)                                           # first by partnership_id
    rows = np.arange(len(regs))

    sec_arr = np.array(sectors, dtype=object)
    chosen_P = P[best].astype(bool) & R.astype(bool)
    return pd.DataFrame({
        "partnership": pids[best],
        "covered": [tuple(x for x in own_sectors if x in set(sec_arr[m]))
                    for own_sectors, m in zip(regs["sectors"], chosen_P)],
        "n_sectors": n_sec,
        "same_country": same[rows, best],
        "nearest_country": np.array(countries, dtype=object)[nearest[rows, best]],
        "distance_km": dist[rows, best],
    }, index=regs.index)


def _reason(row, own_country: str) -> str:
    text = f"auto: covers {len(row.covered)} of {row.n_sectors} sectors"
    if row.covered:
        text += f" ({', '.join(row.covered)})"
    if row.same_country:
        return text + f"; member in {own_country} (same country)"
    return text + f"; nearest member country {row.nearest_country}, {row.distance_km:.0f} km"


def resolve_partnerships(regs: pd.DataFrame, partnerships: pd.DataFrame, countries: pd.DataFrame,
                         points: pd.DataFrame | None = None) -> pd.DataFrame:
    """Resolve ``partnership = auto`` and record what was asked and why.

    Parameters
    ----------
    regs : DataFrame
        Registrations (either role) with ``partnership`` (an id or ``'auto'``),
        tuple ``sectors``, ``country``, ``latitude`` and ``longitude``.
    partnerships : DataFrame
        Indexed by ``partnership_id``; tuple ``sectors`` and ``member_countries``.
    countries : DataFrame
        Indexed by ``country``; used to check that member countries are known.
    points : DataFrame, optional
        One point per country (see :func:`load_country_points`).

    Returns
    -------
    DataFrame
        A copy of ``regs`` with ``partnership`` (the resolved id),
        ``partnership_requested`` (what the file said) and ``partnership_reason``.

    Raises
    ------
    ValueError
        A partnership value that is neither a known id nor ``'auto'``, or a member
        country without a point (both named with file, row/partnership and value).
    """
    if points is None:
        points = load_country_points()
    _check(regs, partnerships, points)
    unknown = sorted({c for t in partnerships["member_countries"] for c in t} - set(countries.index))
    if unknown:
        raise ValueError(f"partnerships.csv, column 'member_countries': value {unknown[0]!r} is not in countries.csv")
    out = regs.copy()
    out["partnership_requested"] = regs["partnership"].astype(str)
    out["partnership_reason"] = CHOSEN_REASON
    auto = (regs["partnership"] == AUTO).to_numpy()
    if auto.any():
        sub = regs[auto]
        sel = select_partnerships(sub, partnerships, points)
        out.loc[auto, "partnership"] = sel["partnership"].to_numpy()
        out.loc[auto, "partnership_reason"] = [
            _reason(r, c) for r, c in zip(sel.itertuples(index=False), sub["country"])
        ]
    return out
