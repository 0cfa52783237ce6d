"""The README of a generated round: how it was made, what it holds, how budgets were set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from matchmaker.generator.decisions import MAX_BUDGET_HOSTS


def _counts(series: pd.Series, order: Sequence[str]) -> str:
    c = series.value_counts()
    return ", ".join(f"{k} {int(c.get(k, 0))}" for k in order)


def _files_section(*, n_visitors: int, n_hosts: int, seed: int, budget_share: float,
                   season: tuple[dt.date, dt.date], rows: pd.DataFrame, n_orgs: int, n_both: int,
                   decisions: pd.DataFrame) -> list[str]:
    """The title, the command that wrote the round, and the table of its files."""
    vis = rows[rows["role"] == "visitor"]
    hosts = rows[rows["role"] == "host"]
    return [
        "# Generated matching round",
        "",
        "Synthetic but realistic registrations for the ClusterXchange matchmaker, written by",
        "",
        "```",
        f"matchmaker generate --visitors {n_visitors} --hosts {n_hosts} --seed {seed} "
        f"--budget-share {budget_share} --out DIR",
        "```",
        "",
        "The same command always writes byte-identical files. Nothing here describes real",
        "organisations: names are invented, cities and their coordinates are real",
        "(`data/reference/cities.csv`), organisations sit within 6 km of their city centre.",
        "",
        "## Files",
        "",
        "| file | content |",
        "|---|---|",
        f"| `registrations.csv` | {len(rows)} registrations: {len(vis)} visitors, {len(hosts)} hosts, "
        f"from {n_orgs} organisations ({n_both} registered in both roles, same `org_id`) |",
        "| `partnerships.csv` | the 13 reference partnerships, `budget_eur` set as below |",
        "| `countries.csv` | copy of `data/reference/countries.csv` |",
        f"| `decisions.csv` | {int((decisions['decision'] == 'lock').sum())} `lock` (prior agreements) and "
        f"{int((decisions['decision'] == 'forbid').sum())} `forbid` decisions |",
        f"| `settings.toml` | `rules.virtual_until = {season[1].isoformat()}`: the round reconsiders the "
        "2020 cut-off for virtual exchanges |",
        "",
    ]


def _registrations_section(rows: pd.DataFrame, season: tuple[dt.date, dt.date], vocab_modes: Sequence[str],
                           non_cosme: Sequence[str]) -> list[str]:
    """How the registrations were drawn, with the counts of the round."""
    vis = rows[rows["role"] == "visitor"]
    grouped = rows.loc[rows["role"] == "host", "grouped"].astype(bool)
    org_types = _counts(rows["org_type"], ("sme", "cluster_organisation", "scaleup_support", "other"))
    n_auto = int((rows["partnership"] == "auto").sum())
    return [
        "## What the registrations look like",
        "",
        f"- Season {season[0].isoformat()} to {season[1].isoformat()}; visitors are available 3 weeks to "
        "4 months, hosts 1 to 6 months, inside the season.",
        "- Country: weight (sum of the city populations)^0.4 x (1 + 0.75 x number of partnerships "
        "with a member there); about 1 % from non-COSME countries (mostly GB), which are ineligible. "
        "City by population, within the country.",
        f"- Organisation type: {org_types} (registrations); `other` is ineligible.",
        f"- Non-COSME registrations (ineligible): {int(rows['country'].isin(non_cosme).sum())}.",
        "- Sectors (1-3): each organisation leans towards a home partnership (a partnership with a member "
        "in its country is 5 times likelier), whose sectors weigh 21 against 1; sectors of partnerships "
        "with members in the country weigh 2 more per partnership. Activities 1-4 (visitors seek, hosts "
        "offer), objectives 1-3.",
        "- Partnership: one covering at least one of the organisation's sectors, preferring more sectors in "
        f"common and a member in its country; `auto` for {n_auto} registrations (about 15 %).",
        "- Languages: the country's language(s), English for about 90 %, French/German/Spanish for about "
        "8 % each.",
        f"- Mode: {_counts(rows['mode'], vocab_modes)}.",
        "- Stays: visitors `min_days` 3-10 (5 most often), `max_days` up to 22 working days; some accept "
        "only stays under 5 days. Hosts accept shorter minima and longer maxima.",
        f"- Hosts: {int((~grouped).sum())} individual (`capacity` 1), "
        f"{int(grouped.sum())} grouped (`capacity` 2-6, "
        "`max_visitors` >= `capacity`).",
        f"- Visitors who already visited: {int(vis['already_visited'].astype(bool).sum())} (about 5 %); they "
        "accept virtual exchanges more often (40 % physical, 30 % virtual, 30 % either); those who accept "
        "only physical ones are ineligible.",
        "- Virtual-only registrations mostly leave room in their window for `min_days` days in as many weeks.",
        "- About 12 % name preferred countries (partnership members preferred), about 10 % a largest "
        "distance.",
        "- Descriptions: 2-4 English sentences composed from sector, activity and objective phrase banks "
        "(`matchmaker/generator/text.py`).",
        "",
    ]


#: The README's account of the prior decisions (the same for every generated round).
_DECISIONS_SECTION = [
    "## Decisions",
    "",
    "Locks (about 1 % of visitors) are prior agreements on pairs that are eligible under every rule of "
    "`docs/decisions.md`: different COSME countries, eligible organisation types, compatible modes, "
    "windows long enough for the stay, visitor not already visited; at most one lock per visitor and "
    "per host, and only visitors who named their partnership. Forbids (about 1 % of visitors) are "
    "otherwise eligible pairs that must not be proposed.",
    "",
]


def _budgets_section(budgets: pd.DataFrame, budget_share: float) -> list[str]:
    """How the partnerships' budgets were set, and their table."""
    lines = [
        "## Budgets",
        "",
        "For each visitor *v*, `L(v)` is the mean lump sum (decisions §8: host-country threshold, halved "
        "under 5 working days or 200 km) over the hosts *v* may physically visit under every rule, with the "
        "stay length of decisions §5; visitors who can only be matched virtually, or not at all, have "
        f"`L(v) = 0`. With more than {MAX_BUDGET_HOSTS:,} hosts, `L(v)` is estimated on a random sample "
        f"of {MAX_BUDGET_HOSTS:,} hosts. "
        "A visitor pays through its named partnership, or for `auto` through the partnership that "
        "automatic selection picks (`matchmaker/inputs/partnership_selection.py`, docs/decisions.md). Then",
        "",
        "```",
        "budget_eur(p) = max(ceil100(budget_share x sum of L(v) over visitors v of p),",
        "                    ceil100(lump sums of p's locked pairs))",
        "```",
        "",
        f"with `budget_share = {budget_share}` and `ceil100` rounding up to the next 100 EUR.",
        "",
        "| partnership | visitors with a physical option | mean L(v), EUR | locked, EUR | budget_eur |",
        "|---|---:|---:|---:|---:|",
    ]
    for pid, b in budgets.iterrows():
        lines.append(f"| {pid} | {int(b['visitors'])} | {b['mean_lump_sum_eur']:.2f} | "
                     f"{b['locked_eur']:.2f} | {int(b['budget_eur'])} |")
    return lines


