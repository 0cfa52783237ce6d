"""Attribute arrays and pair arithmetic shared by the rules (:mod:`matchmaker.constraints`).

Everything here broadcasts: visitor attributes shaped ``(nb, 1)`` against host
attributes ``(1, nh)`` give a block of pairs, equal-length 1-D arrays give a list of
pairs. For speed on millions of pairs, dates are ``int32`` day numbers (days since
1970-01-01, :func:`to_days` / :func:`to_dates`), stay lengths ``int16``, and
working-day arithmetic is a prefix-count table (:class:`WorkdayTable`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from matchmaker.common.geo import great_circle_km_from_unit, unit_vectors
from matchmaker.common.schema import ELIGIBLE_ORG_TYPES
from matchmaker.common.workdays import busdaycal
from matchmaker.inputs.instance import Round

Arrays = Mapping[str, np.ndarray]

#: Day number standing for "no cut-off" when ``rules.virtual_until`` is unset (9999-12-31).
NO_CUTOFF = int(np.datetime64("9999-12-31", "D").astype(np.int64))


def to_days(dates: npt.ArrayLike) -> np.ndarray:
    """Dates (datetime64 of any unit, or ISO strings) as int32 day numbers."""
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int32)


def to_dates(days: npt.ArrayLike) -> np.ndarray:
    """Day numbers back to ``datetime64[D]``."""
    return np.asarray(days).astype(np.int64).astype("datetime64[D]")


def in_sorted(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(codes, table)`` for a sorted ``table`` (binary search, any shape)."""
    codes = np.asarray(codes)
    if len(table) == 0:
        return np.zeros(codes.shape, dtype=bool)
    i = np.minimum(np.searchsorted(table, codes), len(table) - 1)
    return table[i] == codes


class WorkdayTable:
    """Working days from ``first`` to ``last`` (day numbers) as prefix counts.

    Gives the answers of :mod:`matchmaker.common.workdays` by two integer look-ups per pair.
    Arguments must lie within ``[first, last]`` (every window of the round does).
    """

    def __init__(self, first: int, last: int, cal: np.busdaycalendar):
        self.first = int(first)
        days = np.arange(self.first, int(last) + 2, dtype=np.int64)
        working = np.is_busday(to_dates(days), busdaycal=cal)
        self.before = np.concatenate([[0], np.cumsum(working)]).astype(np.int32)  # working days before day i
        self.days = (days[working] if working.any() else days[:1]).astype(np.int32)

    def count(self, first: npt.ArrayLike, last: npt.ArrayLike) -> np.ndarray:
        """Working days in ``[first, last]`` (0 if empty)."""
        n = self.before.take(np.asarray(last) - (self.first - 1)) - self.before.take(np.asarray(first) - self.first)
        return np.maximum(n, 0)

    def first_on_or_after(self, day: npt.ArrayLike) -> np.ndarray:
        """First working day on or after ``day``."""
        return self.days.take(np.minimum(self.before.take(np.asarray(day) - self.first), len(self.days) - 1))

    def start_ending_by(self, day: npt.ArrayLike, working_days: npt.ArrayLike) -> np.ndarray:
        """Latest start of ``working_days`` consecutive working days ending on or before ``day``."""
        k = self.before.take(np.asarray(day) - (self.first - 1)) - np.asarray(working_days)
        return self.days.take(np.clip(k, 0, len(self.days) - 1))


@dataclass(frozen=True)
class RuleContext:
    """Round-wide values the rules need (from settings and decisions)."""

    min_working_days: int
    max_working_days: int
    allow_virtual: bool
    virtual_until: int  # day number (NO_CUTOFF when unset)
    workdays: WorkdayTable
    n_hosts: int
    forbidden: np.ndarray  # sorted pair codes v * n_hosts + h
    forbidden_visitors: np.ndarray  # sorted visitor positions with a forbidden pair
    locked: np.ndarray


