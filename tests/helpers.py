"""Build small, valid round directories in tests from a few dicts.

Every column a test does not name gets a sensible valid default, so a test states only
what it is about::

    from helpers import host, visitor, write_round

    d = write_round(tmp_path, [visitor(country="FR"), host(capacity=2, grouped=True)])
    rnd = load_round(d)

Defaults: visitors in Valencia (ES), hosts in Porto (PT), partnership ``CLAMTEX``
(or the first of the given ``partnerships``), sector ``textile``, activity
``networking``, objective ``new_markets``, language ``en``, mode ``physical``,
available 2027-03-01 to 2027-06-30, 5 to 10 working days; hosts single (capacity 1,
max_visitors 1, grouped false); visitors have ``already_visited = false``.
Ids default to ``V001``, ``V002``, ... and ``H001``, ... in order of their role.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common import schema

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"

COMMON_DEFAULTS = {
    "org_type": "sme",
    "partnership": "CLAMTEX",
    "sectors": "textile",
    "activities": "networking",
    "objectives": "new_markets",
    "languages": "en",
    "mode": "physical",
    "available_from": "2027-03-01",
    "available_to": "2027-06-30",
    "min_days": 5,
    "max_days": 10,
    "preferred_countries": "",
    "max_distance_km": "",
    "description": "",
}
ROLE_DEFAULTS = {
    "visitor": {"country": "ES", "city": "Valencia", "latitude": 39.4699, "longitude": -0.3763,
                "capacity": "", "max_visitors": "", "grouped": "", "already_visited": False},
    "host": {"country": "PT", "city": "Porto", "latitude": 41.1579, "longitude": -8.6291,
             "capacity": 1, "max_visitors": 1, "grouped": False, "already_visited": ""},
}
PARTNERSHIP_DEFAULTS = {"sectors": "textile", "member_countries": "ES;PT", "budget_eur": 60000}
COUNTRY_DEFAULTS = {"cosme": True, "lump_sum_eur": 830}
DECISION_DEFAULTS = {"decision": "lock", "comment": ""}


def visitor(**values) -> dict:
    """A registration row of role ``visitor`` (unnamed columns get defaults)."""
    return {"role": "visitor", **values}


def host(**values) -> dict:
    """A registration row of role ``host`` (unnamed columns get defaults)."""
    return {"role": "host", **values}


def cell_text(value) -> str:
    """How a Python value is written in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return schema.LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, (dt.date, np.datetime64, pd.Timestamp)):
        return str(pd.Timestamp(value).date())
    return str(value)


#: Typed values of a registration in a Round built in memory (see :func:`typed_registrations`).
TYPED_DEFAULTS = dict(
    org_type="sme", city="X", latitude=40.0, longitude=0.0, partnership="CLAMTEX",
    sectors=("textile",), activities=("networking",), objectives=("new_markets",), languages=("en",),
    mode="physical", available_from=pd.Timestamp("2027-03-01"), available_to=pd.Timestamp("2027-03-31"),
    min_days=5, max_days=10, preferred_countries=(), max_distance_km=np.nan, description="",
)


def typed_registrations(rows: list[dict], role: str, base: dict = TYPED_DEFAULTS) -> pd.DataFrame:
    """Registrations typed as a loaded Round holds them, for rounds built in memory.

    Each row is ``base`` updated with the row's values; ids ``V0, V1, ...`` (or
    ``H0, ...``), names ``visitor 0, ...``, visitors in ES and hosts in FR unless given.
    """
    out = []
    for i, r in enumerate(rows):
        row = dict(base, org_id=f"{role[0].upper()}{i}", name=f"{role} {i}", role=role,
                   country="ES" if role == "visitor" else "FR", source_row=i + 2)
        row.update(r)
        out.append(row)
    return pd.DataFrame(out)


def fill_registrations(rows: list[dict], partnership: str = "CLAMTEX") -> list[dict]:
    """Registration rows with every unnamed column at its default."""
    count = {"visitor": 0, "host": 0}
    out = []
    for row in rows:
        role = row.get("role", "visitor")
        count[role] = count.get(role, 0) + 1
        org_id = row.get("org_id", f"{role[0].upper()}{count[role]:03d}")
        base = {"org_id": org_id, "name": f"Organisation {org_id}", "role": role}
        base |= COMMON_DEFAULTS | {"partnership": partnership} | ROLE_DEFAULTS.get(role, ROLE_DEFAULTS["visitor"])
        out.append(base | row)
    return out


