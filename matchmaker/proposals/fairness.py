"""The fairness option in words: each group's target, its exchanges and its shortfall (decisions §38).

With ``solver.fairness_share > 0`` every fairness group (``solver.fairness_by``: the
visitors' Partnership or their country) should get at least ``ceil(share x its eligible
visitors)`` exchanges "where possible". The solver minimises the total shortfall first;
:func:`fairness_shortfall` recounts each group's exchanges from the proposals table itself
(its ``partnership`` or ``visitor_country`` column), not from the solver's arrays, so the
summary and the validator's report (:func:`fairness_check`, ``matchmaker check``) say
what the file holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.solve.problem import SolverInstance, build_instance

#: The proposals column that names each fairness group.
GROUP_COLUMN = {"partnership": "partnership", "country": "visitor_country"}
#: A group in words.
GROUP_WORD = {"partnership": "Partnership", "country": "visitors from"}


def fairness_shortfall(problem: SolverInstance, proposals: pd.DataFrame,
                       countries: pd.DataFrame | None = None) -> list[dict]:
    """Each fairness group with a target: its eligible visitors, target, exchanges, shortfall and a sentence.

    Parameters
    ----------
    problem : SolverInstance -- the round as solved (its groups, targets and eligible visitors).
    proposals : DataFrame -- the proposals table (``proposals.csv``).
    countries : DataFrame, optional -- ``Round.countries``: a country group's sentence names the
        country ("visitors from Germany (DE)"); without it, the code alone.

    Returns
    -------
    list of dict
        ``group``, ``eligible_visitors``, ``target``, ``exchanges``, ``shortfall``, ``text``;
        empty without the fairness option. Groups short of their target come first.
    """
    targets = problem.fairness_targets()
    if problem.fairness_share <= 0 or not targets.any():
        return []
    vis = np.unique(problem.v)
    g = problem.visitor_fair[vis]
    eligible = np.bincount(g[g >= 0], minlength=problem.n_fair_groups)
    col = GROUP_COLUMN[problem.fairness_by]
    counts = proposals[col].astype(str).value_counts() if len(proposals) else pd.Series(dtype=int)
    out = []
    for q in np.flatnonzero(targets > 0):
        name = str(problem.fair_groups[q])
        n, t = int(counts.get(name, 0)), int(targets[q])
        short = max(t - n, 0)
        text = (f"{GROUP_WORD[problem.fairness_by]} {_named(name, problem.fairness_by, countries)}: {n} "
                f"exchange(s) for {int(eligible[q])} eligible visitor(s), target {t} ({problem.fairness_share:.0%}); "
                + (f"{short} short of the target (no proposals the solver found within its limits reach it)" if short
                   else "target met"))
        out.append(dict(group=name, eligible_visitors=int(eligible[q]), target=t, exchanges=n,
                        shortfall=short, text=text))
    return sorted(out, key=lambda r: (-r["shortfall"], r["group"]))


def _named(group: str, by: str, countries: pd.DataFrame | None) -> str:
    """A country group as "Germany (DE)" when the countries table names it; any other group as it is."""
    if by != "country" or countries is None or "name" not in countries.columns or group not in countries.index:
        return group
    return f"{countries.at[group, 'name']} ({group})"


def fairness_lines(report: list[dict]) -> list[str]:
    """The report's sentences, with one line first on the total shortfall."""
    if not report:
        return []
    total = sum(r["shortfall"] for r in report)
    head = (f"fairness: every group met its target ({len(report)} group(s))" if total == 0
            else f"fairness: {total} exchange(s) short of the targets in "
                 f"{sum(r['shortfall'] > 0 for r in report)} of {len(report)} group(s)")
    return [head] + [r["text"] for r in report]


def fairness_check(rnd: Round, proposals: pd.DataFrame) -> list[str]:
    """The fairness report of a proposals table in words (empty without the fairness option).

    Builds the round's catalogue for the eligible visitors (as the solver counts them), then
    :func:`fairness_shortfall` and :func:`fairness_lines`. The shortfall is no rule broken:
    the share holds "where possible" (docs/decisions.md §13, §38).
    """
    if rnd.settings["solver"]["fairness_share"] <= 0:
        return []
    country = dict(zip(rnd.visitors["org_id"].astype(str), rnd.visitors["country"].astype(str)))
    proposals = proposals.assign(visitor_country=proposals["visitor_id"].astype(str).map(country))
    return fairness_lines(fairness_shortfall(build_instance(rnd, build_catalogue(rnd)), proposals, rnd.countries))
