"""Why each visitor without a proposal has none (``unmatched.csv``).

Every visitor of the round who is not in the proposals gets exactly one reason, tried
in this order (docs/decisions.md §26); ``unmatched.csv`` gives its ``reason_code`` (to group
by) and the visitor's ``reason`` in words (naming the rules, hosts or amounts concerned):

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
from numpy.typing import ArrayLike

from matchmaker.constraints import refusal_counts, registration_refusals
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue
from matchmaker.proposals.wording import country_names, partnership_labels, rule_words
from matchmaker.solve.problem import SolverInstance
from matchmaker.solve.schedule import schedule_stays

#: The columns of ``unmatched.csv``: ``reason_code`` to group by (one of the codes above; in words:
#: :data:`matchmaker.proposals.wording.REASON_LABELS`), ``reason`` the visitor's own reason in words
#: (it names the rules, hosts and amounts concerned).
COLUMNS = ("visitor_id", "visitor_name", "visitor_country", "visitor_country_name", "partnership", "reason_code",
           "reason", "eligible_hosts")


#: One visitor's reason: ``(reason_code, reason, eligible_hosts)``.
Reason = tuple[str, str, int]


def _fits(p: SolverInstance, chosen_by_host: dict, j: int) -> bool:
    if not p.physical[j]:
        return True
    others = chosen_by_host.get(int(p.h[j]), [])
    if len(others) < p.capacity[p.h[j]]:
        return True
    idx = np.array(others + [j], dtype=np.int64)
    starts, _ = schedule_stays(p.duration[idx], p.es[idx], p.ls[idx], int(p.capacity[p.h[j]]), exact_time_limit=1.0)
    return starts is not None


def unmatched_visitors(rnd: Round, catalogue: Catalogue, problem: SolverInstance, pairs: ArrayLike) -> pd.DataFrame:
    """One row per visitor without a proposal, with its reason (see module docstring).

    Parameters
    ----------
    rnd : Round
    catalogue : Catalogue
    problem : SolverInstance
    pairs : array of chosen pair indices of ``problem``

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, sorted by partnership and visitor_id.
    """
    p = problem
    pairs = np.asarray(pairs, dtype=np.int64)
    matched = np.zeros(rnd.n_visitors, dtype=bool)
    matched[p.v[pairs]] = True
    rows: dict[int, Reason] = {}
    _registration_reasons(rnd, matched, rows)
    _no_host_reasons(rnd, catalogue, matched, rows)
    _pruned_reasons(rnd, catalogue, matched, rows)
    _solution_reasons(rnd, p, pairs, np.flatnonzero(~matched), rows)
    return _table(rnd, rows)


def _registration_reasons(rnd: Round, matched: np.ndarray, rows: dict[int, Reason]) -> None:
    """``ineligible_registration``: the visitor's registration itself is refused."""
    refused = registration_refusals(rnd)
    refused = refused[refused["role"] == "visitor"] if len(refused) else refused
    by_org: dict = {}
    for rec in refused.to_dict("records"):
        by_org.setdefault(rec["org_id"], []).append(rec)
    pos_of = rnd.visitor_index()
    for org, recs in by_org.items():
        v = pos_of.get(org)
        if v is not None and not matched[v]:
            rows[v] = ("ineligible_registration", "; ".join(f"the rule of {rule_words(r['rule'])}: {r['reason']}"
                                                            for r in recs), 0)


def _no_host_reasons(rnd: Round, catalogue: Catalogue, matched: np.ndarray, rows: dict[int, Reason]) -> None:
    """``no_eligible_host``: no host passes every rule; counts the hosts each rule refuses."""
    no_host = np.array([v for v in np.asarray(catalogue.visitors_without_eligible, dtype=np.int64).tolist()
                        if v not in rows and not matched[v]], dtype=np.int64)
    if not len(no_host):
        return
    counts = refusal_counts(rnd, no_host)
    rule_cols = [c for c in counts.columns if c not in ("v", "org_id", "eligible_hosts")]
    for rec in counts.to_dict("records"):
        parts = sorted(((rec[c], c) for c in rule_cols if rec[c] > 0), reverse=True)
        text = ", ".join(f"the rule of {rule_words(c)} refuses {_hosts(n)}" for n, c in parts)
        rows[int(rec["v"])] = ("no_eligible_host",
                               f"no host passes every rule of the scheme ({rnd.n_hosts} hosts: {text})", 0)


