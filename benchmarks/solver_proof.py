"""Proving optimality: ours (default and prove mode) against general solvers, on the same rounds.

Usage::

    .venv/bin/python benchmarks/solver_proof.py [--round data/sample] [--limit 120] [--prove-limit 600]
        [--methods ours,prove,cpsat,highs,scip] [--json out/solver_proof.json]
    .venv/bin/python benchmarks/solver_proof.py --round gen:500x250:1 --methods ours,prove,ours@120

``--round`` is a round folder, or ``gen:VxH:SEED`` for a round generated (and kept under
``out/solver_proof_rounds/``) by ``generate_round(dir, V, H, seed=SEED, budget_share=0.5)``:
budgets funding about half the visitors, so they bind. Several rounds: comma-separated.

Each method runs in its own process, one after the other, on the same solver instance
(``build_instance`` of the round and its catalogue), and reports objective and bound in
score points with the times (seconds from the start of the solve, model building
included) to its first solution, to a certified gap of 0.1 % and 0.01 % (by its own
bound) and to the proof (gap <= 1e-6), and its peak memory (``ru_maxrss`` of its process,
the round's loading included). The load average is read before each method. Methods:

``ours``
    :func:`matchmaker.solver.solve` with the round's settings (the default work limit, 45
    units, and the time limit derived from it): the phases, then the ``branch-and-price``
    phase with 0.95 of the work left where a budget binds (at most 100,000 candidate pairs).
    Nodes, open nodes and cuts of the branch-and-price are reported.
``ours@T``
    The same with ``--time-limit T`` (the work is then 0.75 of it): what a user gets by
    asking for T seconds.
``prove``
    The same in prove mode (``SolveConfig.prove``: the branch-and-price without a work
    limit until proven), stopped by ``--prove-limit`` seconds.
``cpsat``
    Plain CP-SAT on the full model with exact intervals for the same-day capacity (no hint).
``highs``, ``scip``
    HiGHS (scipy ``milp``) and SCIP (pyscipopt) on the same linear model of all candidate
    pairs: the LP rows of :mod:`matchmaker.solve.lp_rows` (visitors, host places, budgets,
    fairness, energy and window rows of the same-day capacity). The same-day capacity is
    *relaxed* to these rows (a time-indexed model of the sample has too many start
    variables to build in the time), so their bounds are valid and their solutions may
    break it (``unschedulable hosts``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matchmaker.generator.generate import generate_round  # noqa: E402
from matchmaker.inputs.loading import load_round  # noqa: E402
from matchmaker.pairs.catalogue import build_catalogue  # noqa: E402
from matchmaker.solve.config import SolveConfig, prove_config  # noqa: E402
from matchmaker.solve.problem import build_instance  # noqa: E402

MILESTONES = (1e-3, 1e-4, 1e-6)


class Trace:
    """Times to the first solution and to each certified gap, from ``(objective, bound)`` reports."""

    def __init__(self, t0: float):
        self.t0, self.first, self.hit = t0, None, {}

    def __call__(self, objective, bound) -> None:
        t = round(time.monotonic() - self.t0, 1)
        if objective is None:
            return
        if self.first is None:
            self.first = t
        if bound is not None:
            gap = max(0.0, (bound - objective) / max(1.0, abs(bound)))
            for m in MILESTONES:
                if gap <= m and m not in self.hit:
                    self.hit[m] = t

    def summary(self) -> dict:
        return dict(first=self.first, **{f"gap_{m:g}": self.hit.get(m) for m in MILESTONES})


def run_ours(p, config) -> dict:
    from matchmaker.solver import solve

    t0 = time.monotonic()
    trace = Trace(t0)
    lines = []

    def progress(info):
        trace(info["best"], info["bound"])
        lines.append((round(info["elapsed"], 1), info["phase"], info["best"], info["bound"]))

    r = solve(p, config, progress)
    trace(r.objective, r.bound)
    return dict(status=r.status, objective=r.objective, bound=r.bound, seconds=time.monotonic() - t0,
                time_limit=config.time_limit, work_limit=config.work_limit, work_spent=r.stats.get("work_spent"),
                trace=trace.summary(), reproducible=r.stats.get("reproducible"), clock_stops=r.stats.get("clock_stops"),
                branch_price={k: v for k, v in r.stats.items() if k.startswith("branch_price")},
                phases=r.phases, progress=lines[-12:])


def run_cpsat(p, limit: float) -> dict:
    from ortools.sat.python import cp_model

    from matchmaker.solve.core import build_core
    from matchmaker.solve.cpsat_model import _ExactModel

    t0 = time.monotonic()
    core = build_core(p)
    exact = _ExactModel(core, core.cand)
    trace = Trace(t0)

    class Cb(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            trace(int(round(self.ObjectiveValue())) + core.fixed_value,
                  int(np.floor(self.BestObjectiveBound() + 1e-6)) + core.fixed_value)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = max(0.1, limit - (time.monotonic() - t0))
    st = solver.Solve(exact.model, Cb())
    found = st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    obj = int(round(solver.ObjectiveValue())) + core.fixed_value if found else None
    bound = int(np.floor(solver.BestObjectiveBound() + 1e-6)) + core.fixed_value if found else None
    trace(obj, bound)
    return dict(status=solver.StatusName(st).lower(), objective=obj, bound=bound, seconds=time.monotonic() - t0,
                trace=trace.summary())


def _linear_model(p):
    from matchmaker.solve.core import build_core
    from matchmaker.solve.lp_rows import LPRows

    core = build_core(p)
    rows = LPRows(core)
    A = rows.matrix(core.cand).tocsr()
    nf = len(rows.fparts)
    c = np.concatenate([-core.w[core.cand].astype(float), np.full(nf, float(core.penalty))])
    ub = np.ones(len(c))
    ub[len(core.cand):] = rows.ftarget
    return core, A, rows.b, c, ub


def _linear_result(p, core, x, bound_min, t0, trace, status) -> dict:
    from matchmaker.solve.schedule import schedule_pairs

    out = dict(status=status, objective=None, bound=None, seconds=time.monotonic() - t0, unschedulable_hosts=None)
    if bound_min is not None and np.isfinite(bound_min):
        out["bound"] = core.fixed_value + int(np.floor(-bound_min + 1e-6 * max(1.0, abs(bound_min))))
    if x is not None:
        sol = np.concatenate([core.cand[np.asarray(x)[:len(core.cand)] > 0.5], core.locked])
        out["objective"] = core.value(sol)
        out["unschedulable_hosts"] = int(len(schedule_pairs(p, sol)[1]))
    trace(out["objective"], out["bound"])
    out["trace"] = trace.summary()
    return out


def run_highs(p, limit: float) -> dict:
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.monotonic()
    core, A, b, c, ub = _linear_model(p)
    trace = Trace(t0)
    res = milp(c, constraints=LinearConstraint(A, -np.inf, b), integrality=np.ones(len(c)), bounds=Bounds(0, ub),
               options=dict(time_limit=max(0.1, limit - (time.monotonic() - t0)), mip_rel_gap=0.0))
    return _linear_result(p, core, res.x, getattr(res, "mip_dual_bound", None), t0, trace,
                          str(res.message).split("(")[0].strip().lower())


def run_scip(p, limit: float) -> dict:
    from pyscipopt import SCIP_EVENTTYPE, Eventhdlr, Model, quicksum

    t0 = time.monotonic()
    core, A, b, c, ub = _linear_model(p)
    trace = Trace(t0)
    m = Model()
    m.hideOutput()
    x = [m.addVar(vtype="I", lb=0, ub=float(u), obj=float(ci)) for ci, u in zip(c, ub)]
    for i in range(A.shape[0]):
        lo, hi = A.indptr[i], A.indptr[i + 1]
        m.addCons(quicksum(float(v) * x[j] for j, v in zip(A.indices[lo:hi].tolist(), A.data[lo:hi].tolist()))
                  <= float(b[i]))

    class Sol(Eventhdlr):
        def eventinit(self):
            self.model.catchEvent(SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexec(self, event):
            db = self.model.getDualbound()
            trace(core.fixed_value - int(round(self.model.getPrimalbound())),
                  core.fixed_value + int(np.floor(-db + 1e-6 * max(1.0, abs(db)))))

    m.includeEventhdlr(Sol(), "sol", "best solution found")
    m.setParam("limits/time", max(0.1, limit - (time.monotonic() - t0)))
    m.setParam("limits/gap", 0.0)
    m.optimize()
    sol = m.getBestSol() if m.getNSols() else None
    xs = None if sol is None else [m.getSolVal(sol, v) for v in x]
    return _linear_result(p, core, xs, m.getDualbound(), t0, trace, m.getStatus())


def _worker(method: str, round_dir: str, limit: float, prove_limit: float, queue) -> None:
    rnd = load_round(Path(round_dir))
    p = build_instance(rnd, build_catalogue(rnd))
    config = SolveConfig.from_settings(rnd.settings["solver"])
    if method.startswith("ours@"):
        config = SolveConfig.from_settings(rnd.settings["solver"], time_limit=float(method[5:]))
        method = "ours"
    runs = dict(ours=lambda: run_ours(p, config),
                prove=lambda: run_ours(p, prove_config(config, prove_limit)),
                cpsat=lambda: run_cpsat(p, limit), highs=lambda: run_highs(p, limit), scip=lambda: run_scip(p, limit))
    try:
        res = runs[method]()
    except Exception as exc:  # a benchmark row, not a crash of the whole table
        res = dict(status=f"failed ({type(exc).__name__}: {exc})")
    res["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(res)


def _code_state() -> str:
    """The commit the solver runs from, and the solver files changed in the tree (others may edit them)."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "diff", "--name-only", "HEAD", "--", "matchmaker"], capture_output=True,
                           text=True).stdout.split()
    return head + (f" + uncommitted {', '.join(dirty)}" if dirty else "")


