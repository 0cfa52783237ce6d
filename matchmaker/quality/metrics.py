"""The match-quality report of a solved round: one JSON-ready dict, in the users' words.

:func:`match_quality` takes the round and its final tables (``proposals.csv`` and
``unmatched.csv`` as :func:`matchmaker.run.run_round` writes them) and returns, in this key order:

``exchanges``
    ``total``, ``physical``, ``virtual``.
``score``
    ``total`` and ``mean`` of the proposed pairs' scores (each out of 100), ``note`` saying so.
``visitors``
    ``total``, ``matched``, ``unmatched`` and ``share_matched`` (0-1).
``unmatched_by_reason``
    ``reason`` (in words) and ``visitors``, most frequent first.
``budget_use``
    ``partnerships``: per Partnership ``partnership`` (its name), ``budget_eur``,
    ``committed_eur`` (accepted in earlier rounds), ``used_eur`` (this round's lump sums),
    ``remaining_eur``, ``share_used`` (committed plus used over the budget; ``None`` for a
    zero budget) and ``exchanges``; ``total`` (the same over all); ``summary``, one sentence.
``spread``
    Per grouping (``partnership``, ``country``, ``organisation_type``: the visitor's): its
    ``grouping`` in words (``groupings``: the plural), ``groups`` (``group`` in words,
    ``visitors``, ``exchanges``, ``share_matched``, ``total_score``, ``mean_score``, ``hosted``:
    exchanges hosted by the group's organisations), ``lowest_share_matched`` / ``highest_share_matched`` and
    ``lowest_mean_score`` / ``highest_mean_score`` (``group`` and value), and ``summary``,
    one sentence.
``spread_note``
    What the spread's groups are, in a sentence.
``comparison``, ``stability``
    Places for the same round matched other ways and for its blocking pairs
    (:mod:`matchmaker.compare`, :mod:`matchmaker.quality.stability`): ``None`` until filled.

Every visitor of the round is in exactly one of the two tables (one exchange per visitor), so a
visitor is matched when it is in ``proposals``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from matchmaker.inputs.instance import Round
from matchmaker.proposals.summary import TOTAL_SCORE_NOTE, officer_counts
from matchmaker.proposals.wording import partnership_labels, percent_text, reason_label

#: Organisation types in words (the codes of ``data/reference/vocabularies.csv``).
ORG_TYPE_WORDS = {"cluster_organisation": "cluster organisation", "scaleup_support": "scale-up support organisation",
                  "sme": "SME", "other": "other organisation"}
#: The groupings of the spread, in words.
GROUPINGS = {"partnership": "Partnership", "country": "country", "organisation_type": "organisation type"}
#: ... and in the plural.
GROUPINGS_PLURAL = {"partnership": "Partnerships", "country": "countries", "organisation_type": "organisation types"}
#: What the spread's groups are.
SPREAD_NOTE = ("visitors are grouped by their own Partnership, country and organisation type; 'hosted' counts the "
               "exchanges hosted by the group's organisations")
#: A share used from which a Partnership's budget counts as (almost) spent.
NEARLY_SPENT = 0.9
#: The group of an organisation whose group is not known (a visitor skipped by ``matchmaker round`` is not
#: among the registrations of the round solved, so its organisation type is not known).
UNKNOWN = "not known"


def _num(value: float | None, digits: int = 2) -> float | None:
    """A float for JSON: rounded, ``None`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def round_budgets(rnd: Round, summary: dict | None = None) -> tuple[pd.Series, pd.Series | None]:
    """The budgets a round was solved against, and what earlier rounds had committed, per Partnership id.

    A round run by :func:`matchmaker.ledger.carry_over.run_next_round` records in its summary
    (``carry_over``) each Partnership's ``budget_eur`` and ``committed_eur``; otherwise the budgets
    are those of the round's ``partnerships.csv`` and nothing was committed before.
    """
    carry = summary.get("carry_over") if isinstance(summary, dict) else None
    if isinstance(carry, dict) and carry.get("budgets"):
        b = pd.DataFrame(carry["budgets"]).set_index("partnership_id")
        return b["budget_eur"].astype(float), b["committed_eur"].astype(float)
    return rnd.partnerships["budget_eur"].astype(float), None


def _labels(rnd: Round) -> dict[str, dict[str, str]]:
    """Group codes in words, per grouping: a Partnership's name (with its id when two share it),
    ``Spain (ES)``, ``SME``."""
    partnership = partnership_labels(rnd.partnerships)  # a name two Partnerships share keeps its id
    countries = rnd.countries["name"] if "name" in rnd.countries.columns else pd.Series(dtype=object)
    country = {str(k): f"{n} ({k})" for k, n in countries.items()}
    return {"partnership": partnership, "country": country, "organisation_type": dict(ORG_TYPE_WORDS)}


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    return table[name].astype(object) if name in table.columns else pd.Series(np.nan, index=table.index, dtype=object)


def _side_groups(ids: pd.Series, orgs: pd.DataFrame, own: dict[str, pd.Series]) -> pd.DataFrame:
    """Each organisation's Partnership, country and organisation type: the table's own columns
    first (what was solved), else the round's registrations, else ``unknown``."""
    info = orgs.drop_duplicates("org_id").set_index("org_id")
    out = pd.DataFrame(index=ids.index)
    for key, column in (("partnership", "partnership"), ("country", "country"), ("organisation_type", "org_type")):
        known = info[column].astype(object) if column in info.columns else pd.Series(dtype=object)
        looked_up = ids.map(known.to_dict())
        value = own[key].where(own[key].notna() & (own[key].astype(str) != ""), looked_up) if key in own else looked_up
        out[key] = value.where(value.notna() & (value.astype(str) != ""), UNKNOWN).astype(str)
    return out


def _visitors(rnd: Round, proposals: pd.DataFrame, unmatched: pd.DataFrame) -> pd.DataFrame:
    """One row per visitor of the round: its groups, ``matched`` and ``score`` (NaN when unmatched)."""
    tables = []
    for table, matched in ((proposals, True), (unmatched, False)):
        ids = table["visitor_id"].astype(str).reset_index(drop=True)
        own = {"partnership": _column(table, "partnership").reset_index(drop=True),
               "country": _column(table, "visitor_country").reset_index(drop=True)}
        frame = _side_groups(ids, rnd.visitors, own)
        frame["matched"] = matched
        frame["score"] = table["score"].astype(float).to_numpy() if matched else np.nan
        tables.append(frame)
    return pd.concat(tables, ignore_index=True)


def _hosts(rnd: Round, proposals: pd.DataFrame) -> pd.DataFrame:
    """One row per exchange: the host's groups."""
    ids = proposals["host_id"].astype(str).reset_index(drop=True)
    own = {"partnership": _column(proposals, "host_partnership").reset_index(drop=True),
           "country": _column(proposals, "host_country").reset_index(drop=True)}
    return _side_groups(ids, rnd.hosts, own)


def unmatched_by_reason(unmatched: pd.DataFrame) -> list[dict]:
    """Visitors unmatched per reason in words (``reason``, ``visitors``), most frequent first.

    Grouped by ``reason_code`` (or ``rule``, the column of an older ``unmatched.csv``); a row
    without a code counts under its own ``reason`` text.
    """
    key = next((c for c in ("reason_code", "rule") if c in unmatched.columns and unmatched[c].notna().any()), None)
    codes = unmatched[key].astype(object) if key else pd.Series(np.nan, index=unmatched.index, dtype=object)
    coded = codes.notna() & (codes.astype(str) != "")
    text = _column(unmatched, "reason").fillna("").astype(str)
    labels = codes.map(reason_label).where(coded, text)
    counts = labels.value_counts()
    return [{"reason": str(r), "visitors": int(n)} for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _extreme(rows: list[dict], key: str, lowest: bool) -> dict | None:
    candidates = [r for r in rows if r[key] is not None]
    if not candidates:
        return None
    pick = (min if lowest else max)(candidates, key=lambda r: (r[key], r["group"]) if lowest else (r[key], ""))
    return {"group": pick["group"], key: pick[key]}


def _spread_summary(key: str, rows: list[dict], lo: dict | None, hi: dict | None, lo_s: dict | None,
                    hi_s: dict | None) -> str:
    word, words = GROUPINGS[key], GROUPINGS_PLURAL[key]
    if lo is None or hi is None:
        return f"no visitors to spread across {words}"
    parts = [f"share of visitors matched per {word} from {percent_text(lo['share_matched'])} ({lo['group']}) "
             f"to {percent_text(hi['share_matched'])} ({hi['group']})"]
    if lo_s is not None and hi_s is not None:
        parts.append(f"mean score from {lo_s['mean_score']:.2f} ({lo_s['group']}) "
                     f"to {hi_s['mean_score']:.2f} ({hi_s['group']})")
    empty = [r["group"] for r in rows if r["visitors"] and not r["exchanges"]]
    if empty:
        named = ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else "")
        parts.append(f"{len(empty)} {word if len(empty) == 1 else words} with visitors but no exchange ({named})")
    return "; ".join(parts)


def group_spread(visitors: pd.DataFrame, hosts: pd.DataFrame, key: str, labels: dict[str, str]) -> dict:
    """The spread of exchanges and scores over the groups ``key`` of the visitors (and hosts).

    Parameters
    ----------
    visitors : DataFrame
        One row per visitor: ``key``, ``matched`` (bool), ``score`` (NaN when unmatched).
    hosts : DataFrame
        One row per exchange: the host's ``key``.
    key : str
        ``partnership``, ``country`` or ``organisation_type``.
    labels : dict
        Group code -> words (a code without words keeps its code).

    Returns
    -------
    dict
        ``grouping``, ``groups``, the lowest and highest share matched and mean score, ``summary``
        (see the module docstring).
    """
    g = visitors.groupby(key, sort=True).agg(visitors=("matched", "size"), exchanges=("matched", "sum"),
                                             total_score=("score", "sum"), mean_score=("score", "mean"))
    hosted = hosts.groupby(key).size()
    g = g.reindex(sorted(set(g.index) | set(hosted.index)))
    g["hosted"] = hosted.reindex(g.index).fillna(0)
    g[["visitors", "exchanges"]] = g[["visitors", "exchanges"]].fillna(0)
    rows = [{"group": labels.get(code, code), "visitors": int(r.visitors), "exchanges": int(r.exchanges),
             "share_matched": _num(r.exchanges / r.visitors, 4) if r.visitors else None,
             "total_score": _num(r.total_score if r.exchanges else 0.0), "mean_score": _num(r.mean_score),
             "hosted": int(r.hosted)} for code, r in zip(g.index, g.itertuples())]
    rows.sort(key=lambda r: (str(r["group"]).casefold(), r["group"]))
    ext = {f"{end}_{what}": _extreme(rows, what, end == "lowest")
           for what in ("share_matched", "mean_score") for end in ("lowest", "highest")}
    summary = _spread_summary(key, rows, ext["lowest_share_matched"], ext["highest_share_matched"],
                              ext["lowest_mean_score"], ext["highest_mean_score"])
    return {"grouping": GROUPINGS[key], "groupings": GROUPINGS_PLURAL[key], "groups": rows, **ext, "summary": summary}


def budget_use(proposals: pd.DataFrame, budgets: pd.Series, committed: pd.Series | None,
               labels: dict[str, str]) -> dict:
    """Budget, committed, used and remaining per Partnership, the totals and one sentence.

    ``budgets`` and ``committed`` are indexed by Partnership id (:func:`round_budgets`); every
    Partnership with a budget or a proposal is listed (a proposal's Partnership without a budget
    has budget 0), in the order of the names.
    """
    spent = proposals.groupby(proposals["partnership"].astype(str))["lump_sum_eur"].agg(["count", "sum"])
    ids = sorted(set(map(str, budgets.index)) | set(spent.index), key=lambda q: (labels.get(q, q).casefold(), q))
    budget = budgets.rename(index=str).reindex(ids).fillna(0.0).astype(float)
    com = (committed.rename(index=str) if committed is not None else pd.Series(dtype=float)).reindex(ids).fillna(0.0)
    used = spent["sum"].reindex(ids).fillna(0.0).astype(float)
    n = spent["count"].reindex(ids).fillna(0).astype(int)
    rows = []
    for q in ids:
        share = (com[q] + used[q]) / budget[q] if budget[q] > 0 else None
        rows.append({"partnership": labels.get(q, q), "budget_eur": _num(budget[q]), "committed_eur": _num(com[q]),
                     "used_eur": _num(used[q]), "remaining_eur": _num(budget[q] - com[q] - used[q]),
                     "share_used": _num(share, 4), "exchanges": int(n[q])})
    total_budget, total_spent = float(budget.sum()), float(com.sum() + used.sum())
    total = {"budget_eur": _num(total_budget), "committed_eur": _num(com.sum()), "used_eur": _num(used.sum()),
             "remaining_eur": _num(total_budget - total_spent),
             "share_used": _num(total_spent / total_budget, 4) if total_budget > 0 else None}
    return {"partnerships": rows, "total": total, "summary": _budget_summary(rows, total)}


def _budget_summary(rows: list[dict], total: dict) -> str:
    with_budget = [r for r in rows if r["share_used"] is not None]
    if not with_budget:
        return "no Partnership has a budget in this round"
    nearly = sum(r["share_used"] >= NEARLY_SPENT for r in with_budget)
    lo = min(with_budget, key=lambda r: (r["share_used"], r["partnership"]))
    hi = max(with_budget, key=lambda r: r["share_used"])
    return (f"EUR {total['committed_eur'] + total['used_eur']:,.2f} of EUR {total['budget_eur']:,.2f} used "
            f"({percent_text(total['share_used'])}); {nearly} of {len(with_budget)} Partnerships used at least "
            f"{NEARLY_SPENT:.0%} of their budget; share used from {percent_text(lo['share_used'])} "
            f"({lo['partnership']}) to {percent_text(hi['share_used'])} ({hi['partnership']})")


def match_quality(rnd: Round, proposals: pd.DataFrame, unmatched: pd.DataFrame, budgets: pd.Series | None = None,
                  committed: pd.Series | None = None, comparison: object = None, stability: object = None) -> dict:
    """The match-quality report of a solved round (see the module docstring for its keys).

    Parameters
    ----------
    rnd : Round
        The round solved (its registrations, Partnerships' names and countries' names).
    proposals : DataFrame
        ``proposals.csv``: ``visitor_id``, ``host_id``, ``partnership``, ``mode``, ``score``,
        ``lump_sum_eur`` (and ``visitor_country``, ``host_country``, ``host_partnership`` when known).
    unmatched : DataFrame
        ``unmatched.csv``: ``visitor_id`` (``reason_code``, ``partnership``, ``visitor_country``
        when known).
    budgets, committed : Series, optional
        Budget and lump sums committed in earlier rounds per Partnership id (EUR); default the
        round's ``partnerships.csv`` budgets and nothing committed (:func:`round_budgets`).
    comparison, stability : optional
        JSON-ready parts to carry as they are (the same round matched other ways; blocking pairs).

    Returns
    -------
    dict
        JSON-ready: only str, int, float, bool, None, lists and dicts.
    """
    if budgets is None:
        budgets, committed = round_budgets(rnd)
    counts = officer_counts(proposals, unmatched)
    labels = _labels(rnd)
    visitors, hosts = _visitors(rnd, proposals, unmatched), _hosts(rnd, proposals)
    n, matched = len(visitors), int(visitors["matched"].sum())
    scores = proposals["score"].astype(float)
    return {
        "exchanges": {"total": counts["exchanges"], "physical": counts["physical"], "virtual": counts["virtual"]},
        "score": {"total": _num(scores.sum()), "mean": _num(scores.mean()) if len(scores) else None,
                  "note": TOTAL_SCORE_NOTE},
        "visitors": {"total": n, "matched": matched, "unmatched": n - matched,
                     "share_matched": _num(matched / n, 4) if n else None},
        "unmatched_by_reason": unmatched_by_reason(unmatched),
        "budget_use": budget_use(proposals, budgets, committed, labels["partnership"]),
        "spread": {key: group_spread(visitors, hosts, key, labels[key]) for key in GROUPINGS},
        "spread_note": SPREAD_NOTE,
        "comparison": comparison,
        "stability": stability,
    }
