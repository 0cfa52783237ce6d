"""The scheme's rules, each a small named piece, vectorised over visitor x host blocks.

A :class:`Rule` says yes/no for pairs with ``check(V, H, ctx)``. ``V`` and ``H`` map
attribute names to arrays that broadcast against each other: visitor attributes shaped
``(nb, 1)`` and host attributes ``(1, nh)`` give a whole block, 1 x 1 arrays give one
pair, and equal-length 1-D arrays give a list of pairs. The same code therefore answers
for one pair (:func:`pair_refusals`) and for millions (:func:`eligible_block`).

The pair quantities follow docs/decisions.md: the mode (§4, §6), the length of the stay
(§5), the room in the availability windows (§2, §3, §11) and the lump sum (§8).
Registrations that cannot take part in any exchange are listed by
:func:`registration_refusals`; nothing is dropped from the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .instance import Round
from .lump_sum import lump_sum_eur
from .pair_arrays import (Arrays, RuleContext, common_window, distance_km, pair_dates, pair_modes, room,
                          rule_context, side_arrays, stay_bounds, take, to_dates)
from .schema import ELIGIBLE_ORG_TYPES

#: Visitors per block in the vectorised functions (memory ~ BLOCK x n_hosts numbers).
BLOCK = 500


@dataclass(frozen=True)
class Rule:
    """One rule of the scheme.

    Parameters
    ----------
    name : str
        Short name in the scheme's words (used in reports and ``unmatched.csv``).
    description : str
        The rule in one sentence.
    check : callable
        ``check(V, H, ctx) -> ndarray of bool``, True where the pair is allowed.
    explain : callable
        ``explain(V, H, ctx) -> str`` for ONE refused pair (1 x 1 arrays): a sentence
        naming the values.
    """

    name: str
    description: str
    check: Callable[[Arrays, Arrays, RuleContext], np.ndarray]
    explain: Callable[[Arrays, Arrays, RuleContext], str]


def _s(a) -> object:
    return np.asarray(a).flat[0]


def _who(V, H) -> tuple[str, str]:
    return f"visitor {_s(V['org_id'])}", f"host {_s(H['org_id'])}"


def _failing_sides(V, H, key, say) -> str:
    parts = [say(who, side) for who, side in zip(_who(V, H), (V, H)) if not _s(side[key])]
    return "; ".join(parts)


def _date(day) -> str:
    """ISO date of a day number."""
    return str(to_dates(_s(day)))


# --- the rules --------------------------------------------------------------------------

def _cosme(V, H, ctx):
    return V["cosme"] & H["cosme"]


def _cosme_why(V, H, ctx):
    return _failing_sides(V, H, "cosme", lambda who, s: f"{who} is in {_s(s['country_code'])}, "
                          "which does not take part in COSME (countries.csv, cosme = false)")


def _different(V, H, ctx):
    return V["country"] != H["country"]


def _different_why(V, H, ctx):
    v, h = _who(V, H)
    return f"{v} and {h} are both in {_s(V['country_code'])}"


def _types(V, H, ctx):
    return V["type_ok"] & H["type_ok"]


def _types_why(V, H, ctx):
    return _failing_sides(V, H, "type_ok", lambda who, s: f"{who} has organisation type "
                          f"'{_s(s['org_type'])}' (eligible: {', '.join(ELIGIBLE_ORG_TYPES)})")


def _partnership(V, H, ctx):
    return V["partnership_ok"] & H["partnership_ok"]


def _partnership_why(V, H, ctx):
    return _failing_sides(V, H, "partnership_ok", lambda who, s: f"{who} has partnership "
                          f"'{_s(s['partnership'])}', which is not a partnership of partnerships.csv")


def _once(V, H, ctx):
    if not V["already_visited"].any():  # the usual case: nothing to compute on the block
        return np.ones(np.broadcast_shapes(np.shape(V["pos"]), np.shape(H["pos"])), dtype=bool)
    m = pair_modes(V, H, ctx)
    return ~(V["already_visited"] & m.both_physical & ~m.virtual_possible)


def _once_why(V, H, ctx):
    v, h = _who(V, H)
    return (f"{v} already took part in a physical exchange (already_visited) and the pair can only be "
            f"physical (visitor mode '{_s(V['mode'])}', host mode '{_s(H['mode'])}'{_virtual_note(V, H, ctx)})")


def _virtual_note(V, H, ctx) -> str:
    m = pair_modes(V, H, ctx)
    if not _s(m.both_virtual):
        return ""
    if not ctx.allow_virtual:
        return "; virtual exchanges are not allowed (rules.allow_virtual = false)"
    return (f"; virtual exchanges end on {_date(ctx.virtual_until)} (rules.virtual_until), before the first "
            f"day both are available, {_date(common_window(V, H)[0])}")


def _mode(V, H, ctx):
    m = pair_modes(V, H, ctx)
    return m.both_physical | m.virtual_possible


def _mode_why(V, H, ctx):
    v, h = _who(V, H)
    return f"{v} accepts '{_s(V['mode'])}' and {h} accepts '{_s(H['mode'])}'{_virtual_note(V, H, ctx)}"


def _duration(V, H, ctx):
    lo, hi = stay_bounds(V, H, ctx)
    return lo <= hi


def _duration_why(V, H, ctx):
    lo, hi = stay_bounds(V, H, ctx)
    return (f"the longest stay both accept, {_s(hi)} working days (visitor max_days {_s(V['max_days'])}, "
            f"host max_days {_s(H['max_days'])}, rules.max_working_days {ctx.max_working_days}), is below "
            f"the shortest, {_s(lo)} (visitor min_days {_s(V['min_days'])}, host min_days "
            f"{_s(H['min_days'])}, rules.min_working_days {ctx.min_working_days})")


def _availability(V, H, ctx):
    lo, _ = stay_bounds(V, H, ctx)
    return room(V, H, ctx, pair_modes(V, H, ctx).virtual_candidate) >= lo


def _availability_why(V, H, ctx):
    lo, _ = stay_bounds(V, H, ctx)
    virtual = bool(_s(pair_modes(V, H, ctx).virtual_candidate))
    n = _s(room(V, H, ctx, virtual))
    first, last = (_s(d) for d in common_window(V, H))
    windows = f"visitor {_date(V['start'])}..{_date(V['end'])}, host {_date(H['start'])}..{_date(H['end'])}"
    if first > last:
        return f"the availability windows do not overlap ({windows})"
    if virtual:
        return (f"the common window {_date(first)}..{_date(min(last, ctx.virtual_until))} ({windows}; virtual "
                f"exchanges end by {_date(ctx.virtual_until)}) holds {n} weeks, room for a virtual exchange of "
                f"{n} days, fewer than the minimum stay of {_s(lo)} days")
    return (f"the common window {_date(first)}..{_date(last)} ({windows}) has {n} working days, fewer than "
            f"the minimum stay of {_s(lo)} working days")


def _forbidden(V, H, ctx):
    if not _in_sorted(V["pos"], ctx.forbidden_visitors).any():  # the usual case: nothing to look up
        return np.ones(np.broadcast_shapes(np.shape(V["pos"]), np.shape(H["pos"])), dtype=bool)
    return ~_in_sorted(V["pos"] * ctx.n_hosts + H["pos"], ctx.forbidden)


def _forbidden_why(V, H, ctx):
    return f"the pair {_s(V['org_id'])} -> {_s(H['org_id'])} is forbidden by decisions.csv"


def _in_sorted(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(codes, table)`` for a sorted ``table`` (binary search, any shape)."""
    codes = np.asarray(codes)
    if len(table) == 0:
        return np.zeros(codes.shape, dtype=bool)
    i = np.minimum(np.searchsorted(table, codes), len(table) - 1)
    return table[i] == codes