def round_dir(spec: str) -> str:
    """The folder of ``spec``: itself, or for ``gen:VxH:SEED`` the generated round (made once)."""
    if not spec.startswith("gen:"):
        return spec
    size, seed = spec[4:].split(":")
    nv, nh = (int(n) for n in size.split("x"))
    folder = ROOT / "out" / "solver_proof_rounds" / f"{nv}x{nh}-seed{seed}"
    if not (folder / "settings.toml").exists():
        generate_round(folder, nv, nh, seed=int(seed), budget_share=0.5)
    return str(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--round", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--prove-limit", type=float, default=600.0)
    ap.add_argument("--methods", default="ours,prove,cpsat,highs,scip")
    ap.add_argument("--json", default=str(ROOT / "out" / "solver_proof.json"))
    args = ap.parse_args()
    out = dict(limit=args.limit, prove_limit=args.prove_limit, machine=platform.machine(),
               python=platform.python_version(), rounds={})
    for spec in args.round.split(","):
        folder = round_dir(spec)
        results = out["rounds"].setdefault(spec, {})
        for method in args.methods.split(","):
            q = mp.Queue()
            proc = mp.Process(target=_worker, args=(method, folder, args.limit, args.prove_limit, q))
            load = Path("/proc/loadavg").read_text().split()[0]
            started = time.strftime("%H:%M:%S", time.gmtime())
            proc.start()
            res = q.get()
            proc.join()
            res.update(load_before=load, started_utc=started, code=_code_state())
            results[method] = res
            print(spec, method, json.dumps(res, default=str), flush=True)
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(out, indent=1, default=str))

if __name__ == "__main__":
    main()
