"""Organisations and their registrations for generated rounds (vectorised draws).

Every draw goes through one ``numpy.random.Generator`` in a fixed order, so the same
seed gives the same registrations. The distributions are documented in the README that
:func:`matchmaker.generator.generate.generate_round` writes next to the files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matchmaker.generator.text import descriptions, org_names
from matchmaker.inputs.partnership_selection import select_partnerships

#: Working languages per country (ISO 639-1), main language first.
COUNTRY_LANGUAGES = {
    "AT": ("de",), "BE": ("nl", "fr"), "BG": ("bg",), "HR": ("hr",), "CY": ("el",), "CZ": ("cs",),
    "DK": ("da",), "EE": ("et",), "FI": ("fi", "sv"), "FR": ("fr",), "DE": ("de",), "GR": ("el",),
    "HU": ("hu",), "IE": ("en", "ga"), "IT": ("it",), "LV": ("lv",), "LT": ("lt",), "LU": ("fr", "de"),
    "MT": ("mt", "en"), "NL": ("nl",), "PL": ("pl",), "PT": ("pt",), "RO": ("ro",), "SK": ("sk",),
    "SI": ("sl",), "ES": ("es",), "SE": ("sv",), "IS": ("is",), "AL": ("sq",), "BA": ("bs", "hr", "sr"),
    "XK": ("sq", "sr"), "ME": ("sr",), "MK": ("mk", "sq"), "RS": ("sr",), "TR": ("tr",),
    "AM": ("hy", "ru"), "MD": ("ro", "ru"), "UA": ("uk",), "GB": ("en",), "NO": ("no",),
    "CH": ("de", "fr", "it"), "LI": ("de",),
}

ORG_TYPES = ("sme", "cluster_organisation", "scaleup_support")
ORG_TYPE_P = (0.56, 0.27, 0.17)
SHARE_OTHER_TYPE = 0.01
SHARE_NON_COSME = 0.01
SHARE_AUTO = 0.15
SHARE_ALREADY_VISITED = 0.05
MODES, MODE_P = ("physical", "virtual", "either"), (0.75, 0.10, 0.15)
VISITED_MODE_P = (0.40, 0.30, 0.30)
JITTER_KM = 6.0

#: Activity weights by role: visitors seek, hosts offer (codes missing here weigh 1).
ACTIVITY_WEIGHTS = {
    "visitor": {"networking": 2.0, "market_research": 1.6, "shadowing": 1.5, "market_entry": 1.3,
                "knowledge_sharing": 1.2, "training": 0.8, "marketing": 0.9},
    "host": {"knowledge_sharing": 2.0, "capacity_building": 1.6, "networking": 1.5, "best_practice": 1.3,
             "training": 1.3, "shadowing": 1.2, "market_research": 0.7, "market_entry": 0.7, "marketing": 0.7},
}


@dataclass(frozen=True)
class Reference:
    """Reference tables the generator draws from (read by :mod:`matchmaker.generator.generate`)."""

    countries: pd.DataFrame     # country, name, cosme (bool), lump_sum_eur
    partnerships: pd.DataFrame  # partnership_id, name, sectors (tuple), member_countries (tuple)
    cities: pd.DataFrame        # country, city, latitude, longitude, population_k
    vocabularies: dict          # vocabulary name -> tuple of codes
    labels: dict                # vocabulary name -> {code: label}


def top_k_rows(weights: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Per row, ``k[i]`` distinct column indices drawn with probability ~ ``weights``.

    Gumbel-top-k: equivalent to successive draws without replacement, vectorised over
    rows. Columns of weight 0 are never drawn; ``k[i]`` is capped by the number of
    positive weights in row ``i``.
    """
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(weights.shape)))
    order = np.argsort(-keys, axis=1, kind="stable")
    k = np.minimum(k, (weights > 0).sum(axis=1))
    return [tuple(order[i, : k[i]].tolist()) for i in range(len(k))]


