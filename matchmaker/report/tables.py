"""Tables that describe a solved round, for the notebooks, the plots and the HTML report.

Pure pandas functions on the tables that :func:`matchmaker.run.run_round` writes
(``proposals.csv``, ``unmatched.csv``, ``summary.json``, read by
:func:`matchmaker.proposals.solution.read_solution`) and on a :class:`~matchmaker.inputs.instance.Round`.
Nothing here draws or writes files: :mod:`matchmaker.report.plots` draws these tables and
:mod:`matchmaker.report.html` writes them.
"""

from __future__ import annotations

import pandas as pd

from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.inputs.instance import Round
from matchmaker.proposals.fairness import fairness_lines
from matchmaker.proposals.summary import TOTAL_SCORE_NOTE
from matchmaker.proposals.wording import percent_text, reason_label
from matchmaker.quality.metrics import GROUPINGS, match_quality, round_budgets
from matchmaker.report.budget import BUDGET_WORDS as BUDGET_WORDS
from matchmaker.report.budget import budget_use as budget_use
from matchmaker.report.budget import budget_words as budget_words
from matchmaker.report.budget import round_budget_use as round_budget_use

#: The match-quality tables' columns in words (:func:`quality_frames`).
QUALITY_WORDS = {"partnership": "Partnership", "budget_eur": "budget (EUR)", "committed_eur": "committed earlier (EUR)",
                 "used_eur": "used this round (EUR)", "remaining_eur": "remaining (EUR)", "share_used": "share used",
                 "exchanges": "exchanges", "visitors": "visitors", "share_matched": "share matched",
                 "total_score": "total score", "mean_score": "mean score", "hosted": "exchanges hosted",
                 "reason": "reason", "group": "group"}
#: The comparison's and stability's columns in words (:mod:`matchmaker.compare.round_quality`).
EXTRA_WORDS = {"method": "way of matching", "physical": "physical", "virtual": "virtual",
               "budget_used_eur": "budget used (EUR)", "budget_used_percent": "budget used (%)",
               "blocking_pairs": "blocking pairs", "seconds": "seconds", "score_vs_ours": "score vs the optimiser's",
               "exchanges_vs_ours": "exchanges vs the optimiser's", "notes": "notes", "visitor": "visitor",
               "host": "host", "current_host": "visitor's proposed host", "visitor_gain": "visitor would gain (points)",
               "host_gain": "host would gain (points)", "host_would_release": "host would release",
               "dates": "dates", "score": "score", "reason": "why not run"}
#: What notebook 03 says when a round's summary has no comparison or stability (solved before they existed).
PART_MISSING = ("this round's summary.json does not have it (the round was solved before it existed): solve the "
                "round again to see it")
#: Titles of the comparison's and stability's tables.
EXTRA_TABLES = {"methods": "The same round matched each way", "skipped": "Ways not run",
                "top": "The largest blocking pairs"}


def _require(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)} "
                         f"(has: {', '.join(map(str, df.columns)) or 'none'})")


def criteria_columns(proposals: pd.DataFrame) -> list[str]:
    """The ``score_<criterion>`` columns of a proposals table, in file order."""
    return [c for c in proposals.columns if c.startswith(SCORE_PREFIX)]


def score_summary(proposals: pd.DataFrame) -> pd.DataFrame:
    """Scores of the proposals per partnership, plus a ``(all)`` row.

    Returns
    -------
    DataFrame
        Index ``partnership``; ``exchanges``, ``mean``, ``min``, ``median``, ``max``
        of ``score`` and the mean of each ``score_<criterion>`` (score points).
    """
    _require(proposals, ("partnership", "score"), "proposals")
    cols = ["score", *criteria_columns(proposals)]
    groups = {str(k): g for k, g in proposals.groupby("partnership")}
    groups["(all)"] = proposals
    rows = {}
    for name, g in groups.items():
        s = g["score"].astype(float)
        row = {"exchanges": len(g), "mean": s.mean(), "min": s.min(), "median": s.median(), "max": s.max()}
        row.update({c: g[c].astype(float).mean() for c in cols[1:]})
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index").round(2)
    out.index.name = "partnership"
    out["exchanges"] = out["exchanges"].astype(int)
    return out


def country_flows(proposals: pd.DataFrame) -> pd.DataFrame:
    """Exchanges from each visitor country (rows) to each host country (columns).

    Countries are sorted; every country that appears on either side is both a row and
    a column, so the matrix is square.
    """
    _require(proposals, ("visitor_country", "host_country"), "proposals")
    countries = sorted(set(proposals["visitor_country"].astype(str)) | set(proposals["host_country"].astype(str)))
    flows = pd.crosstab(proposals["visitor_country"].astype(str), proposals["host_country"].astype(str))
    flows = flows.reindex(index=countries, columns=countries, fill_value=0).astype(int)
    flows.index.name, flows.columns.name = "visitor country", "host country"
    return flows


