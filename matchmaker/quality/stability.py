"""Blocking pairs: a visitor and a host, not proposed together, who would both rather be.

The definition (docs/decisions.md §37). Given a round's proposals, a pair ``(v, h)`` of
the round's catalogue (so allowed by every rule of the scheme, with its stay length,
lump sum and possible start dates) that is not proposed **blocks** the proposals when:

1. **the visitor gains**: ``visitor_gain = score(v, h) - score(v, current host)`` is
   positive (``score(v, h)`` when ``v`` has no proposal), and ``v``'s current pair is not
   locked;
2. **the host gains**, in one of two ways:

   * *room*: ``h`` has fewer proposals than its ``max_visitors`` and the stay fits on
     some start date of the pair beside ``h``'s current stays, at most ``capacity``
     visitors on site on the same day (virtual stays take no place on site);
     ``host_gain = score(v, h)``;
   * *swap*: otherwise ``h`` releases ``u``, its lowest-scoring visitor whose pair is not
     locked, and the stay fits without ``u``'s; ``host_gain = score(v, h) - score(u, h)``
     must be positive;

3. **the budgets allow it**: ``v``'s Partnership pays ``v``'s new lump sum after
   releasing ``v``'s current one (and ``u``'s, when ``u`` is of the same Partnership),
   within its budget; the programme budget likewise.

The other proposals stay as they are (dates included): one pair's deviation, as in the
hospital-resident game. Only the swap of the host's lowest-scoring visitor is looked at:
a swap of another visitor whose dates would free the room is not counted, so in that
rare case the count is a lower bound. Only the catalogue's pairs are looked at (pairs pruned by
``min_score`` or top-K are not candidates). All of it is vectorised over the catalogue's
pairs; the room on dates uses, per host, the run of free days from each working day and
a sparse table for its maximum over a pair's start dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.common.workdays import stay_end
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.solve.problem import SolverInstance, build_instance

#: Columns of :func:`blocking_pairs`' table, in order.
COLUMNS = ("visitor_id", "visitor_name", "host_id", "host_name", "current_host_id", "visitor_gain", "host_gain",
           "host_would_release", "start_date", "end_date", "score")


def _positions(index: dict, ids: pd.Series, what: str) -> np.ndarray:
    unknown = sorted(set(ids) - set(index))
    if unknown:
        raise ValueError(f"proposals: {what}_id {unknown[0]!r} is not a {what} of the round")
    return np.array([index[x] for x in ids], dtype=np.int64)


def _flags(col: pd.Series) -> np.ndarray:
    """A true/false column as booleans, whether typed or read as text ("True", "false", "1")."""
    if col.dtype == bool:
        return col.to_numpy()
    return col.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


class _Current:
    """The proposals as arrays: each visitor's current pair, each host's stays and weakest visitor."""

    def __init__(self, rnd: Round, p: SolverInstance, proposals: pd.DataFrame):
        df = proposals.reset_index(drop=True)
        n = len(df)
        self.v = _positions(rnd.visitor_index(), df["visitor_id"].astype(str), "visitor")
        self.h = _positions(rnd.host_index(), df["host_id"].astype(str), "host")
        self.score = np.rint(df["score"].astype(float).to_numpy() * 100).astype(np.int64)
        self.cost = np.rint(df["lump_sum_eur"].astype(float).to_numpy() * 100).astype(np.int64)
        self.locked = _flags(df["locked"]) if "locked" in df else np.zeros(n, bool)
        self.physical = (df["mode"].astype(str) == "physical").to_numpy()
        start = pd.to_datetime(df["start_date"]).to_numpy().astype("datetime64[D]")
        self.start = np.busday_count(p.base_date, start, busdaycal=p.calendar).astype(np.int64)
        self.days = df["working_days"].astype(int).to_numpy()
        self.part = rnd.visitors["partnership"].astype(str).map({q: i for i, q in enumerate(p.partnerships)}
                                                               ).fillna(-1).to_numpy(np.int64)[self.v]
        self.vrow = np.full(p.n_visitors, -1, dtype=np.int64)
        self.vrow[self.v] = np.arange(n)
        self.count = np.bincount(self.h, minlength=p.n_hosts)
        # each host's weakest releasable visitor: lowest score, unlocked (ties: the later row)
        self.weakest = np.full(p.n_hosts, -1, dtype=np.int64)
        free = np.flatnonzero(~self.locked)
        order = free[np.lexsort((-free, self.score[free], self.h[free]))]
        first = np.r_[True, self.h[order][1:] != self.h[order][:-1]] if len(order) else np.zeros(0, bool)
        self.weakest[self.h[order[first]]] = order[first]
        paid = self.part >= 0
        self.spend = np.bincount(self.part[paid], weights=self.cost[paid], minlength=p.n_partnerships)


class _FreeRuns:
    """Per host, for each working day, how many free days (below capacity) follow it, with a range maximum."""

    def __init__(self, p: SolverInstance, hosts: np.ndarray, cur: _Current, rows: np.ndarray, lo: int, horizon: int):
        self.lo, self.slot = lo, np.full(p.n_hosts, -1, dtype=np.int64)
        self.slot[hosts] = np.arange(len(hosts))
        occ = np.zeros((len(hosts), horizon + 1), dtype=np.int64)
        s = self.slot[cur.h[rows]]
        np.add.at(occ, (s, cur.start[rows] - lo), 1)
        np.add.at(occ, (s, cur.start[rows] + cur.days[rows] - lo), -1)
        occ = np.cumsum(occ, axis=1)[:, :horizon]
        t = np.arange(horizon)
        full = occ >= p.capacity[hosts][:, None]
        nxt = np.minimum.accumulate(np.where(full, t, horizon)[:, ::-1], axis=1)[:, ::-1]
        self.run = nxt - t  # free days from t on (0 on a full day)
        self.table = [self.run]
        while (1 << len(self.table)) <= horizon:
            prev, k = self.table[-1], 1 << (len(self.table) - 1)
            nxt_level = prev.copy()
            nxt_level[:, :-k] = np.maximum(prev[:, :-k], prev[:, k:])
            self.table.append(nxt_level)

    def fits(self, h: np.ndarray, es: np.ndarray, ls: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Whether a stay of ``d`` days starting in ``[es, ls]`` finds ``d`` free days in a row (vectorised)."""
        out = np.ones(len(h), dtype=bool)
        s = self.slot[h]
        known = s >= 0  # hosts without a full day take any stay
        a, b = es[known] - self.lo, ls[known] - self.lo
        k = np.floor(np.log2(b - a + 1)).astype(np.int64)
        best = np.zeros(len(a), dtype=np.int64)
        for level in np.unique(k).tolist():
            m = k == level
            tab = self.table[level]
            best[m] = np.maximum(tab[s[known][m], a[m]], tab[s[known][m], b[m] - (1 << level) + 1])
        out[known] = best >= d[known]
        return out

    def first_start(self, h: int, es: int, ls: int, d: int) -> int:
        """The earliest start in ``[es, ls]`` with ``d`` free days (call only where :meth:`fits`)."""
        s = self.slot[h]
        if s < 0:
            return es
        runs = self.run[s, es - self.lo:ls - self.lo + 1]
        return es + int(np.argmax(runs >= d))