def readme_text(*, n_visitors: int, n_hosts: int, seed: int, budget_share: float, season: tuple[dt.date, dt.date],
                rows: pd.DataFrame, n_orgs: int, n_both: int, decisions: pd.DataFrame, budgets: pd.DataFrame,
                vocab_modes: Sequence[str], non_cosme: Sequence[str]) -> str:
    """Markdown text of the round's ``README.md`` (deterministic: no dates or paths).

    Parameters
    ----------
    n_visitors, n_hosts, seed, budget_share, season
        The arguments of :func:`matchmaker.generator.generate.generate_round`.
    rows : DataFrame
        The registrations written (visitors and hosts).
    n_orgs, n_both : int
        Organisations, and those registered in both roles.
    decisions : DataFrame
        The ``decisions.csv`` written.
    budgets : DataFrame
        :func:`matchmaker.generator.decisions.partnership_budgets`.
    vocab_modes : sequence of str
        The codes of the ``mode`` vocabulary, in the order to list them.
    non_cosme : sequence of str
        Country codes outside COSME.
    """
    lines = _files_section(n_visitors=n_visitors, n_hosts=n_hosts, seed=seed, budget_share=budget_share,
                           season=season, rows=rows, n_orgs=n_orgs, n_both=n_both, decisions=decisions)
    lines += _registrations_section(rows, season, vocab_modes, non_cosme)
    lines += _DECISIONS_SECTION
    lines += _budgets_section(budgets, budget_share)
    return "\n".join(lines) + "\n"
