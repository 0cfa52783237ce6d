"""Independent check of a proposals file: the specification of a valid round.

What it shares with the rest of the package, and what it does not:

* It shares the scheme's rule pieces (:data:`matchmaker.rules.pieces.RULES`, applied to
  one pair at a time through :func:`matchmaker.constraints.round_rules`) for whether a
  pair may be proposed at all (countries, organisation types, partnerships, modes, stay
  lengths, availability, forbidden pairs), the working-day calendar
  (:mod:`matchmaker.common.workdays`), the great-circle distance, and the proposals'
  column specification (:mod:`matchmaker.proposals.spec`, through the reader).
* It calls no solver, catalogue or scoring code (no score pruning by ``top_k`` or
  ``max_pairs``, no start-date windows) and not :mod:`matchmaker.rules.lump_sum`.
  Everything else is recomputed with plain scalar code straight from docs/decisions.md
  (proposals are at most thousands of rows): the mode (§4, §6), the length of the stay
  (§5), the dates (§2, §3, §11), the host's capacity per calendar day and
  ``max_visitors`` (§3, §7), the lump sum (§8), the partnerships' and the programme's
  budgets, ``min_score`` and the score columns' sum, and the decisions (lock, forbid).

A bug in a rule piece is therefore not caught here; a bug in the solver, the catalogue,
the schedule or the lump sums is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker.common.errors import RoundDataError, rows_text
from matchmaker.common.geo import great_circle_km
from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.common.workdays import busdaycal, count_working_days
from matchmaker.constraints import round_rules
from matchmaker.inputs.instance import Round
from matchmaker.proposals.reading import read_proposals, typed_proposals

CENT = 0.01
DISTANCE_TOLERANCE_KM = 0.5


@dataclass(frozen=True)
class Violation:
    """One broken rule in a proposals file.

    ``row`` is the file's row number as a spreadsheet shows it (header = row 1), or
    ``None`` for a rule about the whole round (budgets, locked pairs, capacity).
    """

    rule: str
    row: int | None
    visitor_id: str
    host_id: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "round"
        if self.visitor_id or self.host_id:
            where += f" ({self.visitor_id or '?'} -> {self.host_id or '?'})"
        return f"{where}: {self.rule}: {self.message}"


def check_proposals_file(rnd: Round, path: str | Path) -> list[Violation]:
    """Every rule a proposals file breaks; an unreadable file gives one violation per problem."""
    try:
        table = read_proposals(path)
    except RoundDataError as exc:
        return [Violation("proposals_file", p.row, "", "", _problem_text(p)) for p in exc.problems]
    return check_proposals(rnd, table)


def _problem_text(p) -> str:
    """A reading problem in words, without its row (the violation names it)."""
    where = p.file + (f", column '{p.column}'" if p.column else "")
    value = f" value {p.value!r}:" if p.value or p.column else ""
    return f"{where}:{value} {p.rule}"


def check_proposals(rnd: Round, proposals_df: pd.DataFrame) -> list[Violation]:
    """Every rule of the scheme the proposals break (empty list: a valid round).

    Parameters
    ----------
    rnd : Round
    proposals_df : DataFrame
        From :func:`read_proposals`, or any table with the proposals columns (it is
        typed and checked the same way; ``row`` defaults to the spreadsheet row).
    """
    return _Checker(rnd).run(typed_proposals(proposals_df))


def objective_value(proposals_df: pd.DataFrame) -> float:
    """Total score of the proposals (the solver's objective ``score``)."""
    if "score" not in proposals_df:
        raise ValueError("proposals: no 'score' column, so the objective cannot be recomputed")
    score = pd.to_numeric(proposals_df["score"], errors="coerce")
    if score.isna().any():
        i = int(np.flatnonzero(score.isna().to_numpy())[0])
        value = proposals_df["score"].iloc[i]
        raise ValueError(f"proposals, row {i + 2}, column 'score': value {value!r} is not a number")
    return float(score.sum())


def _cents(x: float) -> float:
    return float(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _day(ts) -> np.datetime64:
    return np.datetime64(pd.Timestamp(ts).date(), "D")


class _Checker:
    """The scalar re-computation behind :func:`check_proposals`."""

    def __init__(self, rnd: Round):
        self.rnd = rnd
        self.r = rnd.settings["rules"]
        self.ls = rnd.settings["lump_sum"]
        self.cal = busdaycal(self.r["holidays"])
        cut = self.r["virtual_until"]
        self.cutoff = None if cut is None else np.datetime64(cut, "D")
        self.rules = round_rules(rnd)
        self.vindex, self.hindex = rnd.visitor_index(), rnd.host_index()
        self.visitors = rnd.visitors.to_dict("records")
        self.hosts = rnd.hosts.to_dict("records")
        d = rnd.decisions
        self.locks = {(a, b): row for a, b, k, row in zip(d["visitor_id"], d["host_id"], d["decision"],
                                                           d.get("source_row", pd.Series([None] * len(d))))
                      if k == "lock"}
        self.out: list[Violation] = []

    def add(self, rule, row, v, h, message):
        self.out.append(Violation(rule, None if row is None else int(row), v, h, message))

    def run(self, table: pd.DataFrame) -> list[Violation]:
        first_row, charged, physical_days, per_host = {}, defaultdict(float), defaultdict(list), defaultdict(list)
        for p in table.to_dict("records"):
            vid, hid, row = p["visitor_id"], p["host_id"], p["row"]
            if vid not in self.vindex:
                self.add("unknown_visitor", row, vid, hid, f"visitor_id {vid!r} is not a visitor of the round")
            if hid not in self.hindex:
                self.add("unknown_host", row, vid, hid, f"host_id {hid!r} is not a host of the round")
            if vid not in self.vindex or hid not in self.hindex:
                continue
            if vid in first_row:
                self.add("visitor_matched_twice", row, vid, hid, f"visitor {vid} is already proposed in row "
                         f"{first_row[vid]}; a visitor takes part in one exchange per round")
            first_row.setdefault(vid, row)
            v, h = self.vindex[vid], self.hindex[hid]
            V, H = self.visitors[v], self.hosts[h]
            for rule, reason in self.rules.pair_refusals(v, h):
                self.add(rule, row, vid, hid, reason)
            self.check_mode_and_stay(p, V, H)
            start, end = self.check_dates(p, V, H)
            amount = self.check_money(p, V, H)
            self.check_optional(p, V, H)
            charged[V.get("partnership")] += amount
            per_host[h].append(row)
            if p["mode"] == "physical" and start is not None:
                physical_days[h] += [(d, row) for d in np.arange(start, end + 1)]
        self.check_hosts(per_host, physical_days)
        self.check_budgets(charged)
        proposed = set(zip(table["visitor_id"], table["host_id"]))
        for (vid, hid), source_row in self.locks.items():
            if (vid, hid) not in proposed:
                self.add("locked_pair_missing", None, vid, hid,
                         f"the pair is locked in decisions.csv (row {source_row}) but not proposed")
        return self.out

    # ---- one proposal ----

    def expected_mode(self, V, H) -> str | None:
        """decisions §4 and §6, or None when no mode is possible."""
        visited = V.get("already_visited") in (True, 1)
        if V["mode"] in ("physical", "either") and H["mode"] in ("physical", "either") and not visited:
            return "physical"
        first = max(_day(V["available_from"]), _day(H["available_from"]))
        if (V["mode"] in ("virtual", "either") and H["mode"] in ("virtual", "either") and self.r["allow_virtual"]
                and (self.cutoff is None or first <= self.cutoff)):
            return "virtual"
        return None

    def check_mode_and_stay(self, p, V, H):
        vid, hid, row = p["visitor_id"], p["host_id"], p["row"]
        mode = self.expected_mode(V, H)
        if mode is None:
            return  # the pair is refused (mode_compatible / visitor_once reported)
        if p["mode"] != mode:
            visited = V.get("already_visited") in (True, 1)
            self.add("mode", row, vid, hid, f"mode is '{p['mode']}' but decisions §4 gives '{mode}' (visitor mode "
                     f"'{V['mode']}', already_visited {visited}; host mode '{H['mode']}')")
        first = max(_day(V["available_from"]), _day(H["available_from"]))
        last = min(_day(V["available_to"]), _day(H["available_to"]))
        if mode == "physical":
            room = int(count_working_days(first, last, self.cal))
        else:
            end = last if self.cutoff is None else min(last, self.cutoff)
            room = max(int((end - first).astype(int)) + 1, 0) // 7
        longest = min(int(V["max_days"]), int(H["max_days"]), self.r["max_working_days"], room)
        shortest = max(int(V["min_days"]), int(H["min_days"]), self.r["min_working_days"])
        if longest >= shortest and p["working_days"] != longest:
            self.add("working_days", row, vid, hid, f"working_days is {p['working_days']} but decisions §5 gives "
                     f"{longest}: the least of visitor max_days {V['max_days']}, host max_days {H['max_days']}, "
                     f"rules.max_working_days {self.r['max_working_days']} and the room in both windows ({room})")

    def check_dates(self, p, V, H):
        """Dates consistent with mode and working days, inside both windows; (start, end) days."""
        vid, hid, row, days = p["visitor_id"], p["host_id"], p["row"], int(p["working_days"])
        start, end = _day(p["start_date"]), _day(p["end_date"])
        if end < start:
            self.add("dates", row, vid, hid, f"end_date {end} is before start_date {start}")
            return None, None
        if p["mode"] == "physical":
            if not np.is_busday(start, busdaycal=self.cal):
                self.add("dates", row, vid, hid, f"start_date {start} is not a working day (weekend or rules.holidays)")
            if not np.is_busday(end, busdaycal=self.cal):
                self.add("dates", row, vid, hid, f"end_date {end} is not a working day (weekend or rules.holidays)")
            n = int(count_working_days(start, end, self.cal))
            if n != days:
                self.add("dates", row, vid, hid,
                         f"the stay {start}..{end} has {n} working days, not working_days {days}")
        else:
            if end != start + np.timedelta64(7 * days - 1, "D"):
                self.add("dates", row, vid, hid, f"a virtual exchange of {days} days spans {7 * days} calendar days: "
                         f"end_date should be {start + np.timedelta64(7 * days - 1, 'D')}, not {end}")
            if self.cutoff is not None and end > self.cutoff:
                self.add("virtual_cutoff", row, vid, hid, f"the virtual exchange ends on {end}, after the cut-off "
                         f"{self.cutoff} (rules.virtual_until)")
        for who, R in (("visitor", V), ("host", H)):
            lo, hi = _day(R["available_from"]), _day(R["available_to"])
            if start < lo or end > hi:
                self.add("outside_window", row, vid, hid, f"the exchange {start}..{end} is outside the {who}'s "
                         f"availability {lo}..{hi}")
        return start, end

    def lump_sum(self, mode: str, days: int, km: float, country: str) -> tuple[float, str]:
        """decisions §8, by hand: the amount and how it is obtained."""
        if mode == "virtual":
            return 0.0, "virtual: no lump sum"
        countries = self.rnd.countries
        threshold = float(countries.loc[country, "lump_sum_eur"]) if country in countries.index else float("nan")
        if np.isnan(threshold):
            return float("nan"), f"no threshold for {country}"
        short = days < self.ls["full_from_working_days"] or km < self.ls["full_from_km"]
        factor = self.ls["reduction_factor"] if short else 1.0
        return _cents(threshold * factor), (f"{country} threshold {threshold:.2f} x {factor:g}; {days} working days, "
                                            f"{km:.1f} km")

    def check_money(self, p, V, H) -> float:
        vid, hid, row = p["visitor_id"], p["host_id"], p["row"]
        km = float(great_circle_km(V["latitude"], V["longitude"], H["latitude"], H["longitude"]))
        amount, how = self.lump_sum(p["mode"], int(p["working_days"]), km, H["country"])
        if not np.isnan(amount) and abs(p["lump_sum_eur"] - amount) > CENT + 1e-9:
            self.add("lump_sum", row, vid, hid, f"lump_sum_eur is {p['lump_sum_eur']:.2f} but decisions §8 gives "
                     f"{amount:.2f} ({how})")
        if p["partnership"] != V.get("partnership"):
            self.add("partnership", row, vid, hid, f"partnership is {p['partnership']!r} but the visitor's "
                     f"(paying) partnership is {V.get('partnership')!r}")
        if "distance_km" in p and not np.isnan(p["distance_km"]) and abs(p["distance_km"] - km) > DISTANCE_TOLERANCE_KM:
            self.add("distance_km", row, vid, hid, f"distance_km is {p['distance_km']:.1f} but the great-circle "
                     f"distance is {km:.1f} km")
        return 0.0 if np.isnan(amount) else amount

    def check_optional(self, p, V, H):
        vid, hid, row = p["visitor_id"], p["host_id"], p["row"]
        for col, value in (("visitor_name", V["name"]), ("visitor_country", V["country"]),
                           ("host_name", H["name"]), ("host_country", H["country"])):
            if col in p and p[col] != str(value):
                self.add("registration_field", row, vid, hid,
                         f"{col} is {p[col]!r} but the registration says {value!r}")
        if "locked" in p and p["locked"] != ((vid, hid) in self.locks):
            self.add("locked_flag", row, vid, hid, f"locked is {p['locked']} but the pair is "
                     f"{'' if (vid, hid) in self.locks else 'not '}locked in decisions.csv")
        score = p.get("score", np.nan)
        if np.isnan(score):
            return
        min_score = self.rnd.settings["scoring"]["options"]["min_score"]
        if score + CENT / 2 < min_score:  # the score is written to a hundredth: below only if surely below
            self.add("min_score", row, vid, hid, f"score {score:.2f} is below scoring.options.min_score {min_score:g}")
        parts = [p[c] for c in p if c.startswith(SCORE_PREFIX)]
        if parts and not any(np.isnan(parts)) and abs(sum(parts) - score) > CENT:
            self.add("score_parts", row, vid, hid, f"the score_<criterion> columns add up to {sum(parts):.2f}, "
                     f"not score {score:.2f}")

    # ---- the round as a whole ----

    def check_hosts(self, per_host, physical_days):
        for h, rows in per_host.items():
            H = self.hosts[h]
            if len(rows) > int(H["max_visitors"]):
                self.add("host_max_visitors", None, "", H["org_id"], f"host {H['org_id']} has {len(rows)} "
                         f"exchanges (rows {rows_text(rows)}), more than its max_visitors {int(H['max_visitors'])}")
        for h, day_rows in physical_days.items():
            H = self.hosts[h]
            on_site = Counter(d for d, _ in day_rows)
            over = sorted(d for d, n in on_site.items() if n > int(H["capacity"]))
            if over:
                rows = sorted({r for d, r in day_rows if d in set(over)})
                self.add("host_capacity", None, "", H["org_id"], f"host {H['org_id']} has {on_site[over[0]]} "
                         f"visitors on site on {over[0]} ({len(over)} day(s) over capacity, rows {rows_text(rows)}), "
                         f"more than its capacity {int(H['capacity'])}")

    def check_budgets(self, charged):
        budgets = self.rnd.partnerships["budget_eur"]
        for pid, total in sorted(charged.items(), key=lambda kv: str(kv[0])):
            if pid in budgets.index and total > float(budgets[pid]) + 0.005:
                self.add("partnership_budget", None, "", "", f"partnership {pid}: lump sums total EUR {total:.2f}, "
                         f"over its budget_eur {float(budgets[pid]):.2f}")
        limit = float(self.rnd.settings["solver"]["programme_budget_eur"])
        total = sum(charged.values())
        if limit > 0 and total > limit + 0.005:
            self.add("programme_budget", None, "", "", f"lump sums total EUR {total:.2f}, over "
                     f"solver.programme_budget_eur {limit:.2f}")