def _axis(p: SolverInstance, cur: _Current) -> tuple[int, int]:
    """First index and length of the working-day axis covering the pairs and the current stays."""
    ph = p.physical
    lo = int(min(0, cur.start[cur.physical].min(initial=0)))
    hi = int(max((p.ls[ph] + p.duration[ph]).max(initial=0),
                  (cur.start[cur.physical] + cur.days[cur.physical]).max(initial=0)))
    return lo, hi - lo + 1


def _room(p: SolverInstance, cur: _Current, lo: int, horizon: int, without_weakest: bool) -> _FreeRuns:
    """Free runs of the hosts whose current stays fill some day, with or without their weakest visitor."""
    rows = np.flatnonzero(cur.physical)
    if without_weakest:
        rows = np.setdiff1d(rows, cur.weakest[cur.weakest >= 0])
    counts = np.bincount(cur.h[rows], minlength=p.n_hosts)
    hosts = np.flatnonzero(counts >= p.capacity)  # fewer stays than places never fill a day
    return _FreeRuns(p, hosts, cur, rows[np.isin(cur.h[rows], hosts)], lo, horizon)



def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` where ``rows >= 0`` (callers mask the rest); any value where there are none.

    A round with no proposals has empty ``values``: every row is then -1 and masked.
    """
    values = np.asarray(values)
    if len(values) == 0:
        return np.zeros(np.shape(rows), dtype=values.dtype)
    return values[np.maximum(rows, 0)]


def _candidates(p: SolverInstance, cur: _Current) -> tuple[np.ndarray, np.ndarray]:
    """Pairs not proposed whose visitor would gain and is not locked; and that gain (hundredths)."""
    j = np.arange(p.n_pairs)
    row = cur.vrow[p.v]
    matched = row >= 0
    current_h = np.where(matched, _at(cur.h, row), -1)
    current_s = np.where(matched, _at(cur.score, row), 0)
    locked = matched & _at(cur.locked, row)
    gain = p.score - current_s
    ok = (gain > 0) & ~locked & (current_h != p.h)
    return j[ok], gain[ok]


def _budget_ok(p: SolverInstance, cur: _Current, j: np.ndarray, release: np.ndarray) -> np.ndarray:
    """Whether the visitor's Partnership and the programme pay the new lump sum (``release``: the host's row or -1)."""
    row = cur.vrow[p.v[j]]
    own = np.where(row >= 0, _at(cur.cost, row), 0)
    freed = np.where(release >= 0, _at(cur.cost, release), 0)
    same = (release >= 0) & (_at(cur.part, release) == p.part[j])
    after = cur.spend[p.part[j]] - own - np.where(same, freed, 0) + p.cost[j]
    ok = after <= p.budget[p.part[j]] + 0.5
    if p.programme_budget is not None:
        ok &= cur.cost.sum() - own - freed + p.cost[j] <= p.programme_budget + 0.5
    return ok


def _fits(runs: _FreeRuns, phys: np.ndarray, h, es, ls, d) -> np.ndarray:
    """Room on dates: always for virtual stays (no place on site), by the free runs for physical ones."""
    out = np.ones(len(h), dtype=bool)
    out[phys] = runs.fits(h[phys], es[phys], ls[phys], d[phys])
    return out


def _blocking(p: SolverInstance, cur: _Current) -> tuple[np.ndarray, ...]:
    """Blocking pairs as arrays: pair index, visitor and host gains, released row (-1), start index."""
    j, vgain = _candidates(p, cur)
    lo, horizon = _axis(p, cur)
    h = p.h[j].astype(np.int64)
    es, ls, d = p.es[j].astype(np.int64), p.ls[j].astype(np.int64), p.duration[j].astype(np.int64)
    phys = p.physical[j]
    with_all, without = _room(p, cur, lo, horizon, False), _room(p, cur, lo, horizon, True)
    room = (cur.count[h] < p.max_visitors[h]) & _fits(with_all, phys, h, es, ls, d)
    room &= _budget_ok(p, cur, j, np.full(len(j), -1))
    u = cur.weakest[h]
    swap = ~room & (u >= 0) & (p.score[j] > _at(cur.score, u))
    swap &= _fits(without, phys, h, es, ls, d)
    swap &= _budget_ok(p, cur, j, np.where(swap, u, -1))
    keep = room | swap
    j, vgain, h, u, swap = j[keep], vgain[keep], h[keep], u[keep], swap[keep]
    hgain = p.score[j] - np.where(swap, _at(cur.score, u), 0)
    starts = p.es[j].astype(np.int64)
    for i in np.flatnonzero(p.physical[j]).tolist():
        runs = without if swap[i] else with_all
        starts[i] = runs.first_start(int(h[i]), int(p.es[j[i]]), int(p.ls[j[i]]), int(p.duration[j[i]]))
    return j, vgain, hgain, np.where(swap, u, -1), starts


def blocking_pairs(rnd: Round, catalogue: Catalogue, proposals: pd.DataFrame) -> pd.DataFrame:
    """The blocking pairs of a round's proposals, the largest total gain first (module docstring).

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
        The round's catalogue (its pairs are the candidates).
    proposals : DataFrame
        In ``proposals.csv``'s columns (at least ``visitor_id, host_id, mode, start_date,
        working_days, lump_sum_eur, score``; ``locked`` when there are locks).

    Returns
    -------
    DataFrame with :data:`COLUMNS`: the visitor and host (ids and names), the visitor's
    current host (empty when unmatched), the score points each side would gain, the
    visitor the host would release (empty when it has room), the earliest dates the stay
    fits, and the pair's score. Sorted by ``visitor_gain + host_gain`` (largest first),
    then visitor and host ids.
    """
    p = build_instance(rnd, catalogue)
    cur = _Current(rnd, p, proposals)
    j, vgain, hgain, release, starts = _blocking(p, cur)
    vis, hos = rnd.visitors, rnd.hosts
    phys = p.physical[j]
    start = np.where(phys, p.date_of(np.where(phys, starts, 0)), p.base_date + starts.astype("timedelta64[D]"))
    days = p.duration[j].astype(np.int64)
    end = np.where(phys, stay_end(start, days, p.calendar), start + (7 * days - 1).astype("timedelta64[D]"))
    row = cur.vrow[p.v[j]]
    host_ids = hos["org_id"].astype(str).to_numpy()
    visitor_ids = vis["org_id"].astype(str).to_numpy()
    out = pd.DataFrame({
        "visitor_id": visitor_ids[p.v[j]], "visitor_name": vis["name"].astype(str).to_numpy()[p.v[j]],
        "host_id": host_ids[p.h[j]], "host_name": hos["name"].astype(str).to_numpy()[p.h[j]],
        "current_host_id": np.where(row >= 0, host_ids[_at(cur.h, row)], ""),
        "visitor_gain": vgain / 100, "host_gain": hgain / 100,
        "host_would_release": np.where(release >= 0, visitor_ids[_at(cur.v, release)], ""),
        "start_date": pd.to_datetime(start).strftime("%Y-%m-%d"), "end_date": pd.to_datetime(end).strftime("%Y-%m-%d"),
        "score": p.score[j] / 100,
    }, columns=list(COLUMNS))
    total = out["visitor_gain"] + out["host_gain"]
    order = np.lexsort((out["host_id"].to_numpy(), out["visitor_id"].to_numpy(), -total.to_numpy()))
    return out.iloc[order].reset_index(drop=True)