def _header(spec, rows: list[dict], drop_columns) -> list[str]:
    names = [c.name for c in spec]
    extra = [k for r in rows for k in r if k not in names]
    return [n for n in names + list(dict.fromkeys(extra)) if n not in drop_columns]


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    """Write ``rows`` (dicts) under ``header`` as a UTF-8 CSV file."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([cell_text(r.get(h, "")) for h in header])
    return path


def typed_cell(text: str):
    """The value Excel would hold for CSV text: number, date, boolean or text."""
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.datetime.fromisoformat(text)
    return text


def write_xlsx(path: Path, header: list[str], rows: list[dict], typed: bool = True) -> Path:
    """Write ``rows`` as the first sheet of an Excel workbook (cells typed like Excel's)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "registrations"
    ws.append(header)
    for r in rows:
        texts = [cell_text(r.get(h, "")) for h in header]
        ws.append([typed_cell(t) if typed else (t or None) for t in texts])
    wb.save(path)
    return path


def write_round(tmp_path, registrations_rows, partnerships=None, countries=None, decisions=None,
                settings=None, *, name: str = "round", fmt: str = "csv", drop_columns=()) -> Path:
    """Write a round directory ``tmp_path/name`` and return its path.

    Parameters
    ----------
    tmp_path : path-like
        Parent directory (pytest's ``tmp_path``).
    registrations_rows : list of dict
        One dict per registration (see :func:`visitor`, :func:`host`); keys outside
        the schema are written as extra columns.
    partnerships, countries : list of dict, optional
        ``None`` copies the reference file; ``countries=False`` writes no
        ``countries.csv`` (the loader then falls back to the reference table).
    decisions : list of dict, optional
        ``visitor_id``, ``host_id`` (and ``decision``, default ``lock``); ``None``
        writes no ``decisions.csv``.
    settings : dict, optional
        Written as the round's ``settings.toml``.
    fmt : {"csv", "xlsx"}
        Format of the registrations file.
    drop_columns : iterable of str
        Registration columns left out of the header.
    """
    d = Path(tmp_path) / name
    d.mkdir(parents=True, exist_ok=True)
    if partnerships is None:
        shutil.copy(REFERENCE_DIR / "partnerships.csv", d / "partnerships.csv")
        default_partnership = "CLAMTEX"
    else:
        rows = [{"partnership_id": f"P{i + 1:02d}", **p} for i, p in enumerate(partnerships)]
        rows = [{"name": p["partnership_id"]} | PARTNERSHIP_DEFAULTS | p for p in rows]
        write_csv(d / "partnerships.csv", _header(schema.PARTNERSHIPS, rows, ()), rows)
        default_partnership = rows[0]["partnership_id"] if rows else "CLAMTEX"
    if countries is None:
        shutil.copy(REFERENCE_DIR / "countries.csv", d / "countries.csv")
    elif countries is not False:
        rows = [{"name": c["country"]} | COUNTRY_DEFAULTS | c for c in countries]
        write_csv(d / "countries.csv", _header(schema.COUNTRIES, rows, ()), rows)
    if decisions is not None:
        rows = [DECISION_DEFAULTS | x for x in decisions]
        write_csv(d / "decisions.csv", _header(schema.DECISIONS, rows, ()), rows)
    if settings is not None:
        import tomli_w

        (d / "settings.toml").write_bytes(tomli_w.dumps(settings).encode())
    rows = fill_registrations(list(registrations_rows), default_partnership)
    header = _header(schema.REGISTRATIONS, rows, set(drop_columns))
    if fmt == "csv":
        write_csv(d / "registrations.csv", header, rows)
    elif fmt == "xlsx":
        write_xlsx(d / "registrations.xlsx", header, rows)
    else:
        raise ValueError(f"fmt must be 'csv' or 'xlsx', got {fmt!r}")
    return d


def write_big_round(tmp_path, n_visitors: int, n_hosts: int, seed: int = 0, name: str = "big") -> Path:
    """A valid round of random registrations, written with vectorised pandas (for timing)."""
    rng = np.random.default_rng(seed)
    n = n_visitors + n_hosts
    role = np.array(["visitor"] * n_visitors + ["host"] * n_hosts)
    is_host = role == "host"
    sectors = np.array(["textile", "energy", "ict", "health", "food", "automotive"])
    countries = np.array(["ES", "PT", "FR", "DE", "IT", "PL"])
    start = np.datetime64("2027-03-01") + rng.integers(0, 60, n).astype("timedelta64[D]")
    min_days = rng.integers(3, 8, n)
    frame = pd.DataFrame({
        "org_id": [f"{'H' if h else 'V'}{i:05d}" for i, h in enumerate(is_host)],
        "name": [f"Organisation {i}" for i in range(n)],
        "role": role,
        "org_type": rng.choice(["sme", "cluster_organisation", "scaleup_support"], n),
        "country": rng.choice(countries, n),
        "city": "Somewhere",
        "latitude": np.round(rng.uniform(36, 55, n), 4),
        "longitude": np.round(rng.uniform(-9, 25, n), 4),
        "partnership": rng.choice(["CLAMTEX", "BLUES", "auto"], n),
        "sectors": [";".join(x) for x in zip(rng.choice(sectors, n), rng.choice(sectors, n))],
        "activities": "networking;market_research",
        "objectives": "new_markets",
        "languages": "en;es",
        "mode": rng.choice(["physical", "either"], n),
        "available_from": start.astype(str),
        "available_to": (start + 60).astype(str),
        "min_days": min_days,
        "max_days": min_days + rng.integers(0, 10, n),
        "capacity": np.where(is_host, 1, None),
        "max_visitors": np.where(is_host, rng.integers(1, 5, n), None),
        "grouped": np.where(is_host, "false", ""),
        "already_visited": np.where(is_host, "", "false"),
        "preferred_countries": "",
        "max_distance_km": "",
        "description": "We look for partners in recycled fibres and new markets.",
    })
    d = Path(tmp_path) / name
    d.mkdir(parents=True, exist_ok=True)
    frame.to_csv(d / "registrations.csv", index=False)
    shutil.copy(REFERENCE_DIR / "partnerships.csv", d / "partnerships.csv")
    shutil.copy(REFERENCE_DIR / "countries.csv", d / "countries.csv")
    return d