def unmatched_reasons(unmatched: pd.DataFrame) -> pd.DataFrame:
    """How many visitors were left without a proposal, per reason.

    Grouped by the first of ``reason_code`` and ``rule`` (an older file's column) that
    the table fills (a short code; the full ``reason`` of each visitor may name hosts,
    rules or rounds); a row whose code is empty is grouped by its ``reason``.

    Returns
    -------
    DataFrame
        ``reason`` (the code in words, :data:`matchmaker.proposals.wording.REASON_LABELS`),
        ``visitors``, ``example`` (one visitor's full reason), most frequent first.
    """
    _require(unmatched, ("visitor_id", "reason"), "unmatched")
    if not len(unmatched):
        return pd.DataFrame(columns=["reason", "visitors", "example"])
    key = next((c for c in ("reason_code", "rule") if c in unmatched.columns and unmatched[c].notna().any()),
               "reason")
    codes = unmatched[key].astype(object)
    labels = codes.map(reason_label).where(codes.notna() & (codes != ""), unmatched["reason"]).astype(str)
    grouped = unmatched.assign(_key=labels).groupby("_key", sort=False)
    out = pd.DataFrame({"visitors": grouped.size(), "example": grouped["reason"].first().astype(str)})
    out = out.rename_axis("reason").reset_index()
    return out.sort_values(["visitors", "reason"], ascending=[False, True], ignore_index=True)


def exchange_segments(proposals: pd.DataFrame, visitors: pd.DataFrame, hosts: pd.DataFrame) -> pd.DataFrame:
    """Coordinates of both ends of every proposed exchange.

    Parameters
    ----------
    proposals : DataFrame
        ``visitor_id``, ``host_id`` (and ``mode`` when known).
    visitors, hosts : DataFrame
        ``Round.visitors`` / ``Round.hosts``: ``org_id``, ``country``, ``latitude``,
        ``longitude``.

    Returns
    -------
    DataFrame
        One row per proposal: ``visitor_id, host_id, mode, visitor_country,
        host_country, v_lat, v_lon, h_lat, h_lon``.

    Raises
    ------
    ValueError
        When a proposal names a visitor or host that the round does not have (the
        proposals belong to another round).
    """
    _require(proposals, ("visitor_id", "host_id"), "proposals")
    for df, what in ((visitors, "visitors"), (hosts, "hosts")):
        _require(df, ("org_id", "country", "latitude", "longitude"), what)
    v = visitors.set_index("org_id")[["country", "latitude", "longitude"]]
    h = hosts.set_index("org_id")[["country", "latitude", "longitude"]]
    for ids, table, role in ((proposals["visitor_id"], v, "visitor"), (proposals["host_id"], h, "host")):
        unknown = sorted(set(ids.astype(str)) - set(table.index.astype(str)))
        if unknown:
            raise ValueError(f"proposals name {role}(s) not in the round: {', '.join(unknown[:5])}"
                             f"{' ...' if len(unknown) > 5 else ''} (are they from another round?)")
    vv = v.reindex(proposals["visitor_id"].astype(str).to_numpy())
    hh = h.reindex(proposals["host_id"].astype(str).to_numpy())
    mode = proposals["mode"].astype(str).to_numpy() if "mode" in proposals.columns else "physical"
    return pd.DataFrame({
        "visitor_id": proposals["visitor_id"].astype(str).to_numpy(),
        "host_id": proposals["host_id"].astype(str).to_numpy(),
        "mode": mode,
        "visitor_country": vv["country"].to_numpy(), "host_country": hh["country"].to_numpy(),
        "v_lat": vv["latitude"].to_numpy(float), "v_lon": vv["longitude"].to_numpy(float),
        "h_lat": hh["latitude"].to_numpy(float), "h_lon": hh["longitude"].to_numpy(float),
    })


