"""Why each visitor without a proposal has none (``unmatched.csv``).

Every visitor of the round who is not in the proposals gets exactly one reason, tried
in this order (docs/decisions.md §14):

``ineligible_registration``
    The registration itself cannot take part (:func:`constraints.registration_refusals`).
``no_eligible_host``
    No host passes every rule; the text counts the hosts each rule refuses
    (:func:`constraints.refusal_counts`).
``pruned``
    Eligible hosts exist, but every pair scores below ``scoring.options.min_score``
    (or was cut by the K-best pruning).
``budget_spent``
    Some eligible host still had a free place on possible dates, but the visitor's
    partnership (or the programme) had less money left than the cheapest such lump sum.
``hosts_full``
    Every eligible host is full: its ``max_visitors`` places, or its same-day capacity
    on all the visitor's possible dates, went to visitors with better pairs.
``not_selected``
    A host had room and the budget allowed it, yet the pair was left out: its score
    adds nothing (0), or the solver stopped at its work or time limit before optimality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.constraints import refusal_counts, registration_refusals
from matchmaker.solve.schedule import schedule_stays

COLUMNS = ("visitor_id", "visitor_name", "visitor_country", "partnership", "reason_code", "rule", "reason",
           "eligible_hosts")


def _fits(p, chosen_by_host: dict, j: int) -> bool:
    if not p.physical[j]:
        return True
    others = chosen_by_host.get(int(p.h[j]), [])
    if len(others) < p.capacity[p.h[j]]:
        return True
    idx = np.array(others + [j], dtype=np.int64)
    starts, _ = schedule_stays(p.duration[idx], p.es[idx], p.ls[idx], int(p.capacity[p.h[j]]), exact_time_limit=1.0)
    return starts is not None


def unmatched_visitors(rnd, catalogue, problem, pairs) -> pd.DataFrame:
    """One row per visitor without a proposal, with its reason (see module docstring).

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
    problem : SolverProblem
    pairs : array of chosen pair indices of ``problem``
    """

    p = problem
    pairs = np.asarray(pairs, dtype=np.int64)
    V = rnd.visitors
    matched = np.zeros(rnd.n_visitors, dtype=bool)
    matched[p.v[pairs]] = True
    todo = np.flatnonzero(~matched)
    rows = {}

    refused = registration_refusals(rnd)
    refused = refused[refused["role"] == "visitor"] if len(refused) else refused
    by_org = {}
    for rec in refused.to_dict("records"):
        by_org.setdefault(rec["org_id"], []).append(rec)
    pos_of = rnd.visitor_index()
    for org, recs in by_org.items():
        v = pos_of.get(org)
        if v is not None and not matched[v]:
            rows[v] = ("ineligible_registration", recs[0]["rule"],
                       "; ".join(f"{r['rule']}: {r['reason']}" for r in recs), 0)

    no_host = np.array([v for v in np.asarray(catalogue.visitors_without_eligible, dtype=np.int64).tolist()
                        if v not in rows and not matched[v]], dtype=np.int64)
    if len(no_host):
        counts = refusal_counts(rnd, no_host)
        rule_cols = [c for c in counts.columns if c not in ("v", "org_id", "eligible_hosts")]
        for rec in counts.to_dict("records"):
            parts = sorted(((rec[c], c) for c in rule_cols if rec[c] > 0), reverse=True)
            text = ", ".join(f"{c} refuses {n} host(s)" for n, c in parts)
            rows[int(rec["v"])] = ("no_eligible_host", parts[0][1] if parts else "",
                                   f"no host passes every rule of the scheme ({rnd.n_hosts} hosts: {text})", 0)
    min_score = float(rnd.settings["scoring"]["options"]["min_score"])
    for v in np.asarray(getattr(catalogue, "visitors_without_kept", []), dtype=np.int64).tolist():
        if v not in rows and not matched[v]:
            rows[v] = ("pruned", "min_score", f"every eligible pair scores below scoring.options.min_score "
                       f"= {min_score:g}, so none is proposed", 0)

    # visitors with pairs in the catalogue: look at what is left after the solution
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships)
    left = p.budget - spend
    prog_left = np.inf if p.programme_budget is None else p.programme_budget - p.cost[pairs].sum()
    count = np.bincount(p.h[pairs], minlength=p.n_hosts)
    chosen_by_host: dict = {}
    for j in pairs[p.physical[pairs]].tolist():
        chosen_by_host.setdefault(int(p.h[j]), []).append(j)
    order = np.argsort(p.v, kind="stable")
    starts = np.searchsorted(p.v[order], np.arange(rnd.n_visitors + 1))
    for v in todo.tolist():
        if v in rows:
            continue
        js = order[starts[v]:starts[v + 1]]
        if len(js) == 0:
            rows[v] = ("pruned", "top_k", "no pair of this visitor is in the catalogue (pruned by the K-best "
                       "pruning or min_score)", 0)
            continue
        q = int(p.visitor_part[v]) if p.visitor_part[v] >= 0 else int(p.part[js[0]])
        room = js[count[p.h[js]] < p.max_visitors[p.h[js]]]
        room = room[np.lexsort((room, p.cost[room]))]
        fitting = next((j for j in room.tolist() if _fits(p, chosen_by_host, j)), None)
        n = len(js)
        if fitting is None:
            rows[v] = ("hosts_full", "hosts_full", f"all {n} eligible host(s) are full: their places (max_visitors, "
                       "or the same-day capacity on every possible date) went to visitors with better pairs", n)
            continue
        cost = int(p.cost[fitting])
        if cost > left[q] or cost > prog_left:
            which = (f"partnership {p.partnerships[q]} has EUR {left[q] / 100:,.2f} left"
                     if cost > left[q] else f"the programme budget has EUR {prog_left / 100:,.2f} left")
            rows[v] = ("budget_spent", "budget_spent", f"budget spent: {which}, less than the lump sum of "
                       f"EUR {cost / 100:,.2f} of the cheapest eligible host that still has room", n)
        else:
            rows[v] = ("not_selected", "not_selected", "an eligible host had room and the budget allowed it, but the "
                       "pair was not proposed: it adds nothing to the objective (score 0) or the solver stopped "
                       "at its work or time limit before proving optimality", n)
    out = []
    for v in sorted(rows):
        code, rule, text, n = rows[v]
        out.append((V["org_id"].iloc[v], V["name"].iloc[v], V["country"].iloc[v],
                    V["partnership"].iloc[v] if "partnership" in V else "", code, rule, text, n))
    df = pd.DataFrame(out, columns=list(COLUMNS))
    return df.sort_values(["partnership", "visitor_id"], kind="stable", ignore_index=True)
