"""The scheme's rules, each a small named piece that says yes/no and why.

A :class:`Rule` answers for pairs with ``check(V, H, ctx)``. ``V`` and ``H`` map
attribute names to arrays that broadcast against each other (see
:mod:`matchmaker.rules.pair_arrays`): visitor attributes shaped ``(nb, 1)`` and host
attributes ``(1, nh)`` give a whole block, 1 x 1 arrays give one pair, and equal-length
1-D arrays give a list of pairs. ``explain(V, H, ctx)`` words the refusal of one pair.
:data:`RULES` lists them in the order they are reported (docs/decisions.md §19);
:func:`registration_checks` holds the same rules for one registration taken alone.

Applying the rules to a round (blocks, single pairs, counts) is
:mod:`matchmaker.constraints`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matchmaker.common.schema import ELIGIBLE_ORG_TYPES
from matchmaker.rules.pair_arrays import (
    Arrays,
    RuleContext,
    common_window,
    in_sorted,
    pair_modes,
    room,
    stay_bounds,
    to_dates,
    virtual_weeks,
)


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


# --- the sentences, shared by a pair's refusal and a registration's ---------------------

NOT_COSME = "does not take part in COSME (countries.csv, cosme = false)"
ELIGIBLE_TYPES = f"(eligible: {', '.join(ELIGIBLE_ORG_TYPES)})"
NOT_A_PARTNERSHIP = "is not a partnership of partnerships.csv"
ALREADY_VISITED = "already took part in a physical exchange (already_visited)"


def _virtual_closed(ctx: RuleContext, before: str) -> str:
    """Why no virtual exchange is possible: not allowed, or the cut-off comes ``before`` a day."""
    if not ctx.allow_virtual:
        return "virtual exchanges are not allowed (rules.allow_virtual = false)"
    return f"virtual exchanges end on {_date(ctx.virtual_until)} (rules.virtual_until), before {before}"


def _no_stay_length(longest: str, shortest: str, hi, lo, maxima: str, minima: str, ctx: RuleContext) -> str:
    """The longest acceptable stay is below the shortest: both, with the values they come from."""
    return (f"{longest}, {hi} working days ({maxima}, rules.max_working_days {ctx.max_working_days}), is below "
            f"{shortest}, {lo} ({minima}, rules.min_working_days {ctx.min_working_days})")


# --- the rules --------------------------------------------------------------------------

def _cosme(V, H, ctx):
    return V["cosme"] & H["cosme"]


def _cosme_why(V, H, ctx):
    return _failing_sides(V, H, "cosme", lambda who, s: f"{who} is in {_s(s['country_code'])}, which {NOT_COSME}")


def _different(V, H, ctx):
    return V["country"] != H["country"]


def _different_why(V, H, ctx):
    v, h = _who(V, H)
    return f"{v} and {h} are both in {_s(V['country_code'])}"


def _types(V, H, ctx):
    return V["type_ok"] & H["type_ok"]


def _types_why(V, H, ctx):
    return _failing_sides(V, H, "type_ok", lambda who, s: f"{who} has organisation type '{_s(s['org_type'])}' "
                          f"{ELIGIBLE_TYPES}")


def _partnership(V, H, ctx):
    return V["partnership_ok"] & H["partnership_ok"]


def _partnership_why(V, H, ctx):
    return _failing_sides(V, H, "partnership_ok", lambda who, s: f"{who} has partnership "
                          f"'{_s(s['partnership'])}', which {NOT_A_PARTNERSHIP}")


def _once(V, H, ctx):
    if not V["already_visited"].any():  # the usual case: nothing to compute on the block
        return np.ones(np.broadcast_shapes(np.shape(V["pos"]), np.shape(H["pos"])), dtype=bool)
    m = pair_modes(V, H, ctx)
    return ~(V["already_visited"] & m.both_physical & ~m.virtual_possible)


def _once_why(V, H, ctx):
    v, h = _who(V, H)
    return (f"{v} {ALREADY_VISITED} and the pair can only be "
            f"physical (visitor mode '{_s(V['mode'])}', host mode '{_s(H['mode'])}'{_virtual_note(V, H, ctx)})")


def _virtual_note(V, H, ctx) -> str:
    m = pair_modes(V, H, ctx)
    if not _s(m.both_virtual):
        return ""
    return "; " + _virtual_closed(ctx, f"the first day both are available, {_date(common_window(V, H)[0])}")


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
    return _no_stay_length("the longest stay both accept", "the shortest", _s(hi), _s(lo),
                           f"visitor max_days {_s(V['max_days'])}, host max_days {_s(H['max_days'])}",
                           f"visitor min_days {_s(V['min_days'])}, host min_days {_s(H['min_days'])}", ctx)


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
                f"exchanges end by {_date(ctx.virtual_until)}) holds {n} weeks, but a virtual exchange takes one "
                f"day a week, so the minimum stay of {_s(lo)} days needs {_s(lo)} weeks")
    return (f"the common window {_date(first)}..{_date(last)} ({windows}) has {n} working days, fewer than "
            f"the minimum stay of {_s(lo)} working days")


def _forbidden(V, H, ctx):
    if not in_sorted(V["pos"], ctx.forbidden_visitors).any():  # the usual case: nothing to look up
        return np.ones(np.broadcast_shapes(np.shape(V["pos"]), np.shape(H["pos"])), dtype=bool)
    return ~in_sorted(V["pos"] * ctx.n_hosts + H["pos"], ctx.forbidden)


def _forbidden_why(V, H, ctx):
    return f"the pair {_s(V['org_id'])} -> {_s(H['org_id'])} is forbidden by decisions.csv"


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


def registration_checks(S: Arrays, ctx: RuleContext) -> tuple[tuple[str, np.ndarray, Callable[[int], str]], ...]:
    """(rule, refused mask, reason(i)) for one role's registrations taken alone, in :data:`RULES` order."""
    d = _date
    lo = np.maximum(S["min_days"], ctx.min_working_days)
    hi = np.minimum(S["max_days"], ctx.max_working_days)
    can_physical = S["physical"] & ~S["already_visited"]
    can_virtual = S["virtual"] & ctx.allow_virtual & (S["start"] <= ctx.virtual_until)
    working = ctx.workdays.count(S["start"], S["end"])
    weeks = virtual_weeks(S["start"], S["end"], ctx)
    no_room = ~(can_physical & (working >= lo)) & ~(can_virtual & (weeks >= lo)) & (can_physical | can_virtual)

    def virtual_closed(i: int) -> str:
        return _virtual_closed(ctx, f"its window starts on {d(S['start'][i])}")

    def room_text(i: int) -> str:
        window = f"its window {d(S['start'][i])}..{d(S['end'][i])}"
        need = (f"its minimum stay of {lo[i]} days (max of min_days {S['min_days'][i]} and rules.min_working_days "
                f"{ctx.min_working_days})")
        cutoff = f" before the virtual cut-off {d(ctx.virtual_until)}" if ctx.virtual_until < S["end"][i] else ""
        if not can_virtual[i]:
            return f"{window} has {working[i]} working days, fewer than {need}"
        if not can_physical[i]:
            only = ("it already took part in a physical exchange (already_visited), so only a virtual exchange is "
                    "open to it" if S["already_visited"][i] else f"it accepts only virtual exchanges (mode "
                    f"'{S['mode'][i]}')")
            return (f"{only}, and a virtual exchange takes one day a week, so {need} needs {lo[i]} weeks: {window} "
                    f"holds only {weeks[i]} weeks{cutoff}")
        return (f"{window} has {working[i]} working days, fewer than {need}, and only {weeks[i]} weeks{cutoff}, "
                f"while a virtual exchange takes one day a week, so {lo[i]} days need {lo[i]} weeks")

    return (
        ("cosme_countries", ~S["cosme"], lambda i: f"country {S['country_code'][i]} {NOT_COSME}"),
        ("organisation_types", ~S["type_ok"],
         lambda i: f"organisation type '{S['org_type'][i]}' is not eligible {ELIGIBLE_TYPES}"),
        ("partnership_known", ~S["partnership_ok"],
         lambda i: f"partnership '{S['partnership'][i]}' {NOT_A_PARTNERSHIP}"),
        ("visitor_once", S["already_visited"] & ~can_virtual,
         lambda i: f"{ALREADY_VISITED} and "
                   + (f"accepts only physical exchanges (mode '{S['mode'][i]}')" if not S["virtual"][i]
                      else virtual_closed(i))),
        ("mode_compatible", ~S["physical"] & ~can_virtual,
         lambda i: f"accepts only virtual exchanges (mode '{S['mode'][i]}') and {virtual_closed(i)}"),
        ("duration_range", hi < lo,
         lambda i: _no_stay_length("its longest stay", "its shortest", hi[i], lo[i], f"max_days {S['max_days'][i]}",
                                   f"min_days {S['min_days'][i]}", ctx)),
        ("availability", no_room, room_text),
    )
