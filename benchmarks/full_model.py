"""HiGHS and SCIP on the exact full model of a round (issue 12): time-indexed, same-day capacity per day.

Usage::

    .venv/bin/python benchmarks/full_model.py [--round data/sample] [--limit 300] [--threads 1]
        [--methods highs,scip] [--json out/full_model.json]
    .venv/bin/python benchmarks/full_model.py --round gen:500x250:1

``--round`` is a round folder, or ``gen:VxH:SEED`` for the round made by
``generate_round(dir, V, H, seed=SEED, budget_share=0.5)`` (kept under
``out/solver_proof_rounds/``, the folder benchmarks/solver_proof.py uses). Several rounds:
comma-separated.

The model is the whole round (every pair of the catalogue, locks included), built once as
one sparse matrix with NumPy (:func:`build_model`):

* a binary ``y[j, s]`` per physical pair ``j`` and start ``s`` in ``[es_j, ls_j]`` (working
  days), a binary ``x_j`` per virtual pair;
* each visitor at most one exchange; each host at most ``max_visitors``; each partnership's
  lump sums within its budget; the programme budget, if any;
* per host and working day, the stays covering that day at most ``capacity`` (a row is
  left out when fewer distinct pairs than ``capacity + 1`` can cover the day: it cannot bind);
* each locked pair: the sum of its columns equals 1;
* objective: the solver's weights (:func:`matchmaker.solve.problem.objective_weights`).

The fairness option and the exchanges-first objective are not modelled: such a round
exits with status 2.

Each method runs in its own process, one after the other, with ``--limit`` seconds and
``--threads`` threads: ``highs`` (the HiGHS object SciPy vendors, the matrix passed as is)
and ``scip`` (pyscipopt reading the same matrix, written by HiGHS as an MPS file). Times
(seconds from the start of the process's work, the round's loading excluded, model
building included) to the first solution, to a certified gap of 0.1 % and 0.01 % by the
solver's own bound, and to the proof; final objective and bound in score points; peak
memory (``ru_maxrss``). Every solution reported is decoded to pairs and start days and
checked with ``build_core(p).violations`` (must be empty).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pyscipopt import SCIP_EVENTTYPE, Eventhdlr, Model
from scipy.optimize._highspy import _core as hc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matchmaker.inputs.loading import load_round  # noqa: E402
from matchmaker.pairs.catalogue import build_catalogue  # noqa: E402
from matchmaker.solve.core import build_core  # noqa: E402
from matchmaker.solve.highs import quiet_c_stdout  # noqa: E402
from matchmaker.solve.problem import SolverInstance, build_instance, objective_weights  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from solver_proof import round_dir  # noqa: E402  (the same rounds as the other proof benchmark)

MILESTONES = (1e-3, 1e-4, 1e-6)


class Unsupported(Exception):
    """The round uses an option the full model does not cover."""


@dataclass
class FullModel:
    """``minimise c.x`` s.t. ``lo <= A x <= hi``, ``x`` binary; column ``k``: pair ``pair[k]`` from ``start[k]``."""

    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    c: np.ndarray
    pair: np.ndarray
    start: np.ndarray
    row_blocks: dict
    seconds: float


def _columns(p: SolverInstance) -> tuple[np.ndarray, np.ndarray]:
    """Pair and start of every column: one per start day of a physical pair, one per virtual pair."""
    n = np.where(p.physical, p.ls.astype(np.int64) - p.es + 1, 1)
    if (n < 1).any():
        raise ValueError("a physical pair has no start day (ls < es)")
    pair = np.repeat(np.arange(p.n_pairs), n)
    first = np.cumsum(n) - n
    start = p.es[pair].astype(np.int64) + (np.arange(len(pair)) - first[pair])
    return pair, start


def _capacity_block(p: SolverInstance, pair: np.ndarray,
                    start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per host and working day: (row key, column, capacity) entries, rows that can bind only."""
    cols = np.flatnonzero(p.physical[pair])
    dur = p.duration[pair[cols]].astype(np.int64)
    col = np.repeat(cols, dur)
    day = start[col] + (np.arange(len(col)) - np.repeat(np.cumsum(dur) - dur, dur))
    n_days = int(day.max()) + 1 if len(day) else 1
    key = p.h[pair[col]].astype(np.int64) * n_days + day
    distinct = np.unique(key * p.n_pairs + pair[col]) // p.n_pairs  # (key, pair) once each
    keys, n_pairs = np.unique(distinct, return_counts=True)
    binding = keys[n_pairs > p.capacity[keys // n_days]]
    keep = np.isin(key, binding)
    rows = np.searchsorted(binding, key[keep])
    return rows, col[keep], p.capacity[binding // n_days].astype(float)


def build_model(p: SolverInstance) -> FullModel:
    """The time-indexed model of the whole round as one sparse matrix (module docstring)."""
    if p.fairness_share > 0 or p.objective != "score":
        raise Unsupported("the full model covers the score objective without fairness only")
    t0 = time.monotonic()
    w, _ = objective_weights(p)
    pair, start = _columns(p)
    k = np.arange(len(pair))
    blocks = []  # (rows, cols, values, lo, hi, name)
    blocks.append((p.v[pair], k, np.ones(len(k)), np.full(p.n_visitors, -np.inf), np.ones(p.n_visitors), "visitor"))
    blocks.append((p.h[pair], k, np.ones(len(k)), np.full(p.n_hosts, -np.inf), p.max_visitors.astype(float), "host"))
    blocks.append((p.part[pair], k, p.cost[pair].astype(float), np.full(p.n_partnerships, -np.inf),
                   p.budget.astype(float), "partnership budget"))
    if p.programme_budget is not None:
        blocks.append((np.zeros(len(k), dtype=np.int64), k, p.cost[pair].astype(float), np.array([-np.inf]),
                       np.array([float(p.programme_budget)]), "programme budget"))
    locked = np.flatnonzero(p.locked)
    if len(locked):
        sel = np.flatnonzero(p.locked[pair])
        blocks.append((np.searchsorted(locked, pair[sel]), sel, np.ones(len(sel)), np.ones(len(locked)),
                       np.ones(len(locked)), "locked pair"))
    rows, cols, cap = _capacity_block(p, pair, start)
    blocks.append((rows, cols, np.ones(len(rows)), np.full(len(cap), -np.inf), cap, "host-day capacity"))
    offset, r, cc, vv, lo, hi, sizes = 0, [], [], [], [], [], {}
    for rows_b, cols_b, vals_b, lo_b, hi_b, name in blocks:
        r.append(np.asarray(rows_b, dtype=np.int64) + offset)
        cc.append(cols_b)
        vv.append(vals_b)
        lo.append(lo_b)
        hi.append(hi_b)
        sizes[name] = len(lo_b)
        offset += len(lo_b)
    A = sp.csr_matrix((np.concatenate(vv), (np.concatenate(r), np.concatenate(cc))), shape=(offset, len(k)))
    return FullModel(A=A, lo=np.concatenate(lo), hi=np.concatenate(hi), c=-w[pair].astype(float), pair=pair,
                     start=start, row_blocks=sizes, seconds=time.monotonic() - t0)


class Trace:
    """Times to the first solution and to each certified gap, from ``(objective, bound)`` reports (maximising)."""

    def __init__(self, t0: float):
        self.t0, self.first, self.hit = t0, None, {}

    def __call__(self, objective: float | None, bound: float | None) -> None:
        if objective is None or not np.isfinite(objective):
            return
        t = round(time.monotonic() - self.t0, 1)
        if self.first is None:
            self.first = t
        if bound is not None and np.isfinite(bound):
            gap = max(0.0, (bound - objective) / max(1.0, abs(bound)))
            for m in MILESTONES:
                if gap <= m + 1e-12 and m not in self.hit:
                    self.hit[m] = t

    def summary(self) -> dict:
        return dict(first=self.first, **{f"gap_{m:g}": self.hit.get(m) for m in MILESTONES})


def check_solution(p: SolverInstance, model: FullModel, x: np.ndarray) -> dict:
    """Decode a column vector to pairs and start days; its objective and the rules it breaks."""
    on = np.flatnonzero(np.asarray(x) > 0.5)
    chosen, starts = model.pair[on], model.start[on]
    core = build_core(p)
    broken = core.violations(chosen, starts)
    if len(np.unique(chosen)) < len(chosen):
        broken.append("a pair has two start days")
    return dict(objective=core.value(chosen) / 100, exchanges=int(len(chosen)), violations=broken)


def _highs(model: FullModel, options: dict, names: bool = False):
    """A HiGHS object (the one SciPy vendors) holding ``model`` as binary columns."""
    h = hc._Highs()
    for name, value in options.items():
        h.setOptionValue(name, value)
    A = model.A.tocsc()
    lp = hc.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.c, np.zeros(A.shape[1]), np.ones(A.shape[1])
    lp.row_lower_ = np.where(np.isfinite(model.lo), model.lo, -float(hc.kHighsInf))
    lp.row_upper_ = model.hi
    lp.a_matrix_.format_ = hc.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr.astype(np.int32), A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.integrality_ = [hc.HighsVarType.kInteger] * A.shape[1]
    if names:  # the MPS file SCIP reads: column k is named c{k}
        lp.col_names_ = [f"c{i}" for i in range(A.shape[1])]
        lp.row_names_ = [f"r{i}" for i in range(A.shape[0])]
    status = h.passModel(lp)
    if status == hc.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel)")
    return h


def run_highs(p: SolverInstance, limit: float, threads: int) -> dict:
    """HiGHS on the matrix as is, with a callback tracing the objective and bound."""
    t0 = time.monotonic()
    model = build_model(p)
    h = _highs(model, dict(output_flag=False, log_to_console=False, threads=threads, random_seed=0,
                           mip_rel_gap=0.0))
    built = time.monotonic() - t0
    h.setOptionValue("time_limit", max(0.1, limit - built))
    trace = Trace(t0)

    def callback(kind, message, out, inp, data):
        trace(-out.mip_primal_bound / 100, -out.mip_dual_bound / 100)

    h.setCallback(callback, None)
    h.startCallback(hc.cb.HighsCallbackType.kCallbackMipInterrupt)
    h.startCallback(hc.cb.HighsCallbackType.kCallbackMipImprovingSolution)
    with quiet_c_stdout():
        h.run()
    info = h.getInfo()
    res = dict(status=h.modelStatusToString(h.getModelStatus()).lower(), build_seconds=round(built, 1),
               seconds=round(time.monotonic() - t0, 1), nodes=int(info.mip_node_count))
    res["bound"] = -info.mip_dual_bound / 100
    if info.primal_solution_status == hc.kSolutionStatusFeasible:
        res["solver_objective"] = -info.objective_function_value / 100
        res.update(check_solution(p, model, np.asarray(h.getSolution().col_value)))
        trace(res["objective"], res["bound"])
    res["trace"] = trace.summary()
    return res


def run_scip(p: SolverInstance, limit: float, threads: int) -> dict:
    """SCIP reading the same matrix (an MPS file HiGHS writes), tracing solutions and nodes."""
    t0 = time.monotonic()
    model = build_model(p)
    h = _highs(model, dict(output_flag=False), names=True)
    path = Path(tempfile.mkdtemp()) / "full_model.mps"
    with quiet_c_stdout():
        h.writeModel(str(path))
    del h
    m = Model()
    m.hideOutput()
    m.readProblem(str(path))
    path.unlink()
    built = time.monotonic() - t0
    trace = Trace(t0)

    class Events(Eventhdlr):
        def eventinit(self):
            self.model.catchEvent(SCIP_EVENTTYPE.BESTSOLFOUND | SCIP_EVENTTYPE.NODESOLVED, self)

        def eventexec(self, event):
            if self.model.getNSols():
                trace(-self.model.getPrimalbound() / 100, -self.model.getDualbound() / 100)

    m.includeEventhdlr(Events(), "trace", "objective and bound over time")
    m.setParam("limits/time", max(0.1, limit - built))
    m.setParam("limits/gap", 0.0)
    m.setParam("lp/threads", threads)
    m.optimize()
    res = dict(status=m.getStatus(), build_seconds=round(built, 1), seconds=round(time.monotonic() - t0, 1),
               nodes=int(m.getNNodes()), bound=-m.getDualbound() / 100)
    if m.getNSols():
        sol = m.getBestSol()
        x = np.zeros(len(model.c))
        for var in m.getVars():
            x[int(var.name[1:])] = m.getSolVal(sol, var)
        res["solver_objective"] = -m.getSolObjVal(sol) / 100
        res.update(check_solution(p, model, x))
        trace(res["objective"], res["bound"])
    res["trace"] = trace.summary()
    return res


def _worker(method: str, folder: str, limit: float, threads: int, queue) -> None:
    rnd = load_round(Path(folder))
    p = build_instance(rnd, build_catalogue(rnd))
    try:
        res = dict(highs=run_highs, scip=run_scip)[method](p, limit, threads)
    except Exception as exc:  # a benchmark row, not a crash of the whole table
        res = dict(status=f"failed ({type(exc).__name__}: {exc})")
    res["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(res)


def model_size(folder: str) -> dict:
    """Variables, rows (per block), nonzeros and build seconds of the round's full model."""
    rnd = load_round(Path(folder))
    p = build_instance(rnd, build_catalogue(rnd))
    model = build_model(p)
    return dict(pairs=int(p.n_pairs), physical_pairs=int(p.physical.sum()), locked=int(p.locked.sum()),
                variables=int(model.A.shape[1]), rows=int(model.A.shape[0]), row_blocks=model.row_blocks,
                nonzeros=int(model.A.nnz), build_seconds=round(model.seconds, 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--round", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", default="highs,scip")
    ap.add_argument("--json", default=str(ROOT / "out" / "full_model.json"))
    args = ap.parse_args()
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - {"highs", "scip"})
    if unknown:
        ap.error(f"unknown method(s) {', '.join(unknown)}: choose among highs, scip")
    out = dict(limit=args.limit, threads=args.threads, machine=platform.machine(), cpus=os.cpu_count(),
               python=platform.python_version(), rounds={})
    for spec in args.round.split(","):
        folder = round_dir(spec)
        try:
            size = model_size(folder)
        except Unsupported as exc:
            print(f"{spec}: not supported: {exc}", file=sys.stderr)
            sys.exit(2)
        results = out["rounds"].setdefault(spec, dict(model=size))
        print(spec, "model", json.dumps(size), flush=True)
        for method in methods:
            q = mp.Queue()
            proc = mp.Process(target=_worker, args=(method, folder, args.limit, args.threads, q))
            load = Path("/proc/loadavg").read_text().split()[0]
            started = time.strftime("%H:%M:%S", time.gmtime())
            proc.start()
            res = q.get()
            proc.join()
            res.update(load_before=load, started_utc=started)
            results[method] = res
            print(spec, method, json.dumps(res, default=str), flush=True)
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