def _exact_flags(n: int, share: float, rng: np.random.Generator, at_least: int = 0) -> np.ndarray:
    """Boolean array with ``round(share * n)`` (at least ``at_least``, at most ``n``) trues."""
    m = min(n, max(at_least, int(round(share * n))))
    flags = np.zeros(n, dtype=bool)
    flags[rng.choice(n, size=m, replace=False)] = True
    return flags


def _countries_and_cities(ref: Reference, n: int, rng: np.random.Generator):
    cities = ref.cities.sort_values("country", kind="stable").reset_index(drop=True)
    codes = np.array(sorted(cities["country"].unique()))
    cosme = ref.countries.set_index("country")["cosme"].reindex(codes).to_numpy(dtype=bool)
    members = np.array([sum(c in m for m in ref.partnerships["member_countries"]) for c in codes])
    size = cities.groupby("country")["population_k"].sum().reindex(codes).to_numpy(dtype=float)
    weight = np.where(cosme, size ** 0.4 * (1.0 + 0.75 * members), 0.0)
    non_cosme = _exact_flags(n, SHARE_NON_COSME, rng, at_least=1 if n >= 20 else 0)
    ci = rng.choice(len(codes), size=n, p=weight / weight.sum())
    nc_codes = np.flatnonzero(~cosme)
    nc_p = np.where(codes[nc_codes] == "GB", 4.0, 1.0)
    ci[non_cosme] = rng.choice(nc_codes, size=int(non_cosme.sum()), p=nc_p / nc_p.sum())
    # city within country, weighted by population: one global searchsorted
    cidx = np.searchsorted(codes, cities["country"].to_numpy())
    w = cities["population_k"].to_numpy(dtype=float)
    cum = pd.Series(w).groupby(cidx).cumsum().to_numpy() / pd.Series(w).groupby(cidx).transform("sum").to_numpy()
    first = np.searchsorted(cidx, np.arange(len(codes)), side="left")
    last = np.searchsorted(cidx, np.arange(len(codes)), side="right") - 1
    j = np.clip(np.searchsorted(cidx + cum, ci + rng.random(n), side="right"), first[ci], last[ci])
    # jitter inside a disc of JITTER_KM around the city centre
    r = JITTER_KM * np.sqrt(rng.random(n))
    theta = 2 * np.pi * rng.random(n)
    lat0 = cities["latitude"].to_numpy(dtype=float)[j]
    lat = lat0 + r * np.cos(theta) / 111.32
    lon = cities["longitude"].to_numpy(dtype=float)[j] + r * np.sin(theta) / (111.32 * np.cos(np.radians(lat0)))
    return codes[ci], cities["city"].to_numpy(dtype=object)[j], lat, lon


def _languages(country: np.ndarray, rng: np.random.Generator) -> list[tuple[str, ...]]:
    u = rng.random((len(country), 5))
    out = []
    for i, c in enumerate(country):
        own = COUNTRY_LANGUAGES.get(c, ("en",))
        langs = [own[0]] + [x for m, x in enumerate(own[1:]) if u[i, 0] < 0.45 / (m + 1)]
        if "en" not in langs and u[i, 1] < 0.9:
            langs.append("en")
        for m, extra in enumerate(("fr", "de", "es")):
            if extra not in langs and u[i, 2 + m] < 0.08:
                langs.append(extra)
        out.append(tuple(langs))
    return out


def _draw_sets(codes, weights, sizes, p_sizes, rng):
    k = rng.choice(sizes, size=len(weights), p=p_sizes)
    return [tuple(codes[j] for j in row) for row in top_k_rows(weights, k, rng)]


