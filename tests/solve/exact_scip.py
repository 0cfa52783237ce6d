"""An independent full model of a solver problem in SCIP (pyscipopt), for the exact method's tests.

Written from the rules (docs/decisions.md §2, §7, §8, §13, §23), not from the solver's
code: one binary per pair; at most one exchange per visitor; ``max_visitors`` per host;
each partnership's budget and the programme budget; locked pairs fixed to 1; the same-day
capacity as a *time-indexed* model (a binary per physical pair and start day, and per
host and working day at most ``capacity`` stays covering it); the fairness shortfall as
integer slack. The objective weights are those of §13/§23, computed here again.
"""

from __future__ import annotations

import math

import numpy as np
from pyscipopt import Model, quicksum


def _weights(p) -> tuple[list[int], int]:
    """Pair weights and the fairness penalty (decisions §13), computed from the rules."""
    best = [0] * p.n_visitors
    for j in range(p.n_pairs):
        best[p.v[j]] = max(best[p.v[j]], int(p.score[j]))
    w = [int(s) for s in p.score]
    if p.objective == "exchanges_then_score":
        w = [x + 1 + sum(best) for x in w]
    penalty = 0
    if p.fairness_share > 0 and p.n_pairs:
        bw = [0] * p.n_visitors
        for j in range(p.n_pairs):
            bw[p.v[j]] = max(bw[p.v[j]], w[j])
        penalty = 1 + sum(bw)
    return w, penalty


def _capacity_rows(m: Model, p, x: dict) -> None:
    """Time-indexed same-day capacity: a start binary per physical pair and day."""
    cover: dict = {}
    for j in range(p.n_pairs):
        if not p.physical[j]:
            continue
        ys = []
        for s in range(int(p.es[j]), int(p.ls[j]) + 1):
            y = m.addVar(vtype="B", name=f"y{j}_{s}")
            ys.append(y)
            for t in range(s, s + int(p.duration[j])):
                cover.setdefault((int(p.h[j]), t), []).append(y)
        m.addCons(quicksum(ys) == x[j])
    for (h, _), ys in cover.items():
        if len(ys) > p.capacity[h]:
            m.addCons(quicksum(ys) <= int(p.capacity[h]))


def scip_optimum(p, time_limit: float = 60.0) -> int | None:
    """The optimum (objective units) of problem ``p`` by SCIP, or ``None`` when infeasible."""
    w, penalty = _weights(p)
    m = Model()
    m.hideOutput()
    m.setParam("limits/time", time_limit)
    m.setParam("limits/gap", 0.0)
    x = {j: m.addVar(vtype="B", name=f"x{j}") for j in range(p.n_pairs)}
    for j in np.flatnonzero(p.locked).tolist():
        m.addCons(x[j] == 1)
    for v in range(p.n_visitors):
        m.addCons(quicksum(x[j] for j in np.flatnonzero(p.v == v).tolist()) <= 1)
    for h in range(p.n_hosts):
        m.addCons(quicksum(x[j] for j in np.flatnonzero(p.h == h).tolist()) <= int(p.max_visitors[h]))
    for q in range(p.n_partnerships):
        mine = np.flatnonzero(p.visitor_part[p.v] == q).tolist()
        m.addCons(quicksum(int(p.cost[j]) * x[j] for j in mine) <= int(p.budget[q]))
    if p.programme_budget is not None:
        m.addCons(quicksum(int(p.cost[j]) * x[j] for j in range(p.n_pairs)) <= int(p.programme_budget))
    _capacity_rows(m, p, x)
    short = []
    if penalty:
        for q in range(p.n_partnerships):
            elig = len({int(v) for v in p.v if p.visitor_part[v] == q})
            target = math.ceil(p.fairness_share * elig - 1e-9)
            if target > 0:
                s = m.addVar(vtype="I", lb=0, ub=target, name=f"short{q}")
                mine = np.flatnonzero(p.visitor_part[p.v] == q).tolist()
                m.addCons(quicksum(x[j] for j in mine) + s >= target)
                short.append(s)
    m.setObjective(quicksum(w[j] * x[j] for j in range(p.n_pairs)) - penalty * quicksum(short), "maximize")
    m.optimize()
    if m.getStatus() == "infeasible":
        return None
    if m.getStatus() != "optimal":
        raise RuntimeError(f"SCIP did not prove the test problem within {time_limit} s: {m.getStatus()}")
    return int(round(m.getObjVal()))
