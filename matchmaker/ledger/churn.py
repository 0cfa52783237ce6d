"""Churn: which visitors' pairs a re-solve changes, per Partnership.

A round's *list* is what its reviewers see: one pair per matched visitor (its host and
dates), the round's proposals plus the exchanges accepted before it (their visitors are
not proposed again, but the exchange stands). :func:`pair_changes` compares two lists
visitor by visitor; :func:`churn_by_partnership` counts the changes per Partnership (the
visitor's, which pays). Pure functions on tables; :mod:`matchmaker.ledger.resolve` uses them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from matchmaker.proposals.output_set import read_summary, write_output_set

#: Columns of a list compared by :func:`pair_changes`.
LIST_COLUMNS = ["visitor_id", "host_id", "start_date", "end_date", "partnership"]
#: Columns of :func:`pair_changes`.
CHANGE_COLUMNS = ["partnership", "visitor_id", "change", "host_before", "host_after", "start_before", "start_after"]
#: Columns of :func:`churn_by_partnership`.
CHURN_COLUMNS = ["partnership", "pairs_before", "pairs_after", "pairs_changed", "new_host", "new_dates", "added",
                 "removed"]


def _day(values: pd.Series) -> pd.Series:
    """Dates as ``YYYY-MM-DD`` text (whatever they were read as), missing stays missing."""
    return pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d")


def pair_list(proposals: pd.DataFrame, accepted: pd.DataFrame | None = None) -> pd.DataFrame:
    """A round's list: its proposals, plus accepted exchanges of visitors it does not propose again.

    Both tables need :data:`LIST_COLUMNS`; one row per visitor is returned (a visitor
    takes part in one exchange).
    """
    parts = [proposals[LIST_COLUMNS]]
    if accepted is not None and len(accepted):
        parts.append(accepted.loc[~accepted["visitor_id"].isin(proposals["visitor_id"]), LIST_COLUMNS])
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    out = out.astype({"visitor_id": str, "host_id": str, "partnership": str})
    out["start_date"], out["end_date"] = _day(out["start_date"]), _day(out["end_date"])
    return out.drop_duplicates("visitor_id", keep="first").reset_index(drop=True)


def pair_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Visitors whose pair differs between two lists (:func:`pair_list`).

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`, one row per changed visitor: ``change`` is ``new host``,
        ``new dates`` (same host, other dates), ``added`` (matched only after) or
        ``removed`` (matched only before). Sorted by partnership and visitor.
    """
    b = before.set_index("visitor_id")
    a = after.set_index("visitor_id")
    rows = []
    for v in sorted(set(b.index) | set(a.index)):
        old = b.loc[v] if v in b.index else None
        new = a.loc[v] if v in a.index else None
        if old is None:
            change = "added"
        elif new is None:
            change = "removed"
        elif old["host_id"] != new["host_id"]:
            change = "new host"
        elif (old["start_date"], old["end_date"]) != (new["start_date"], new["end_date"]):
            change = "new dates"
        else:
            continue
        rows.append({"partnership": (new if old is None else old)["partnership"], "visitor_id": v, "change": change,
                     "host_before": None if old is None else old["host_id"],
                     "host_after": None if new is None else new["host_id"],
                     "start_before": None if old is None else old["start_date"],
                     "start_after": None if new is None else new["start_date"]})
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    return out.sort_values(["partnership", "visitor_id"], ignore_index=True)


def churn_by_partnership(before: pd.DataFrame, after: pd.DataFrame, changes: pd.DataFrame,
                         partnerships: list[str] | None = None) -> pd.DataFrame:
    """Pairs before and after, and pairs changed (by kind), per Partnership.

    ``partnerships`` lists the rows to show (default: every Partnership of either list).
    """
    names = sorted(set(before["partnership"]) | set(after["partnership"])) if partnerships is None else partnerships
    kinds = changes.groupby(["partnership", "change"]).size().unstack(fill_value=0) if len(changes) else None
    rows = []
    for p in names:
        def count(kind: str, p: str = p) -> int:
            return int(kinds.at[p, kind]) if kinds is not None and p in kinds.index and kind in kinds.columns else 0

        counts = {k.replace(" ", "_"): count(k) for k in ("new host", "new dates", "added", "removed")}
        rows.append({"partnership": p, "pairs_before": int((before["partnership"] == p).sum()),
                     "pairs_after": int((after["partnership"] == p).sum()),
                     "pairs_changed": sum(counts.values()), **counts})
    return pd.DataFrame(rows, columns=CHURN_COLUMNS)


def churn_outside(churn: pd.DataFrame, partnership: str | None) -> int:
    """Pairs changed in the Partnerships other than ``partnership`` (all of them when ``None``)."""
    rows = churn if partnership is None else churn[churn["partnership"] != partnership]
    return int(rows["pairs_changed"].sum())


def describe_churn(churn: pd.DataFrame) -> list[str]:
    """One line per Partnership whose pairs changed, in words."""
    lines = []
    for r in churn[churn["pairs_changed"] > 0].itertuples():
        kinds = [f"{n} {label}" for n, label in ((r.new_host, "with a new host"), (r.new_dates, "with new dates"),
                                                 (r.added, "added"), (r.removed, "removed")) if n]
        # added pairs can make the changes outnumber the pairs before: say both counts
        lines.append(f"{r.partnership}: {r.pairs_before} pair(s) before, {r.pairs_after} after; "
                     f"{r.pairs_changed} changed ({', '.join(kinds)})")
    return lines


def churn_summary(churn: pd.DataFrame, base_round_id: int, partnership: str | None) -> dict:
    """The churn as ``summary.json`` holds it: against which round, for whom, and per Partnership."""
    rows = [{k: (v if isinstance(v, str) else int(v)) for k, v in r.items()} for r in churn.to_dict("records")]
    return {"against_round": int(base_round_id), "partnership": partnership,
            "pairs_changed": int(churn["pairs_changed"].sum()) if len(churn) else 0,
            "pairs_changed_in_other_partnerships": churn_outside(churn, partnership) if len(churn) else 0,
            "by_partnership": rows, "in_words": describe_churn(churn)}


def write_churn(out_dir: Path, churn: pd.DataFrame, base_round_id: int, partnership: str | None) -> None:
    """Add the churn to a re-solve's ``summary.json`` (its officer's part), rewriting the output set as one.

    The other files of the set are kept byte for byte; the set is swapped in whole
    (:func:`matchmaker.proposals.output_set.write_output_set`), so a reader sees the set
    with or without the churn, never a mix.
    """
    summary = read_summary(out_dir)
    if summary is None:
        return
    tables = {name: (Path(out_dir) / name).read_bytes() for name in summary["output_set"]["files"]}
    summary = {k: v for k, v in summary.items() if k != "output_set"}
    part = summary["round"] if isinstance(summary.get("round"), dict) else summary
    part["churn"] = churn_summary(churn, base_round_id, partnership)
    write_output_set(out_dir, tables, summary)