def build_organisations(ref: Reference, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` organisations: type, place, sectors, objectives, languages, partnership.

    Returns a DataFrame with columns ``name, org_type, country, city, latitude, longitude,
    partnership, likely_partnership, sectors, objectives, languages, type_phrase``:
    ``type_phrase`` is how it calls itself in descriptions; ``likely_partnership`` is
    the partnership an ``auto`` request resolves to
    (:func:`matchmaker.inputs.partnership_selection.select_partnerships`).
    """
    sectors = np.array(ref.vocabularies["sector"])
    parts = ref.partnerships
    p_sec = np.array([[s in ps for s in sectors] for ps in parts["sectors"]], dtype=float)  # P x S
    country, city, lat, lon = _countries_and_cities(ref, n, rng)
    codes = np.array(sorted(set(country) | set(ref.countries["country"])))
    member = np.array([[c in m for m in parts["member_countries"]] for c in codes], dtype=float)  # C x P
    m = member[np.searchsorted(codes, country)]  # n x P
    org_type = rng.choice(np.array(ORG_TYPES), size=n, p=ORG_TYPE_P).astype(object)
    org_type[_exact_flags(n, SHARE_OTHER_TYPE, rng, at_least=1 if n >= 20 else 0)] = "other"
    # home partnership (members' countries preferred), then sectors around it
    home_w = 1.0 + 4.0 * m
    home = (np.log(home_w) - np.log(-np.log(rng.random(home_w.shape)))).argmax(axis=1)
    sec_w = 1.0 + 20.0 * p_sec[home] + 2.0 * (m @ p_sec)
    org_sectors = _draw_sets(sectors, sec_w, [1, 2, 3], [0.35, 0.45, 0.20], rng)
    objectives = np.array(ref.vocabularies["objective"])
    org_objectives = _draw_sets(objectives, np.ones((n, len(objectives))), [1, 2, 3], [0.3, 0.45, 0.25], rng)
    onehot = np.zeros((n, len(sectors)))
    s_index = {s: i for i, s in enumerate(sectors)}
    for i, secs in enumerate(org_sectors):
        onehot[i, [s_index[s] for s in secs]] = 1.0
    overlap = onehot @ p_sec.T  # n x P
    named = np.where(overlap > 0, overlap + 1.5 * m + 0.9 * rng.random(overlap.shape), -np.inf).argmax(axis=1)
    pid = parts["partnership_id"].to_numpy(dtype=object)
    partnership = np.where(rng.random(n) < SHARE_AUTO, "auto", pid[named]).astype(object)
    likely = select_partnerships(
        pd.DataFrame({"sectors": org_sectors, "country": country, "latitude": lat, "longitude": lon}),
        parts.set_index("partnership_id"))["partnership"].to_numpy(dtype=object)
    languages = _languages(country, rng)
    first_label = [ref.labels["sector"].get(s[0], s[0]) for s in org_sectors]
    names, type_phrase = org_names(org_type, country, city, first_label, rng)
    return pd.DataFrame({
        "name": names, "org_type": org_type, "country": country, "city": city,
        "latitude": lat, "longitude": lon, "partnership": partnership,
        "likely_partnership": likely, "sectors": org_sectors, "objectives": org_objectives,
        "languages": languages, "type_phrase": type_phrase,
    })


def _windows(n: int, role: str, season: tuple[np.datetime64, np.datetime64], min_length: np.ndarray,
             rng) -> tuple[np.ndarray, np.ndarray]:
    """Availability windows inside the season, at least ``min_length`` days long."""
    days = int((season[1] - season[0]).astype(int)) + 1
    if role == "visitor":  # 3 weeks to 4 months
        length = 21 + np.rint(101 * rng.beta(1.3, 2.5, n)).astype(int)
    else:  # 1 to 6 months
        length = 30 + np.rint(153 * rng.beta(1.5, 1.5, n)).astype(int)
    length = np.minimum(np.maximum(length, min_length), days)
    start = season[0] + np.floor(rng.random(n) * (days - length + 1)).astype(int).astype("timedelta64[D]")
    return start, start + (length - 1).astype("timedelta64[D]")


def _stay_days(n: int, role: str, rng) -> tuple[np.ndarray, np.ndarray]:
    if role == "visitor":
        lo = rng.choice(np.arange(3, 11), n, p=[0.18, 0.07, 0.35, 0.10, 0.10, 0.06, 0.04, 0.10])
        extra = rng.choice([0, 1, 2, 3, 5, 7, 10, 12, 17], n, p=[0.10, 0.08, 0.10, 0.10, 0.17, 0.15, 0.15, 0.08, 0.07])
    else:
        lo = rng.choice(np.arange(3, 11), n, p=[0.35, 0.10, 0.30, 0.07, 0.06, 0.04, 0.03, 0.05])
        extra = rng.choice([0, 2, 5, 7, 10, 12, 15, 19], n, p=[0.05, 0.07, 0.15, 0.15, 0.20, 0.13, 0.13, 0.12])
    return lo, np.minimum(22, lo + extra)


def build_rows(ref: Reference, orgs: pd.DataFrame, org_pos: np.ndarray, role: str,
               season: tuple[np.datetime64, np.datetime64], rng: np.random.Generator) -> pd.DataFrame:
    """The registrations of ``orgs.iloc[org_pos]`` in ``role`` (typed columns)."""
    n = len(org_pos)
    rows = orgs.iloc[org_pos].reset_index(drop=True)
    acts = np.array(ref.vocabularies["activity"])
    act_w = np.tile([ACTIVITY_WEIGHTS[role].get(a, 1.0) for a in acts], (n, 1))
    rows["role"] = role
    rows["activities"] = _draw_sets(acts, act_w, [1, 2, 3, 4], [0.15, 0.35, 0.30, 0.20], rng)
    mode = rng.choice(np.array(MODES), n, p=MODE_P)
    visited = _exact_flags(n, SHARE_ALREADY_VISITED, rng) if role == "visitor" else np.zeros(n, dtype=bool)
    # those who already visited often come back for a virtual exchange
    mode[visited] = rng.choice(np.array(MODES), int(visited.sum()), p=VISITED_MODE_P)
    rows["mode"] = mode
    rows["min_days"], rows["max_days"] = _stay_days(n, role, rng)
    # a virtual-only registration leaves room for min_days days in as many weeks, mostly
    room = np.where(mode == "virtual", 7 * rows["min_days"].to_numpy() + rng.integers(-7, 21, n), 0)
    rows["available_from"], rows["available_to"] = _windows(n, role, season, room, rng)
    if role == "host":
        grouped = rng.random(n) < 0.40
        cap = rng.choice(np.arange(2, 7), n, p=[0.35, 0.25, 0.20, 0.10, 0.10])
        extra = rng.choice(np.arange(5), n, p=[0.40, 0.25, 0.15, 0.10, 0.10])
        single = rng.choice(np.arange(1, 7), n, p=[0.35, 0.25, 0.15, 0.10, 0.08, 0.07])
        rows["capacity"] = np.where(grouped, cap, 1)
        rows["max_visitors"] = np.where(grouped, cap + extra, single)
        rows["grouped"] = grouped
        rows["already_visited"] = None
    else:
        rows["capacity"] = None
        rows["max_visitors"] = None
        rows["grouped"] = None
        rows["already_visited"] = visited
    # optional preferences on a minority
    # (other COSME countries; those of the organisation's partnership 5 times likelier)
    codes = ref.countries.loc[ref.countries["cosme"], "country"].to_numpy()
    pids = ref.partnerships["partnership_id"].tolist()
    member = np.array([np.isin(codes, m) for m in ref.partnerships["member_countries"]])  # P x C
    own = np.where(rows["partnership"] == "auto", rows["likely_partnership"], rows["partnership"])
    has_pref = np.flatnonzero(rng.random(n) < 0.12)
    w = 1.0 + 4.0 * member[[pids.index(p) for p in own[has_pref]]]
    w[codes[None, :] == rows["country"].to_numpy()[has_pref, None]] = 0.0
    picks = _draw_sets(codes, w, [1, 2, 3], [0.5, 0.3, 0.2], rng) if len(has_pref) else []
    prefs = [()] * n
    for r, i in enumerate(has_pref):
        prefs[i] = picks[r]
    rows["preferred_countries"] = prefs
    dist = rng.choice([300.0, 500.0, 800.0, 1000.0, 1500.0, 2000.0, 3000.0], n)
    rows["max_distance_km"] = np.where(rng.random(n) < 0.10, dist, np.nan)
    rows["description"] = descriptions(
        rows["role"].to_numpy(), rows["type_phrase"].to_numpy(), rows["city"].to_numpy(),
        rows["sectors"].tolist(), rows["activities"].tolist(), rows["objectives"].tolist(),
        ref.labels["sector"], rng)
    return rows