def rule_context(rnd: Round) -> RuleContext:
    """The :class:`RuleContext` of a round."""
    r = rnd.settings["rules"]
    days = np.concatenate([to_days(df[c].to_numpy()) for df in (rnd.visitors, rnd.hosts)
                           for c in ("available_from", "available_to")])
    first, last = (days.min(), days.max()) if len(days) else (0, 0)
    n_hosts = rnd.n_hosts
    forbid_v, forbid_h = rnd.pair_decisions("forbid")
    lock_v, lock_h = rnd.pair_decisions("lock")
    cut = r["virtual_until"]
    return RuleContext(
        min_working_days=int(r["min_working_days"]), max_working_days=int(r["max_working_days"]),
        allow_virtual=bool(r["allow_virtual"]),
        virtual_until=NO_CUTOFF if cut is None else int(to_days(cut)),
        workdays=WorkdayTable(first, last, busdaycal(r["holidays"])),
        n_hosts=n_hosts, forbidden=np.unique(forbid_v * n_hosts + forbid_h),
        forbidden_visitors=np.unique(forbid_v), locked=np.unique(lock_v * n_hosts + lock_h),
    )


def _flag(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df:
        return np.zeros(len(df), dtype=bool)
    return df[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def side_arrays(rnd: Round, role: str) -> dict[str, np.ndarray]:
    """1-D attribute arrays of all visitors or all hosts, as the rules read them.

    ``start``/``end`` are day numbers, ``min_days``/``max_days`` int16, ``country`` an
    integer code (equal codes = same country), strings are kept for the messages.
    """
    df = rnd.visitors if role == "visitor" else rnd.hosts
    n = len(df)
    country = df["country"].astype(str).to_numpy(dtype=object)
    all_countries = pd.Index(pd.unique(np.concatenate([
        rnd.countries.index.to_numpy(dtype=object), rnd.visitors["country"].to_numpy(dtype=object),
        rnd.hosts["country"].to_numpy(dtype=object)])))
    mode = df["mode"].astype(str).to_numpy(dtype=object)
    x, y, z = unit_vectors(df["latitude"].to_numpy(dtype=float), df["longitude"].to_numpy(dtype=float))
    partnership = (df["partnership"] if "partnership" in df else pd.Series([None] * n)).to_numpy(dtype=object)
    pcode = pd.Index(rnd.partnerships.index).get_indexer(partnership)
    return {
        "pos": np.arange(n, dtype=np.int64),
        "org_id": df["org_id"].to_numpy(dtype=object),
        "country_code": country,
        "country": all_countries.get_indexer(country).astype(np.int16),
        "cosme": rnd.countries["cosme"].astype(bool).reindex(country, fill_value=False).to_numpy(dtype=bool),
        "threshold": rnd.countries["lump_sum_eur"].astype(float).reindex(country).to_numpy(dtype=float),
        "org_type": df["org_type"].astype(str).to_numpy(dtype=object),
        "type_ok": df["org_type"].isin(ELIGIBLE_ORG_TYPES).to_numpy(dtype=bool),
        "mode": mode,
        "physical": np.isin(mode, ("physical", "either")),
        "virtual": np.isin(mode, ("virtual", "either")),
        "already_visited": _flag(df, "already_visited") if role == "visitor" else np.zeros(n, dtype=bool),
        "start": to_days(df["available_from"].to_numpy()),
        "end": to_days(df["available_to"].to_numpy()),
        "min_days": df["min_days"].to_numpy(dtype=np.int16),
        "max_days": df["max_days"].to_numpy(dtype=np.int16),
        "lat": df["latitude"].to_numpy(dtype=float),
        "lon": df["longitude"].to_numpy(dtype=float),
        "x": x, "y": y, "z": z,
        "partnership": partnership,
        "partnership_code": pcode,
        "partnership_ok": pcode >= 0,
    }


def take(side: Arrays, idx: np.ndarray, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Attributes ``keys`` (default all) of the registrations at positions ``idx``."""
    return {k: side[k].take(idx) for k in (side if keys is None else keys)}


class PairModes:
    """Mode arithmetic of decisions §4 and §6 for pairs, each quantity computed on first use.

    ``both_physical`` / ``both_virtual``: both sides accept that mode;
    ``virtual_possible``: both accept virtual, virtual exchanges are allowed and the
    cut-off is not before the first day both are available; ``physical_mode``: both
    accept physical and the visitor has not visited yet; ``virtual_mode``: not physical
    but virtual possible; ``virtual_candidate``: the mode whose room the availability
    rule measures: the pair's mode, or for a pair without one (refused by
    ``mode_compatible`` or ``visitor_once``) physical when both accept physical, else
    virtual. Each side is prepared first (small arrays), then one operation on the block.
    """

    def __init__(self, V: Arrays, H: Arrays, ctx: RuleContext):
        self.V, self.H, self.ctx = V, H, ctx

    @cached_property
    def both_physical(self) -> np.ndarray:
        return self.V["physical"] & self.H["physical"]

    @cached_property
    def both_virtual(self) -> np.ndarray:
        return self.V["virtual"] & self.H["virtual"]

    @cached_property
    def virtual_possible(self) -> np.ndarray:
        V, H, cut = self.V, self.H, self.ctx.virtual_until
        ok = (V["virtual"] & (V["start"] <= cut)) & (H["virtual"] & (H["start"] <= cut))
        return ok if self.ctx.allow_virtual else np.zeros_like(ok)

    @cached_property
    def physical_mode(self) -> np.ndarray:
        return (self.V["physical"] & ~self.V["already_visited"]) & self.H["physical"]

    @cached_property
    def virtual_mode(self) -> np.ndarray:
        return ~self.physical_mode & self.virtual_possible

    @cached_property
    def virtual_candidate(self) -> np.ndarray:
        return ~self.physical_mode & (self.virtual_possible | (self.both_virtual & ~self.both_physical))


def pair_modes(V: Arrays, H: Arrays, ctx: RuleContext) -> PairModes:
    """The :class:`PairModes` of pairs."""
    return PairModes(V, H, ctx)


def distance_km(V: Arrays, H: Arrays) -> np.ndarray:
    """Great-circle distance of pairs from their unit vectors.

    Computed by :func:`matchmaker.common.geo.great_circle_km_from_unit`, in km.
    """
    return great_circle_km_from_unit((V["x"], V["y"], V["z"]), (H["x"], H["y"], H["z"]))


def stay_bounds(V: Arrays, H: Arrays, ctx: RuleContext) -> tuple[np.ndarray, np.ndarray]:
    """Shortest and longest stay both sides and the rules accept (decisions §5)."""
    lo = np.maximum(np.maximum(V["min_days"], ctx.min_working_days), H["min_days"])
    hi = np.minimum(np.minimum(V["max_days"], ctx.max_working_days), H["max_days"])
    return lo, hi


def common_window(V: Arrays, H: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """First and last day both are available (empty when first > last)."""
    return np.maximum(V["start"], H["start"]), np.minimum(V["end"], H["end"])


def room(V: Arrays, H: Arrays, ctx: RuleContext, virtual: np.ndarray) -> np.ndarray:
    """Longest stay the common window allows: working days (physical) or whole weeks
    before the cut-off (virtual: x days need 7x calendar days)."""
    first, last = common_window(V, H)
    working = ctx.workdays.count(first, last)
    if not np.any(virtual):
        return working
    return np.where(virtual, virtual_weeks(first, last, ctx), working)


def virtual_weeks(first: np.ndarray, last: np.ndarray, ctx: RuleContext) -> np.ndarray:
    """Whole weeks from ``first`` to ``last`` or the cut-off: the longest virtual exchange there."""
    return np.maximum(np.minimum(last, ctx.virtual_until) - first + 1, 0) // 7


def pair_dates(V: Arrays, H: Arrays, ctx: RuleContext, virtual: np.ndarray,
               days: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest start (day numbers) of a stay of ``days`` (physical: working days)."""
    first, last = common_window(V, H)
    earliest = np.where(virtual, first, ctx.workdays.first_on_or_after(first))
    virtual_latest = np.minimum(last, ctx.virtual_until) - 7 * np.asarray(days, dtype=np.int32) + 1
    latest = np.where(virtual, virtual_latest, ctx.workdays.start_ending_by(last, days))
    return earliest, latest
