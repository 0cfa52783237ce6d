"""The exact model on a restricted set of pairs as a MIP (HiGHS through scipy), with
the same-day capacity added lazily as valid cuts.

The linear part is the LP of :mod:`matchmaker.solve.lp` with integer variables. The same-day
capacity of a host is not linear; the MIP starts from its energy rows and, whenever a
solution's stays at some host cannot be scheduled (:mod:`matchmaker.solve.schedule`), adds
cuts that every feasible schedule satisfies:

* **window cuts** (energetic reasoning): for a window of working days ``[a, b]``, every
  stay ``j`` spends at least ``m_j(a, b)`` days in it wherever it starts in
  ``[es_j, ls_j]`` (the smaller of its overlaps when started earliest and latest), so
  ``sum_j m_j(a, b) x_j <= capacity * (b - a + 1)``;
* **no-good cuts**: for a set ``S`` of stays *proven* unable to be scheduled together
  (made minimal by a deletion filter that only drops a stay when the rest is still proven
  unschedulable), ``sum_{j in S} x_j <= |S| - 1``.

Both only remove assignments that no schedule can realise, so the MIP stays a
relaxation of the restricted problem and its dual bound stays valid. A host whose stays
were not proven unschedulable (more than :data:`~matchmaker.solve.schedule.EXACT_MAX_STAYS`
stays, or the exact check ran out of its limit) gets its window cuts only, never a
no-good cut, and the solution is not accepted (a repaired copy is kept instead): an
unproven check never cuts and never certifies. Once a solution's stays can all be
scheduled it is feasible, and if the MIP proved it optimal it is the optimum of the
restricted problem. HiGHS is deterministic for a given model; the work
limit (:mod:`matchmaker.solve.effort`) becomes a node limit per round, which makes the
stopping point deterministic too; the ``time_limit`` is a safety net.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from matchmaker.solve.core import Core
from matchmaker.solve.effort import MIP_NONZERO_CAP, units
from matchmaker.solve.heuristics import complete
from matchmaker.solve.highs import Highs
from matchmaker.solve.lp_rows import LPRows
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import energy_windows, schedule_pairs, schedule_stays

#: Simplex iterations per branch-and-bound node assumed for the first round's node limit
#: (measured 200-400 on the benchmark rounds' restricted MIPs).
ITERATIONS_PER_NODE = 300


@dataclass
class Cut:
    """``sum(coef * x[pairs]) <= rhs`` over pair indices (locked pairs already moved to rhs)."""

    pairs: np.ndarray
    coef: np.ndarray
    rhs: float
    kind: str


@dataclass
class MipResult:
    """Outcome of :func:`solve_restricted_mip` (objective and bound include the locks)."""

    status: str  # "optimal", "feasible", "unknown"
    pairs: np.ndarray | None  # schedulable solution found (None if none)
    objective: int | None
    bound: int | None  # valid bound for the restricted problem
    rounds: int = 0
    cuts: list = field(default_factory=list)
    seconds: float = 0.0
    n_pairs: int = 0
    work: float = 0.0  # work units spent (matchmaker.solve.effort)
    clock_stopped: bool = False  # the time limit, not the work limit, ended a round


def window_cuts(core: Core, host: int, pairs: np.ndarray) -> list[Cut]:
    """Energetic-reasoning cuts of one host over candidate pairs ``pairs`` (+ its locks).

    Only windows whose total minimal load can exceed the capacity are returned.
    """
    p = core.problem
    j = pairs[(p.h[pairs] == host) & p.physical[pairs] & ~p.locked[pairs]]
    lk = core.locked[(p.h[core.locked] == host) & p.physical[core.locked]]
    alls = np.concatenate([j, lk])
    if len(j) == 0:
        return []
    a, b, m = energy_windows(p.es[alls], p.ls[alls], p.duration[alls])  # m: stays x windows
    cap = int(p.capacity[host]) * (b - a + 1)
    nfree = len(j)
    locked_load = m[nfree:].sum(axis=0)
    # most load the free stays can add: the 'room' largest overlaps
    room = int(core.room[host])
    top = -np.sort(-m[:nfree], axis=0)[:room].sum(axis=0)
    binding = np.flatnonzero(locked_load + top > cap)
    cuts = []
    for k in binding.tolist():
        coef = m[:nfree, k]
        nz = coef > 0
        cuts.append(Cut(j[nz], coef[nz].astype(float), float(cap[k] - locked_load[k]), "window"))
    return cuts


def _minimal_unschedulable(p: SolverInstance, stays: list[int]) -> list[int]:
    """Deletion filter: a minimal subset of ``stays`` (proven unschedulable) that is still
    proven unschedulable; a stay is dropped only when the rest is proven so."""
    kept = list(stays)
    for j in sorted(stays, key=lambda j: (-p.duration[j], j)):
        if p.locked[j]:
            continue
        trial = [k for k in kept if k != j]
        t = np.array(trial, dtype=np.int64)
        starts, proven = schedule_stays(p.duration[t], p.es[t], p.ls[t], int(p.capacity[p.h[j]]), 2.0)
        if starts is None and proven:
            kept = trial
    return kept


def scheduling_cuts(core: Core, solution: np.ndarray, failed_hosts: ArrayLike, keep: np.ndarray,
                    done_windows: set, *, unproven: ArrayLike) -> list[Cut]:
    """Valid cuts that remove ``solution``'s unschedulable host assignments where they can.

    The window cuts of each failed host (once per host: ``done_windows`` records them;
    valid whatever the check found) and, unless they already remove the assignment and
    only for a host *proven* unschedulable, a no-good cut on a minimal set of the host's
    stays that cannot be scheduled together.

    Parameters
    ----------
    unproven : array_like of int
        The failed hosts whose infeasibility is not proven (the third result of
        :func:`~matchmaker.solve.schedule.schedule_pairs`): no no-good cut for them, since
        it could remove a feasible assignment and make the MIP's bound invalid.
    """
    p = core.problem
    cuts = []
    chosen = np.zeros(p.n_pairs, dtype=bool)
    chosen[solution] = True
    not_proven = set(np.asarray(unproven, dtype=np.int64).tolist())
    for host in np.asarray(failed_hosts).tolist():
        if host not in done_windows:
            done_windows.add(host)
            wc = window_cuts(core, host, keep)
            cuts.extend(wc)
            if any(float(cut.coef[chosen[cut.pairs]].sum()) > cut.rhs + 1e-9 for cut in wc):
                continue  # the window cuts already remove this assignment
        if host in not_proven:
            continue  # only a proven-infeasible set may be cut
        stays = [int(j) for j in solution if p.h[j] == host and p.physical[j]]
        unschedulable = _minimal_unschedulable(p, stays)
        free = np.array([j for j in unschedulable if not p.locked[j]], dtype=np.int64)
        if len(free):
            cuts.append(Cut(free, np.ones(len(free)), float(len(free) - 1), "no-good"))
    return cuts


class _RestrictedModel:
    """The MIP over the candidate pairs ``keep``: their columns, then the fairness
    shortfall columns, under the rows of ``rows`` and the cuts so far."""

    def __init__(self, core: Core, keep: np.ndarray, rows: LPRows, cuts: list[Cut], seed: int):
        p = core.problem
        self.core, self.keep, self.rows = core, keep, rows
        self.n, self.nf = len(keep), len(rows.fparts)
        self.pos = np.full(p.n_pairs, -1, dtype=np.int64)  # column of each kept pair
        self.pos[keep] = np.arange(self.n)
        self.model = Highs(seed=seed)
        c = np.concatenate([-core.w[keep].astype(float), np.full(self.nf, float(core.penalty))])
        ub = np.ones(self.n + self.nf)
        ub[self.n:] = rows.ftarget
        A = rows.matrix(keep)
        if cuts:
            A = sp.vstack([A, self.cut_matrix(cuts)])
        self.model.load(c, A, np.concatenate([rows.b, [cut.rhs for cut in cuts]]), ub, integer=True)

    def cut_matrix(self, cuts: list[Cut]) -> sp.csr_matrix:
        """The rows of ``cuts`` over the model's columns (pairs not kept drop out)."""
        r, cc, v = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for i, cut in enumerate(cuts):
            k = self.pos[cut.pairs]
            m = k >= 0
            r.append(np.full(int(m.sum()), i))
            cc.append(k[m])
            v.append(cut.coef[m])
        return sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(cc))),
                             shape=(len(cuts), self.n + self.nf))

    def add_cuts(self, cuts: list[Cut]) -> None:
        self.model.add_rows([cut.rhs for cut in cuts], self.cut_matrix(cuts))

    def set_start(self, pairs: np.ndarray) -> None:
        """Give HiGHS the solution ``pairs`` (locks included) as its MIP start."""
        p, core = self.core.problem, self.core
        x = np.zeros(self.n + self.nf)
        free = pairs[~p.locked[pairs]]
        x[self.pos[free]] = 1.0
        nq = np.bincount(p.fair[pairs], minlength=p.n_fair_groups)
        x[self.n:] = np.maximum(core.target[self.rows.fparts] - nq[self.rows.fparts], 0)
        self.model.set_start(x)

    def solution(self) -> np.ndarray:
        """The pairs of HiGHS's solution, locks included (sorted)."""
        x = self.model.x()
        return np.sort(np.concatenate([self.keep[x[:self.n] > 0.5], self.core.locked]))

    def iteration_work(self) -> float:
        """Work units of one simplex iteration (by the model's rows and nonzeros)."""
        model = self.model
        return (units("mip_simplex_iteration", 1) + units("mip_simplex_row", model.n_rows)
                + units("mip_simplex_nonzero", min(model.nonzeros(), MIP_NONZERO_CAP)))