#: The rules, in the order they are reported.
RULES: tuple[Rule, ...] = (
    Rule("cosme_countries", "Both organisations are in countries taking part in COSME.", _cosme, _cosme_why),
    Rule("different_countries", "Visitor and host are in different countries.", _different, _different_why),
    Rule("organisation_types", f"Both organisation types are eligible ({', '.join(ELIGIBLE_ORG_TYPES)}).",
         _types, _types_why),
    Rule("partnership_known", "Both registrations have a partnership of partnerships.csv (resolved if 'auto').",
         _partnership, _partnership_why),
    Rule("visitor_once", "A visitor that already visited takes no other physical exchange (decisions §6).",
         _once, _once_why),
    Rule("mode_compatible", "Both accept physical, or both accept virtual while virtual exchanges are allowed "
         "and not past rules.virtual_until (decisions §3-4).", _mode, _mode_why),
    Rule("duration_range", "The stay lengths both sides and the rules accept overlap (decisions §5).",
         _duration, _duration_why),
    Rule("availability", "The common availability window (and, for virtual, the cut-off) leaves room for "
         "the minimum stay (decisions §2-3, §11).", _availability, _availability_why),
    Rule("not_forbidden", "The pair is not forbidden by decisions.csv.", _forbidden, _forbidden_why),
)
RULE_NAMES = tuple(r.name for r in RULES)


