"""The solver's input: a round as plain NumPy arrays, built once from the round and its catalogue.

A :class:`SolverInstance` is the round *as the solver sees it*: pairs, hosts and
partnerships as integer arrays (not to be confused with :class:`matchmaker.inputs.instance.Round`,
the round as read from its files, nor with :class:`matchmaker.common.errors.Problem`, a
problem found in the input files). Every algorithm of the solver
(:mod:`~matchmaker.solve.flow`, :mod:`~matchmaker.solve.lp`, :mod:`~matchmaker.solve.schedule`,
:mod:`~matchmaker.solve.cpsat_model`, ...) reads a :class:`SolverInstance` (or the
:class:`~matchmaker.solve.core.Core` built from it) and nothing else, so it can be tested
on small synthetic instances (:func:`make_instance`) as well as on real rounds
(:func:`build_instance`).

Units are integers so that the models and the proofs are exact:

* scores in hundredths of a point (``round(score * 100)``),
* lump sums and budgets in euro cents,
* physical stays on a time axis of *working days* (index 0 is the first working day on
  or after the earliest start of any pair). Two physical stays share a calendar day if
  and only if they share a working day (both start and end on working days), so the
  same-day capacity of decisions §2 and §7 is exact on this axis.

The objective weights of the options (decisions §13) are computed by
:func:`objective_weights`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from matchmaker.common.workdays import busdaycal
from matchmaker.inputs.settings import FAIRNESS_BY, MAX_STABILITY_WEIGHT
from matchmaker.solve.stability_weights import stability_weights

if TYPE_CHECKING:  # types only: the solver's arrays need nothing from the round's modules at run time
    from matchmaker.inputs.instance import Round
    from matchmaker.pairs.catalogue import Catalogue


@dataclass
class SolverInstance:
    """One round as arrays: pairs, hosts, partnerships and the solver settings.

    Pair arrays (length ``n_pairs``, one entry per catalogue row)
    ----------------------------------------------------------------
    v, h : int32 -- visitor / host positions.
    score : int64 -- score in hundredths of a point (after the virtual weight).
    cost : int64 -- lump sum in cents, paid by the visitor's partnership.
    part : int32 -- index of the paying partnership in ``partnerships``.
    physical : bool -- physical stay (occupies the host's same-day capacity).
    duration : int32 -- working days of the stay (fixed per pair, decisions §5).
    es, ls : int32 -- earliest / latest start; working-day index for physical pairs.
    earliest_date : datetime64[D] -- earliest start as a date (start of virtual pairs).
    locked : bool -- the pair must be proposed.
    row : int64 -- position of the pair in the catalogue (``pairs.iloc``).

    Host arrays (length ``n_hosts``)
    --------------------------------
    capacity : int32 -- most physical visitors on the same day (1 when not grouped).
    max_visitors : int32 -- most visitors in the round.

    Other fields
    ------------
    n_visitors : int -- visitors of the round (positions ``0..n_visitors-1``).
    visitor_part : int32 -- partnership index of each visitor (-1: none).
    partnerships : list of str -- partnership ids.
    budget : int64 -- budget of each partnership in cents.
    programme_budget : int or None -- programme-wide budget in cents (None: no limit).
    objective : {"score", "exchanges_then_score"}
    fairness_share : float -- guaranteed share of each fairness group's eligible visitors.
    fairness_by : {"partnership", "country"} -- what the fairness groups are (decisions §38).
    fair : int32 per pair -- fairness group of the pair's visitor (default: ``part``).
    visitor_fair : int32 per visitor -- fairness group of each visitor (default: ``visitor_part``).
    fair_groups : list of str -- names of the fairness groups (default: ``partnerships``).
    stability_weight : float -- exponent λ of the stability option (decisions §38; 0: none).
    base_date : datetime64[D] -- date of working-day index 0.
    holidays : tuple -- holidays of the working-day calendar.
    """

    v: np.ndarray
    h: np.ndarray
    score: np.ndarray
    cost: np.ndarray
    part: np.ndarray
    physical: np.ndarray
    duration: np.ndarray
    es: np.ndarray
    ls: np.ndarray
    locked: np.ndarray
    capacity: np.ndarray
    max_visitors: np.ndarray
    n_visitors: int
    visitor_part: np.ndarray
    partnerships: list
    budget: np.ndarray
    programme_budget: int | None = None
    objective: str = "score"
    fairness_share: float = 0.0
    fairness_by: str = "partnership"
    fair: np.ndarray | None = None
    visitor_fair: np.ndarray | None = None
    fair_groups: list | None = None
    stability_weight: float = 0.0
    base_date: np.datetime64 = np.datetime64("2027-01-04", "D")
    holidays: tuple = ()
    earliest_date: np.ndarray | None = None
    row: np.ndarray | None = None
    _calendar: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.v)
        as_ = {"v": np.int32, "h": np.int32, "score": np.int64, "cost": np.int64, "part": np.int32,
               "physical": bool, "duration": np.int32, "es": np.int32, "ls": np.int32, "locked": bool}
        for name, dtype in as_.items():
            a = np.asarray(getattr(self, name))
            if a.ndim != 1 or len(a) != n:
                raise ValueError(f"SolverInstance.{name}: expected a 1-D array of {n} pairs, got shape {a.shape}")
            setattr(self, name, a.astype(dtype, copy=False))
        self.capacity = np.asarray(self.capacity, dtype=np.int32)
        self.max_visitors = np.asarray(self.max_visitors, dtype=np.int32)
        self.visitor_part = np.asarray(self.visitor_part, dtype=np.int32)
        self.budget = np.asarray(self.budget, dtype=np.int64)
        if self.row is None:
            self.row = np.arange(n, dtype=np.int64)
        self.fair = self.part if self.fair is None else np.asarray(self.fair, dtype=np.int32)
        self.visitor_fair = (self.visitor_part if self.visitor_fair is None
                             else np.asarray(self.visitor_fair, dtype=np.int32))
        if self.fair_groups is None:
            self.fair_groups = list(self.partnerships)
        if self.earliest_date is None:
            self.earliest_date = self.date_of(self.es)
        self._check()

    # -- checks at the boundary ------------------------------------------------------------
    def _check(self) -> None:
        nh, nv, npart, n = len(self.capacity), self.n_visitors, len(self.partnerships), len(self.v)

        def fail(what, idx):
            i = int(np.flatnonzero(idx)[0])
            raise ValueError(f"SolverInstance: {what} (first at position {i} of {int(idx.sum())})")

        if len(self.max_visitors) != nh:
            raise ValueError("SolverInstance: capacity and max_visitors must have one entry per host")
        if len(self.visitor_part) != nv or len(self.budget) != npart:
            raise ValueError("SolverInstance: visitor_part needs one entry per visitor, budget one per partnership")
        checks = [
            ("pair visitor outside 0..n_visitors-1", (self.v < 0) | (self.v >= nv)),
            ("pair host outside 0..n_hosts-1", (self.h < 0) | (self.h >= nh)),
            ("pair partnership outside the partnership list", (self.part < 0) | (self.part >= npart)),
            ("negative score", self.score < 0),
            ("negative lump sum", self.cost < 0),
            ("stay shorter than 1 working day", self.duration < 1),
            ("latest start before earliest start", self.ls < self.es),
            ("host capacity below 1", self.capacity < 1),
            ("host max_visitors below 1", self.max_visitors < 1),
            ("negative budget", self.budget < 0),
        ]
        for what, bad in checks:
            if bad.any():
                fail(what, bad)
        if len(self.v):
            key = self.v.astype(np.int64) * nh + self.h
            if not (key[1:] > key[:-1]).all():  # catalogue order is (v, h): sort only otherwise
                key = np.sort(key)
            if (key[1:] == key[:-1]).any():
                raise ValueError("SolverInstance: a (visitor, host) pair appears twice; one row per pair")
        if self.objective not in ("score", "exchanges_then_score"):
            raise ValueError(f"SolverInstance.objective = {self.objective!r}: use 'score' or 'exchanges_then_score'")
        if not 0.0 <= self.fairness_share <= 1.0:
            raise ValueError(f"SolverInstance.fairness_share = {self.fairness_share}: must be in [0, 1]")
        if self.fairness_by not in FAIRNESS_BY:
            raise ValueError(f"SolverInstance.fairness_by = {self.fairness_by!r}: use one of {FAIRNESS_BY}")
        if not 0.0 <= self.stability_weight <= MAX_STABILITY_WEIGHT:
            raise ValueError(f"SolverInstance.stability_weight = {self.stability_weight}: "
                             f"must be in [0, {MAX_STABILITY_WEIGHT:g}]")
        nf = len(self.fair_groups)
        if len(self.fair) != n or len(self.visitor_fair) != nv:
            raise ValueError("SolverInstance: fair needs one entry per pair, visitor_fair one per visitor")
        if ((self.fair < 0) | (self.fair >= nf)).any() or (self.visitor_fair >= nf).any():
            raise ValueError("SolverInstance: a fairness group outside the fair_groups list")

    # -- sizes and derived arrays ----------------------------------------------------------
    @property
    def n_pairs(self) -> int:
        return len(self.v)

    @property
    def n_hosts(self) -> int:
        return len(self.capacity)

    @property
    def n_partnerships(self) -> int:
        return len(self.partnerships)

    @property
    def n_fair_groups(self) -> int:
        return len(self.fair_groups)

    @property
    def calendar(self) -> np.busdaycalendar:
        if self._calendar is None:
            self._calendar = busdaycal(self.holidays)
        return self._calendar

    def date_of(self, index: ArrayLike) -> np.ndarray:
        """Date of working-day ``index`` (array)."""
        return np.busday_offset(self.base_date, np.asarray(index, dtype=np.int64), roll="forward",
                                busdaycal=self.calendar)

    def fairness_targets(self) -> np.ndarray:
        """Exchanges guaranteed to each fairness group "where possible" (decisions §13, §38).

        ``ceil(fairness_share * eligible visitors)``, where a group's eligible visitors are
        its visitors (of a partnership, or of a country) with at least one pair in the catalogue.
        """
        t = np.zeros(self.n_fair_groups, dtype=np.int64)
        if self.fairness_share <= 0 or self.n_pairs == 0:
            return t
        vis = np.unique(self.v)
        g = self.visitor_fair[vis]
        elig = np.bincount(g[g >= 0], minlength=self.n_fair_groups)
        # a tiny tolerance so that e.g. 0.3 * 10 is 3, not 4 after floating error
        return np.ceil(self.fairness_share * elig - 1e-9).astype(np.int64)


def group_reduce(ufunc: np.ufunc, keys: ArrayLike, values: ArrayLike, n: int, initial: float) -> np.ndarray:
    """``ufunc`` (``np.maximum``/``np.minimum``) of ``values`` per key ``0..n-1``.

    Like ``ufunc.at`` on an array filled with ``initial``, but by sorting (or not, when
    ``keys`` are already sorted) and ``reduceat``, which is many times faster.
    """
    keys = np.asarray(keys)
    values = np.asarray(values)
    out = np.full(n, initial, dtype=np.result_type(values, np.asarray(initial)))
    if len(keys) == 0:
        return out
    if not (keys[1:] >= keys[:-1]).all():
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    red = ufunc.reduceat(values, starts)
    out[keys[starts]] = ufunc(out[keys[starts]], red)
    return out


def objective_weights(p: SolverInstance) -> tuple[np.ndarray, int]:
    """Integer weight of each pair and the penalty of one missing fair exchange.

    The model maximises ``sum(w[j] * x[j]) - penalty * shortfall`` (decisions §13):

    * ``objective = "score"``: ``w = score``; with ``stability_weight = λ > 0``,
      ``score`` here is ``score x (score / 100 points) ** λ``
      (:func:`~matchmaker.solve.stability_weights.stability_weights`, decisions §38).
    * ``objective = "exchanges_then_score"``: ``w = M + score`` with ``M = 1 + sum over
      visitors of their best score``; ``M`` exceeds any total score, so one more exchange
      always outweighs any score difference (lexicographic).
    * ``fairness_share > 0``: ``penalty = 1 + sum over visitors of their best w``, which
      exceeds any total of the rest, so the total fairness shortfall is minimised first.
      Without fairness the penalty is 0.

    Returns
    -------
    w : ndarray of int64
    penalty : int
    """
    score = stability_weights(p.score, p.stability_weight)
    best = group_reduce(np.maximum, p.v, score, p.n_visitors, 0)
    w = score.copy()
    if p.objective == "exchanges_then_score":
        w = w + (1 + int(best.sum()))
    penalty = 0
    if p.fairness_share > 0 and p.n_pairs:
        bw = group_reduce(np.maximum, p.v, w, p.n_visitors, 0)
        penalty = 1 + int(bw.sum())
    return w, penalty


def make_instance(pairs: pd.DataFrame | Mapping[str, ArrayLike] | list[dict], capacity: ArrayLike,
                  max_visitors: ArrayLike, budget: ArrayLike, visitor_part: ArrayLike | None = None,
                  n_visitors: int | None = None, partnerships: list[str] | None = None,
                  **options: object) -> SolverInstance:
    """A :class:`SolverInstance` from a small table of pairs (tests, examples).

    Parameters
    ----------
    pairs : DataFrame, dict of arrays or list of dicts (one per pair)
        Columns ``v, h, score`` (hundredths), ``cost`` (cents), ``physical``,
        ``duration``, ``es``, ``ls`` (working-day indices) and optionally ``locked``.
        The paying partnership is the visitor's (``visitor_part``).
    capacity, max_visitors : sequence of int, one per host
    budget : sequence of int, cents, one per partnership
    visitor_part : sequence of int, optional
        Partnership of each visitor (default: all in partnership 0).
    n_visitors : int, optional
        Default: ``max(v) + 1``.
    **options
        ``programme_budget``, ``objective``, ``fairness_share``, ``base_date``.
    """
    df = pd.DataFrame(pairs)
    n_v = int(n_visitors if n_visitors is not None else (df["v"].max() + 1 if len(df) else 0))
    vp = np.zeros(n_v, dtype=np.int32) if visitor_part is None else np.asarray(visitor_part)
    names = partnerships or [f"P{i}" for i in range(len(budget))]
    locked = df["locked"].to_numpy(bool) if "locked" in df else np.zeros(len(df), bool)
    return SolverInstance(
        v=df["v"].to_numpy(), h=df["h"].to_numpy(), score=df["score"].to_numpy(),
        cost=df["cost"].to_numpy(), part=vp[df["v"].to_numpy(int)] if len(df) else np.zeros(0, int),
        physical=df["physical"].to_numpy(bool), duration=df["duration"].to_numpy(),
        es=df["es"].to_numpy(), ls=df["ls"].to_numpy(), locked=locked,
        capacity=capacity, max_visitors=max_visitors, n_visitors=n_v, visitor_part=vp,
        partnerships=list(names), budget=budget, **options)


def build_instance(rnd: Round, catalogue: Catalogue | pd.DataFrame) -> SolverInstance:
    """The solver's arrays for a round and its catalogue (docs/design.md contract).

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue or DataFrame
        The catalogue, or its ``pairs`` table, as in docs/design.md.

    Raises
    ------
    ValueError
        When the catalogue contradicts the round (a pair's start range empty on the
        working-day axis, an unknown partnership): a bug upstream, never silently fixed.
    """
    pairs = catalogue.pairs if hasattr(catalogue, "pairs") else catalogue
    s = rnd.settings
    cal = busdaycal(s["rules"]["holidays"])
    partnerships = [str(x) for x in rnd.partnerships.index]
    pidx = {p: i for i, p in enumerate(partnerships)}
    n = len(pairs)

    es_date = pairs["earliest_start"].to_numpy().astype("datetime64[D]")
    ls_date = pairs["latest_start"].to_numpy().astype("datetime64[D]")
    physical = (pairs["mode"].astype(str) == "physical").to_numpy()
    base = (es_date.min() if n else np.datetime64("2000-01-03", "D"))
    base = np.busday_offset(base, 0, roll="forward", busdaycal=cal)
    es_w = np.busday_offset(es_date, 0, roll="forward", busdaycal=cal)
    ls_w = np.busday_offset(ls_date, 0, roll="backward", busdaycal=cal)
    es = np.busday_count(base, es_w, busdaycal=cal)
    ls = np.busday_count(base, ls_w, busdaycal=cal)
    # virtual pairs never share the host's capacity: their axis is calendar days
    vd = ~physical
    es[vd] = (es_date[vd] - base).astype(np.int64)
    ls[vd] = (ls_date[vd] - base).astype(np.int64)
    bad = ls < es
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"catalogue row {i}: latest_start {ls_date[i]} leaves no working day to start "
                         f"after earliest_start {es_date[i]} (pair v={pairs['v'].iloc[i]}, h={pairs['h'].iloc[i]})")

    codes, names = pd.factorize(pairs["partnership"].astype(str), sort=False)
    unknown = sorted(set(names) - set(pidx))
    if unknown:
        raise ValueError(f"catalogue: partnership(s) {unknown} are not in partnerships.csv")
    part = np.array([pidx[x] for x in names], dtype=np.int32)[codes] if n else np.zeros(0, np.int32)
    vis_part = rnd.visitors["partnership"].astype(str).map(pidx).fillna(-1).to_numpy(np.int32)

    hosts = rnd.hosts
    grouped = hosts["grouped"].fillna(False).to_numpy(bool)
    cap = np.where(grouped, hosts["capacity"].fillna(1).to_numpy(np.int64), 1)
    maxv = hosts["max_visitors"].fillna(1).to_numpy(np.int64)
    budget = np.floor(rnd.partnerships["budget_eur"].to_numpy(float) * 100 + 1e-6).astype(np.int64)
    prog = float(s["solver"]["programme_budget_eur"])
    vis_fair, fair_groups = fairness_groups(rnd, s["solver"]["fairness_by"], vis_part, partnerships)
    return SolverInstance(
        v=pairs["v"].to_numpy(), h=pairs["h"].to_numpy(),
        score=np.rint(pairs["score"].to_numpy(float) * 100), cost=np.rint(pairs["lump_sum_eur"].to_numpy(float) * 100),
        part=part, physical=physical, duration=pairs["working_days"].to_numpy(), es=es, ls=ls,
        locked=pairs["locked"].to_numpy(bool), capacity=cap, max_visitors=maxv,
        n_visitors=rnd.n_visitors, visitor_part=vis_part, partnerships=partnerships, budget=budget,
        programme_budget=int(np.floor(prog * 100 + 1e-6)) if prog > 0 else None,
        objective=s["solver"]["objective"], fairness_share=float(s["solver"]["fairness_share"]),
        fairness_by=s["solver"]["fairness_by"], fair=vis_fair[pairs["v"].to_numpy(np.int64)],
        visitor_fair=vis_fair, fair_groups=fair_groups, stability_weight=float(s["solver"]["stability_weight"]),
        base_date=base, holidays=tuple(s["rules"]["holidays"]), earliest_date=es_date,
        row=np.arange(n, dtype=np.int64))



def fairness_groups(rnd: Round, by: str, visitor_part: np.ndarray, partnerships: list[str]
                    ) -> tuple[np.ndarray, list[str]]:
    """The fairness group of each visitor and the groups' names (``solver.fairness_by``, decisions §38).

    ``"partnership"``: the visitor's partnership (``visitor_part``, -1 for none);
    ``"country"``: the visitor's country code, the groups sorted by code.
    """
    if by == "partnership":
        return np.asarray(visitor_part, dtype=np.int32), list(partnerships)
    if by != "country":
        raise ValueError(f"fairness_by = {by!r}: use one of {FAIRNESS_BY}")
    codes, names = pd.factorize(rnd.visitors["country"].astype(str), sort=True)
    return codes.astype(np.int32), [str(x) for x in names]