def _kept_pairs(core: Core, keep: ArrayLike, start: np.ndarray | None) -> np.ndarray:
    """``keep`` and the free pairs of ``start``, sorted and unique."""
    keep = np.asarray(keep, dtype=np.int64)
    if start is not None:
        keep = np.union1d(keep, start[~core.problem.locked[start]])
    return np.unique(keep)


def _round_share(rounds: int, max_rounds: int, first_share: float) -> float:
    """Share of the work left for round ``rounds``: the first round gets most of the work,
    later ones only re-solve after new cuts."""
    return 1.0 if rounds == max_rounds else (first_share if rounds == 1 else 0.5)


def _scheduled(best: MipResult, core: Core, sol: np.ndarray, optimal: bool, bound: int | None,
               rounds: int) -> MipResult:
    """The better of ``best`` and the schedulable solution ``sol`` found in round ``rounds``."""
    z = core.value(sol)
    if best.objective is None or z >= best.objective:
        return MipResult("optimal" if optimal else "feasible", sol, z, z if optimal else bound, rounds, best.cuts,
                         n_pairs=best.n_pairs)
    best.bound = bound
    return best


def solve_restricted_mip(core: Core, keep: ArrayLike, time_limit: float | None, start: ArrayLike | None = None,
                         rows: LPRows | None = None, cuts: list[Cut] | None = None, max_rounds: int = 20,
                         progress: Callable[[int | None, int | None], None] | None = None, seed: int = 0,
                         first_share: float = 0.85, max_work: float | None = None,
                         pace: dict | None = None) -> MipResult:
    """Best schedulable solution over the candidate pairs ``keep``, with a valid bound.

    Parameters
    ----------
    core : Core
    keep : array of candidate pair indices
    time_limit : float or None
        Seconds for all rounds together (``None``: no limit): a safety net (when it stops a round, the result
        depends on the machine's speed).
    max_work : float, optional
        Work units for all rounds together (:mod:`matchmaker.solve.effort`): each round
        costs ``mip_round_entry`` per row and column plus, for each simplex iteration,
        ``mip_simplex_iteration``, ``mip_simplex_row`` per row and ``mip_simplex_nonzero``
        per nonzero, and gets a node limit from its share (at
        :data:`ITERATIONS_PER_NODE`, then at the rate of the rounds before); the
        deterministic limit. A round's root is never cut, so a round can spend more.
    pace : dict, optional
        Shared between calls: the simplex iterations per node (root included) of the
        last round, for the next node limit (deterministic, like the counts it comes from).
    start : array of pair indices, optional
        A feasible solution (locks included) given to HiGHS as its MIP start; its free
        pairs are added to ``keep``.
    rows : LPRows, optional
        Row layout to reuse (the LP's, with its window cuts); default a fresh one.
    cuts : list of Cut, optional
        Further valid cuts; the scheduling cuts found here are appended to it.
    progress : callable, optional
        ``progress(objective, bound)`` after each round.
    """
    t0 = time.monotonic()
    p = core.problem
    start = None if start is None else np.asarray(start, dtype=np.int64)
    keep = _kept_pairs(core, keep, start)
    rows = LPRows(core) if rows is None else rows
    cuts = [] if cuts is None else cuts
    best = MipResult("unknown", None, None, None, n_pairs=len(keep), cuts=cuts)
    if len(keep) == 0:
        return best
    mip = _RestrictedModel(core, keep, rows, cuts, seed)
    model = mip.model
    if start is not None:
        mip.set_start(start)
    done_windows: set = set()
    rounds, work, clock_stopped = 0, 0.0, False
    pace = {} if pace is None else pace
    while rounds < max_rounds:
        # simplex iterations per node, root included, learnt from the rounds so far
        it_work = mip.iteration_work()
        setup = units("mip_round_entry", model.n_rows + model.n_cols)
        node_work = pace.get("iterations_per_node", ITERATIONS_PER_NODE) * it_work
        left_work = np.inf if max_work is None else max_work - work
        if rounds and left_work < setup + node_work:
            break
        left = np.inf if time_limit is None else time_limit - (time.monotonic() - t0)
        if left <= 0.05:
            clock_stopped = True
            break
        rounds += 1
        share = _round_share(rounds, max_rounds, first_share)
        node_limit = None if np.isinf(left_work) else max(1, int((share * left_work - setup) / node_work))
        with quiet_stdout():
            status = model.solve(None if np.isinf(left) else left, node_limit)
        its, nodes = model.simplex_iterations(), model.mip_nodes()
        work += setup + its * it_work
        pace["iterations_per_node"] = max(1.0, its / max(1, nodes))
        clock_stopped = clock_stopped or status == "time_limit"
        db = model.mip_dual_bound()
        rb = _bound(core, db) if np.isfinite(db) else None
        if status == "infeasible" or not model.has_solution():
            best.bound = None if status == "infeasible" else rb
            break
        sol = mip.solution()
        _, failed, unproven = schedule_pairs(p, sol)
        if len(failed) == 0:
            best = _scheduled(best, core, sol, status == "optimal", rb, rounds)
            if progress is not None:
                progress(best.objective, best.bound)
            break
        # unschedulable: keep a repaired copy, cut the assignment off, solve again from the best
        fixed = complete(core, sol)
        zf = core.value(fixed)
        if best.objective is None or zf > best.objective:
            best = MipResult("feasible", fixed, zf, rb, rounds, cuts, n_pairs=len(keep))
            start = fixed
        best.bound = rb
        new = scheduling_cuts(core, sol, failed, keep, done_windows, unproven=unproven)
        if not new:
            break
        cuts.extend(new)
        mip.add_cuts(new)
        if start is not None and np.isin(start[~p.locked[start]], keep).all():
            mip.set_start(start)
        if progress is not None:
            progress(best.objective, rb)
    best.seconds = time.monotonic() - t0
    best.rounds = rounds
    best.work, best.clock_stopped = work, clock_stopped
    return best


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C-level writes to stdout (HiGHS prints debug lines from its MIP solver)."""
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _bound(core: Core, dual_bound: float) -> int:
    """The restricted problem's bound (locks included) from HiGHS's MIP dual bound.

    HiGHS minimises -objective; its dual bound is a lower bound of that minimum. Integer
    objective: round with a small tolerance for the solver's feasibility tolerance.
    """
    return core.fixed_value + int(np.floor(-dual_bound + 1e-6 * max(1.0, abs(dual_bound))))