# --- public functions ---------------------------------------------------------------------

def _grid(side: Arrays, idx: np.ndarray | None, axis: int) -> dict:
    shape = (-1, 1) if axis == 0 else (1, -1)
    return {k: (a if idx is None else a[idx]).reshape(shape) for k, a in side.items()}


def _timestamps(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``datetime64[s]`` (what pandas stores without converting)."""
    return (days.astype(np.int64) * 86400).view("datetime64[s]")


#: Attributes gathered per allowed pair to compute its quantities.
_PAIR_KEYS = ("start", "end", "max_days", "physical", "virtual", "already_visited", "x", "y", "z")


@dataclass(frozen=True, eq=False)
class RoundRules:
    """The rules bound to one round's arrays (computed once; the round must not change).

    :func:`eligible_block`, :func:`pair_refusals` and :func:`refusal_counts` build one
    per call; callers looping over blocks or many single pairs can build it once with
    :func:`round_rules` and call its methods of the same names.
    """

    rnd: Round
    ctx: RuleContext
    visitors: dict
    hosts: dict

    def _positions(self, v_positions) -> np.ndarray:
        pos = np.asarray(v_positions, dtype=np.int64).ravel()
        bad = (pos < 0) | (pos >= self.rnd.n_visitors)
        if bad.any():
            raise IndexError(f"visitor position {pos[bad][0]} is outside 0..{self.rnd.n_visitors - 1}")
        return pos

    def _blocks(self, pos: np.ndarray):
        """(offset, visitor positions, V grid, H grid) per block; one empty block if no visitors."""
        H = _grid(self.hosts, None, 1)
        for i in range(0, max(len(pos), 1), BLOCK):
            block = pos[i:i + BLOCK]
            yield i, block, _grid(self.visitors, block, 0), H

    def eligible_block(self, v_positions) -> pd.DataFrame:
        """See :func:`eligible_block`."""
        parts = [self._allowed_pairs(block, V, H) for _, block, V, H in self._blocks(self._positions(v_positions))]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def _allowed_pairs(self, block: np.ndarray, V: dict, H: dict) -> pd.DataFrame:
        ctx = self.ctx
        ok = np.ones((len(block), self.rnd.n_hosts), dtype=bool)
        for rule in RULES:
            ok &= rule.check(V, H, ctx)
        bi, hi = np.nonzero(ok)
        vi = block[bi]
        Vp, Hp = take(self.visitors, vi, _PAIR_KEYS), take(self.hosts, hi, _PAIR_KEYS + ("threshold",))
        virtual = pair_modes(Vp, Hp, ctx).virtual_mode
        longest = np.minimum(np.minimum(Vp["max_days"], ctx.max_working_days), Hp["max_days"])
        days = np.minimum(longest, room(Vp, Hp, ctx, virtual))
        earliest, latest = pair_dates(Vp, Hp, ctx, virtual, days)
        dist = distance_km(Vp, Hp)
        return pd.DataFrame({
            "v": vi.astype(np.int32),
            "h": hi.astype(np.int32),
            "mode": pd.Categorical.from_codes(virtual.astype(np.int8), categories=["physical", "virtual"]),
            "working_days": days.astype(np.int16),
            "earliest_start": _timestamps(earliest),
            "latest_start": _timestamps(latest),
            "distance_km": dist.astype(np.float64),
            "lump_sum_eur": lump_sum_eur(Hp["threshold"], days, dist, virtual, self.rnd.settings),
            "partnership": pd.Categorical.from_codes(self.visitors["partnership_code"][vi],
                                                     categories=list(self.rnd.partnerships.index)),
            "locked": _in_sorted(vi * ctx.n_hosts + hi, ctx.locked),
        })

    def pair_refusals(self, v: int, h: int) -> list[tuple[str, str]]:
        """See :func:`pair_refusals`."""
        self._positions([v])
        if not 0 <= int(h) < self.rnd.n_hosts:
            raise IndexError(f"host position {h} is outside 0..{self.rnd.n_hosts - 1}")
        V, H = _grid(self.visitors, np.array([v]), 0), _grid(self.hosts, np.array([h]), 1)
        return [(r.name, r.explain(V, H, self.ctx)) for r in RULES if not bool(_s(r.check(V, H, self.ctx)))]

    def refusal_counts(self, v_positions) -> pd.DataFrame:
        """See :func:`refusal_counts`."""
        pos = self._positions(v_positions)
        counts = np.zeros((len(pos), len(RULES)), dtype=np.int64)
        eligible = np.zeros(len(pos), dtype=np.int64)
        for i, block, V, H in self._blocks(pos):
            ok = np.ones((len(block), self.rnd.n_hosts), dtype=bool)
            for j, rule in enumerate(RULES):
                passed = np.broadcast_to(rule.check(V, H, self.ctx), ok.shape)
                counts[i:i + len(block), j] = (~passed).sum(axis=1)
                ok &= passed
            eligible[i:i + len(block)] = ok.sum(axis=1)
        out = pd.DataFrame(counts, columns=list(RULE_NAMES))
        out.insert(0, "v", pos.astype(np.int32))
        out.insert(1, "org_id", self.visitors["org_id"][pos])
        out["eligible_hosts"] = eligible
        return out


def round_rules(rnd: Round) -> RoundRules:
    """:class:`RoundRules` of a round."""
    return RoundRules(rnd, rule_context(rnd), side_arrays(rnd, "visitor"), side_arrays(rnd, "host"))


def eligible_block(rnd: Round, v_positions) -> pd.DataFrame:
    """Allowed pairs of a block of visitors against all hosts, with their quantities.

    Parameters
    ----------
    rnd : Round
    v_positions : array_like of int
        Visitor positions in ``rnd.visitors``; processed internally in blocks of
        :data:`BLOCK`, so memory stays about ``BLOCK x n_hosts`` numbers plus the result.

    Returns
    -------
    DataFrame
        One row per allowed pair, sorted by visitor (in the order given) then host:
        ``v``, ``h`` (int32), ``mode`` (categorical 'physical'/'virtual', decisions §4),
        ``working_days`` (int16, decisions §5), ``earliest_start``, ``latest_start``
        (datetime64; physical: working days), ``distance_km``, ``lump_sum_eur``
        (float64), ``partnership`` (categorical of the round's partnership ids: the
        visitor's, which pays), ``locked`` (bool).
    """
    return round_rules(rnd).eligible_block(v_positions)


def pair_refusals(rnd: Round, v: int, h: int) -> list[tuple[str, str]]:
    """Every rule refusing the pair (visitor position ``v``, host position ``h``).

    For many pairs of the same round use ``round_rules(rnd).pair_refusals(v, h)``.

    Returns
    -------
    list of (rule name, sentence naming the values), in :data:`RULES` order; empty when
    the pair is allowed, e.g. ``[("different_countries", "visitor ORG-1 and host ORG-9
    are both in PT")]``.
    """
    return round_rules(rnd).pair_refusals(v, h)


def refusal_counts(rnd: Round, v_positions) -> pd.DataFrame:
    """How many hosts each rule refuses, per visitor (vectorised, in blocks).

    Returns
    -------
    DataFrame
        One row per requested visitor: ``v``, ``org_id``, one int column per rule
        (hosts that rule refuses; a host refused by several rules counts in each) and
        ``eligible_hosts`` (hosts no rule refuses).
    """
    return round_rules(rnd).refusal_counts(v_positions)


def locked_refusals(rnd: Round) -> pd.DataFrame:
    """Locked pairs (decisions.csv ``lock``) that a rule refuses: the round cannot honour them.

    Returns
    -------
    DataFrame with columns ``visitor_id``, ``host_id``, ``rule``, ``reason``.
    """
    rows, rules = [], round_rules(rnd)
    for v, h in zip(*rnd.pair_decisions("lock")):
        for rule, reason in rules.pair_refusals(int(v), int(h)):
            rows.append((rnd.visitors["org_id"].iloc[v], rnd.hosts["org_id"].iloc[h], rule, reason))
    return pd.DataFrame(rows, columns=["visitor_id", "host_id", "rule", "reason"])


def registration_refusals(rnd: Round) -> pd.DataFrame:
    """Registrations that cannot take part in any exchange by themselves.

    They stay in the round (nothing is dropped); every pair with them is refused by
    :data:`RULES`, so this is a summary for the user, not a filter.

    Returns
    -------
    DataFrame with columns ``role``, ``org_id``, ``name``, ``source_row``, ``rule``,
    ``reason`` (one row per registration and rule).
    """
    ctx = rule_context(rnd)
    rows = []
    for role, df in (("visitor", rnd.visitors), ("host", rnd.hosts)):
        S = side_arrays(rnd, role)
        for name, refused, why in _registration_checks(S, ctx):
            for i in np.flatnonzero(refused):
                source_row = df["source_row"].iloc[i] if "source_row" in df else pd.NA
                rows.append((role, S["org_id"][i], df["name"].iloc[i], source_row, name, why(i)))
    out = pd.DataFrame(rows, columns=["role", "org_id", "name", "source_row", "rule", "reason"])
    return out.sort_values(["role", "source_row", "rule"], ignore_index=True, kind="stable") if len(out) else out


def _registration_checks(S: Arrays, ctx: RuleContext):
    """(rule, refused mask, reason(i)) for one role's registrations taken alone."""
    d = _date
    lo = np.maximum(S["min_days"], ctx.min_working_days)
    hi = np.minimum(S["max_days"], ctx.max_working_days)
    can_physical = S["physical"] & ~S["already_visited"]
    can_virtual = S["virtual"] & ctx.allow_virtual & (S["start"] <= ctx.virtual_until)
    working = ctx.workdays.count(S["start"], S["end"])
    weeks = np.maximum(np.minimum(S["end"], ctx.virtual_until) - S["start"] + 1, 0) // 7
    no_room = ~(can_physical & (working >= lo)) & ~(can_virtual & (weeks >= lo)) & (can_physical | can_virtual)

    def virtual_closed(i) -> str:
        if not ctx.allow_virtual:
            return "virtual exchanges are not allowed (rules.allow_virtual = false)"
        return (f"virtual exchanges end on {d(ctx.virtual_until)} (rules.virtual_until), before its window "
                f"starts on {d(S['start'][i])}")

    def room_text(i) -> str:
        parts = []
        if can_physical[i]:
            parts.append(f"{working[i]} working days")
        if can_virtual[i]:
            parts.append(f"{weeks[i]} weeks before the virtual cut-off {d(ctx.virtual_until)}")
        return (f"its window {d(S['start'][i])}..{d(S['end'][i])} has {' and '.join(parts)}, fewer than its "
                f"minimum stay of {lo[i]} days (max of min_days {S['min_days'][i]} and rules.min_working_days "
                f"{ctx.min_working_days})")

    return (
        ("cosme_countries", ~S["cosme"],
         lambda i: f"country {S['country_code'][i]} does not take part in COSME (countries.csv, cosme = false)"),
        ("organisation_types", ~S["type_ok"],
         lambda i: f"organisation type '{S['org_type'][i]}' is not eligible "
                   f"(eligible: {', '.join(ELIGIBLE_ORG_TYPES)})"),
        ("partnership_known", ~S["partnership_ok"],
         lambda i: f"partnership '{S['partnership'][i]}' is not a partnership of partnerships.csv"),
        ("visitor_once", S["already_visited"] & ~can_virtual,
         lambda i: "already took part in a physical exchange (already_visited) and "
                   + (f"accepts only physical exchanges (mode '{S['mode'][i]}')" if not S["virtual"][i]
                      else virtual_closed(i))),
        ("mode_compatible", ~S["physical"] & ~can_virtual,
         lambda i: f"accepts only virtual exchanges (mode '{S['mode'][i]}') and {virtual_closed(i)}"),
        ("duration_range", hi < lo,
         lambda i: f"its longest stay, {hi[i]} working days (max_days {S['max_days'][i]}, rules.max_working_days "
                   f"{ctx.max_working_days}), is below its shortest, {lo[i]} (min_days {S['min_days'][i]}, "
                   f"rules.min_working_days {ctx.min_working_days})"),
        ("availability", no_room, room_text),
    )