def headline(proposals: pd.DataFrame, unmatched: pd.DataFrame, summary: dict | None = None) -> dict:
    """The round in a few figures: exchanges, visitors unmatched, lump sums, scores, solver.

    ``total_score`` is the sum of the proposals' scores (each out of 100), as in
    ``summary.json``'s officer part. Solver fields (``status``, ``objective``,
    ``bound``, ``gap``) are taken from ``summary`` when it has them (under its ``solver``
    part, or flat in a summary of an older matchmaker).
    """
    summary = summary or {}
    solver = summary.get("solver", {}) if isinstance(summary.get("solver"), dict) else {}
    out = {
        "exchanges": int(len(proposals)),
        "physical": int((proposals.get("mode", pd.Series(dtype=str)) == "physical").sum()),
        "virtual": int((proposals.get("mode", pd.Series(dtype=str)) == "virtual").sum()),
        "visitors_unmatched": int(len(unmatched)),
        "lump_sums_eur": round(float(proposals["lump_sum_eur"].sum()), 2) if len(proposals) else 0.0,
        "total_score": round(float(proposals["score"].sum()), 2) if len(proposals) else 0.0,
        "mean_score": round(float(proposals["score"].mean()), 2) if len(proposals) else None,
        "locked_pairs": int(proposals["locked"].astype(str).str.lower().isin(["true", "1"]).sum())
        if "locked" in proposals.columns else 0,
    }
    for key in ("status", "objective", "bound", "gap"):
        value = solver.get(key, summary.get(key))
        if value is not None:
            out[key] = value
    return out


def headline_text(head: dict) -> list[tuple[str, str]]:
    """:func:`headline` as (label, text) pairs for people: amounts in EUR, gap in percent.

    One total is shown, ``total_score``, saying what it is; the solver's ``objective`` and
    ``bound`` (in the solver's own terms) stay in ``summary.json``'s solver part.
    """
    labels = {"exchanges": "exchanges proposed", "physical": "physical", "virtual": "virtual",
              "visitors_unmatched": "visitors without a proposal", "lump_sums_eur": "lump sums proposed",
              "total_score": f"total score ({TOTAL_SCORE_NOTE})", "mean_score": "mean score (out of 100)",
              "locked_pairs": "locked pairs kept", "status": "solver status",
              "gap": "gap: at most this far from the best possible"}
    out = []
    for key, label in labels.items():
        if key not in head:
            continue
        value = head[key]
        if value is None:
            text = "-"
        elif key == "lump_sums_eur":
            text = f"EUR {value:,.2f}"
        elif key == "gap":
            text = f"{value:.4%}"
        elif key in ("total_score", "mean_score"):
            text = f"{value:,.2f}"
        else:
            text = f"{value:,}" if isinstance(value, int) else str(value)
        out.append((label, text))
    return out


def quality_of(summary: dict | None, proposals: pd.DataFrame, unmatched: pd.DataFrame, rnd: Round) -> dict:
    """A solved round's match quality: ``summary.json``'s ``match_quality`` when it has one, else
    measured from the tables (:func:`matchmaker.quality.metrics.match_quality`; an output set
    written before it existed), against the budgets the round was solved with."""
    recorded = summary.get("match_quality") if isinstance(summary, dict) else None
    if isinstance(recorded, dict) and recorded.get("spread"):
        return recorded
    return match_quality(rnd, proposals, unmatched, *round_budgets(rnd, summary))


def _percent(value: object) -> str:
    return percent_text(value)


def _worded(rows: list[dict], first: str | None = None) -> pd.DataFrame:
    """Rows of the match-quality dict as a table for people: shares in percent, columns in words."""
    df = pd.DataFrame(rows)
    for c in ("share_used", "share_matched"):
        if c in df.columns:
            df[c] = df[c].map(_percent)
    df = df.rename(columns=QUALITY_WORDS)
    return df.rename(columns={"group": first}) if first else df


def quality_headline(quality: dict) -> pd.DataFrame:
    """The match quality in a few lines: ``what`` and ``figure`` (text)."""
    ex, sc, vis = quality["exchanges"], quality["score"], quality["visitors"]
    mean = "-" if sc.get("mean") is None else f"{sc['mean']:,.2f}"
    total = quality["budget_use"]["total"]
    rows = [("exchanges", f"{ex['total']:,} ({ex['physical']:,} physical, {ex['virtual']:,} virtual)"),
            (f"total score ({sc.get('note', TOTAL_SCORE_NOTE)})", f"{sc['total']:,.2f}"),
            ("mean score per exchange (out of 100)", mean),
            ("visitors matched", f"{vis['matched']:,} of {vis['total']:,} ({_percent(vis['share_matched']) or '-'})"),
            ("budget used", f"EUR {total['committed_eur'] + total['used_eur']:,.2f} of EUR {total['budget_eur']:,.2f}"
                            f" ({_percent(total['share_used']) or '-'})")]
    return pd.DataFrame(rows, columns=["what", "figure"])