def _pruned_reasons(rnd: Round, catalogue: Catalogue, matched: np.ndarray, rows: dict[int, Reason]) -> None:
    """``pruned``: every eligible pair scores below ``min_score``."""
    min_score = float(rnd.settings["scoring"]["options"]["min_score"])
    for v in np.asarray(getattr(catalogue, "visitors_without_kept", []), dtype=np.int64).tolist():
        if v not in rows and not matched[v]:
            rows[v] = ("pruned", f"every eligible pair scores below {min_score:g} points, the lowest score "
                       "the round's settings let a pair be proposed with, so none is proposed", 0)


def _solution_reasons(rnd: Round, p: SolverInstance, pairs: np.ndarray, todo: np.ndarray,
                      rows: dict[int, Reason]) -> None:
    """Visitors with pairs in the catalogue: ``pruned`` (none left), ``hosts_full``,
    ``budget_spent`` or ``not_selected``, judged on what the solution leaves."""
    spend = np.bincount(p.part[pairs], weights=p.cost[pairs], minlength=p.n_partnerships)
    left = p.budget - spend
    prog_left = np.inf if p.programme_budget is None else p.programme_budget - p.cost[pairs].sum()
    count = np.bincount(p.h[pairs], minlength=p.n_hosts)
    chosen_by_host: dict = {}
    for j in pairs[p.physical[pairs]].tolist():
        chosen_by_host.setdefault(int(p.h[j]), []).append(j)
    names = partnership_labels(rnd.partnerships)
    order = np.argsort(p.v, kind="stable")
    starts = np.searchsorted(p.v[order], np.arange(rnd.n_visitors + 1))
    for v in todo.tolist():
        if v in rows:
            continue
        js = order[starts[v]:starts[v + 1]]
        if len(js) == 0:
            rows[v] = ("pruned", "none of this visitor's pairs is left to propose: each scores below the "
                       "lowest score allowed, or was dropped because only the best-scoring pairs are kept", 0)
            continue
        q = int(p.visitor_part[v]) if p.visitor_part[v] >= 0 else int(p.part[js[0]])
        room = js[count[p.h[js]] < p.max_visitors[p.h[js]]]
        room = room[np.lexsort((room, p.cost[room]))]
        fitting = next((j for j in room.tolist() if _fits(p, chosen_by_host, j)), None)
        name = names.get(str(p.partnerships[q]), str(p.partnerships[q]))
        rows[v] = _left_out_reason(p, fitting, len(js), left[q], prog_left, name)


def _left_out_reason(p: SolverInstance, fitting: int | None, n: int, left: float, prog_left: float,
                     partnership: str) -> Reason:
    """Why a visitor with ``n`` eligible hosts was left out, given the cheapest host with room that
    still fits (``fitting``) and the money left to its Partnership (named ``partnership``) and the programme."""
    if fitting is None:
        return ("hosts_full", f"every eligible host ({_hosts(n)}) is full: each already takes as many visitors "
                "as it offers places, or as many at the same time as it can receive on every date this visitor "
                "could come, all with better pairs", n)
    cost = int(p.cost[fitting])
    if cost > left or cost > prog_left:
        which = (f"the budget of its Partnership, {partnership}, is spent: "
                 f"EUR {left / 100:,.2f} is left" if cost > left
                 else f"the programme's budget is spent: EUR {prog_left / 100:,.2f} is left")
        return ("budget_spent", f"{which}, less than the lump sum of EUR {cost / 100:,.2f} of the cheapest "
                "eligible host that still has room", n)
    return ("not_selected", "an eligible host had room and the budget allowed it, but the "
            "pair was not proposed: it adds nothing to the round's total score (score 0), or the solver "
            "stopped at its work or time limit before proving no better set of proposals exists", n)


def _hosts(n: int) -> str:
    return "1 host" if n == 1 else f"{n:,} hosts"


def _table(rnd: Round, rows: dict[int, Reason]) -> pd.DataFrame:
    V = rnd.visitors
    out = []
    for v in sorted(rows):
        code, text, n = rows[v]
        out.append((V["org_id"].iloc[v], V["name"].iloc[v], V["country"].iloc[v], "",
                    V["partnership"].iloc[v] if "partnership" in V else "", code, text, n))
    df = pd.DataFrame(out, columns=list(COLUMNS))
    df["visitor_country_name"] = country_names(df["visitor_country"], rnd.countries)
    return df.sort_values(["partnership", "visitor_id"], kind="stable", ignore_index=True)