def quality_frames(quality: dict) -> dict[str, pd.DataFrame]:
    """The match-quality dict as tables for people (the HTML report and notebook 03).

    Returns
    -------
    dict
        ``headline`` (:func:`quality_headline`), ``budget`` (per Partnership), one table per
        grouping of the spread (``partnership``, ``country``, ``organisation_type``: the group,
        visitors, exchanges, share matched, total and mean score, exchanges hosted) and
        ``reasons`` (visitors unmatched per reason in words). Shares are in percent.
    """
    out = {"headline": quality_headline(quality),
           "budget": _worded(quality["budget_use"]["partnerships"])}
    for key, word in GROUPINGS.items():
        out[key] = _worded(quality["spread"][key]["groups"], first=word)
    out["reasons"] = _worded(quality["unmatched_by_reason"]) if quality["unmatched_by_reason"] else pd.DataFrame(
        columns=["reason", "visitors"])
    return out


def sentence(text: str) -> str:
    """``text`` as a sentence: its first letter a capital, a full stop at the end (empty stays empty)."""
    text = text.strip()
    return "" if not text else text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def quality_sentences(quality: dict) -> dict[str, str]:
    """The match quality's one-line summaries as sentences: ``budget`` and one per grouping of the spread."""
    out = {"budget": sentence(quality["budget_use"]["summary"])}
    out.update({key: sentence(part["summary"]) for key, part in quality["spread"].items()})
    return out


def extra_frames(part: dict) -> dict[str, pd.DataFrame]:
    """The tables of a ``comparison`` or ``stability`` part of the match quality, by title, columns in
    words, ratios in percent (:data:`EXTRA_TABLES`; an empty list gives no table)."""
    out = {}
    for key, value in part.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            df = pd.DataFrame(value).drop(columns=["notes"], errors="ignore")  # said in extra_sentences
            for c in ("score_vs_ours", "exchanges_vs_ours"):
                if c in df.columns:
                    df[c] = df[c].map(_percent)
            if "budget_used_percent" in df.columns:
                df["budget_used_percent"] = df["budget_used_percent"].map(
                    lambda v: "" if v is None or v != v else f"{float(v):.1f}%")
            out[EXTRA_TABLES.get(key, key.replace("_", " "))] = df.rename(columns={**QUALITY_WORDS, **EXTRA_WORDS})
    return out


def extra_sentences(part: dict) -> list[str]:
    """A ``comparison`` or ``stability`` part's texts as sentences: its ``summary``, then ``definition``
    and ``note`` when it has them, then each compared way's notes (``methods``: ``method: notes``)."""
    out = [sentence(str(part[k])) for k in ("summary", "definition", "note") if part.get(k)]
    rows = part.get("methods") if isinstance(part.get("methods"), list) else []
    return out + [sentence(f"{r['method']}: {r['notes']}") for r in rows if isinstance(r, dict) and r.get("notes")]


#: Where the stability and fairness options' price is measured.
OPTIONS_PRICE = "their price in total score is measured in reports/match_quality.md"


def options_sentences(summary: dict | None) -> list[str]:
    """The stability and fairness options a round was solved with, in words (docs/decisions.md §38).

    Read from ``summary.json``: ``settings.solver`` (``stability_weight``, ``fairness_share``,
    ``fairness_by``) and, with the fairness option on, ``round.fairness`` (each group's target
    met or missed). Empty for a summary without the settings (written before they existed).
    """
    settings = (summary or {}).get("settings", {}).get("solver") if isinstance(summary, dict) else None
    if not isinstance(settings, dict):
        return []
    weight = float(settings.get("stability_weight", 0.0) or 0.0)
    share = float(settings.get("fairness_share", 0.0) or 0.0)
    by = "Partnership" if settings.get("fairness_by", "partnership") == "partnership" else "country"
    out = [f"stability option on ([solver] stability_weight = {weight:g}): the solver gives up some total score "
           f"for fewer blocking pairs; {OPTIONS_PRICE}" if weight > 0 else
           "stability option off ([solver] stability_weight = 0): the proposals maximise the total score; a weight "
           f"of 1 or 2 gives fewer blocking pairs for some total score; {OPTIONS_PRICE}"]
    if share <= 0:
        out.append("fairness option off ([solver] fairness_share = 0): no Partnership or country is guaranteed a "
                   "share of its visitors matched")
        return out
    out.append(f"fairness option on ([solver] fairness_share = {share:g} by {by}): each {by} gets at least "
               f"{share:.0%} of its eligible visitors matched where the rules and budgets allow; {OPTIONS_PRICE}")
    groups = (summary.get("round") or {}).get("fairness") or []
    return out + fairness_lines(groups)[:1] + [r["text"] for r in groups if r.get("shortfall")]
