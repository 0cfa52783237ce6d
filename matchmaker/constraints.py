"""The scheme's rules applied to a round, vectorised over visitor x host blocks.

The rules themselves, each a small named piece, are in :mod:`matchmaker.rules.pieces`
(:data:`RULES`, re-exported here); this module binds them to a round's arrays
(:func:`round_rules`) and answers for one pair (:func:`pair_refusals`), for millions
(:func:`eligible_block`), per visitor (:func:`refusal_counts`), for the locked pairs
(:func:`locked_refusals`, and with the solver's checks of the locks taken together:
:func:`lock_problems`) and for registrations taken alone (:func:`registration_refusals`).
The same rule code serves all of them.

The pair quantities follow docs/decisions.md: the mode (§4, §6), the length of the stay
(§5), the room in the availability windows (§2, §3, §11) and the lump sum (§8).
Registrations that cannot take part in any exchange are listed by
:func:`registration_refusals`; nothing is dropped from the round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from matchmaker.common.errors import Problem
from matchmaker.inputs.instance import Round
from matchmaker.rules.lump_sum import lump_sum_eur
from matchmaker.rules.pair_arrays import (
    Arrays,
    RuleContext,
    distance_km,
    in_sorted,
    pair_dates,
    pair_modes,
    room,
    rule_context,
    side_arrays,
    take,
)
from matchmaker.rules.pieces import RULE_NAMES, RULES, registration_checks

#: Visitors per block in the vectorised functions (memory ~ BLOCK x n_hosts numbers).
BLOCK = 500


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

    def eligible_block(self, v_positions: npt.ArrayLike) -> pd.DataFrame:
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
            "locked": in_sorted(vi * ctx.n_hosts + hi, ctx.locked),
        })

    def pair_refusals(self, v: int, h: int) -> list[tuple[str, str]]:
        """See :func:`pair_refusals`."""
        self._positions([v])
        if not 0 <= int(h) < self.rnd.n_hosts:
            raise IndexError(f"host position {h} is outside 0..{self.rnd.n_hosts - 1}")
        V, H = _grid(self.visitors, np.array([v]), 0), _grid(self.hosts, np.array([h]), 1)
        return [(r.name, r.explain(V, H, self.ctx)) for r in RULES if not np.asarray(r.check(V, H, self.ctx)).flat[0]]

    def refusal_counts(self, v_positions: npt.ArrayLike) -> pd.DataFrame:
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


def eligible_block(rnd: Round, v_positions: npt.ArrayLike) -> pd.DataFrame:
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


def refusal_counts(rnd: Round, v_positions: npt.ArrayLike) -> pd.DataFrame:
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
        for name, refused, why in registration_checks(S, ctx):
            for i in np.flatnonzero(refused):
                source_row = df["source_row"].iloc[i] if "source_row" in df else pd.NA
                rows.append((role, S["org_id"][i], df["name"].iloc[i], source_row, name, why(i)))
    out = pd.DataFrame(rows, columns=["role", "org_id", "name", "source_row", "rule", "reason"])
    return out.sort_values(["role", "source_row", "rule"], ignore_index=True, kind="stable") if len(out) else out


def _cents(euros: npt.ArrayLike, rounding=np.rint) -> np.ndarray:
    """EUR amounts as int64 cents, rounded as the solver's instance rounds them (lump sums: nearest)."""
    return rounding(np.asarray(euros, dtype=float) * 100 + (1e-6 if rounding is np.floor else 0)).astype(np.int64)


def lock_problems(rnd: Round) -> list[Problem]:
    """The locks of decisions.csv that the round cannot honour, as decisions.csv problems.

    What ``solve`` refuses before it starts, found without the solver: a rule refusing a
    locked pair (:func:`locked_refusals`); among the other locks (those the solver sees), a
    visitor locked to several hosts, a host locked to more visitors than its
    ``max_visitors``, locked lump sums over a partnership's budget or over the programme
    budget (``solver.programme_budget_eur``), in cents as the solver counts them. Not
    checked here: whether a host's locked physical stays fit its ``capacity`` day by day
    (a scheduling problem that ``solve`` decides).
    """
    d = rnd.decisions[rnd.decisions["decision"] == "lock"].reset_index(drop=True)
    if not len(d):
        return []
    vi, hi, rules = rnd.visitor_index(), rnd.host_index(), round_rules(rnd)
    v = np.array([vi[x] for x in d["visitor_id"]], dtype=np.int64)
    h = np.array([hi[x] for x in d["host_id"]], dtype=np.int64)
    row = d["source_row"].to_numpy(dtype=np.int64)
    problems, ok = [], np.ones(len(d), dtype=bool)
    for k in range(len(d)):
        for rule, reason in rules.pair_refusals(int(v[k]), int(h[k])):
            ok[k] = False
            problems.append(Problem("decisions.csv", int(row[k]), "host_id", d.at[k, "host_id"],
                                    f"locked pair {d.at[k, 'visitor_id']} -> {d.at[k, 'host_id']} is refused by rule "
                                    f"{rule}: {reason}; remove the lock or fix the registrations"))
    d, v, h, row = d[ok].reset_index(drop=True), v[ok], h[ok], row[ok]
    for vid, g in d.groupby("visitor_id", sort=False):
        if len(g) > 1:
            problems.append(Problem("decisions.csv", int(row[g.index[1]]), "visitor_id", vid,
                                    f"visitor {vid} is locked to {len(g)} hosts ({', '.join(g['host_id'])}); a "
                                    "visitor takes part in at most one exchange: keep one lock"))
    most = rnd.hosts["max_visitors"].fillna(1).to_numpy(np.int64)
    for hid, g in d.groupby("host_id", sort=False):
        if len(g) > most[hi[hid]]:
            problems.append(Problem("decisions.csv", int(row[g.index[-1]]), "host_id", hid,
                                    f"host {hid} is locked to {len(g)} visitors ({', '.join(g['visitor_id'])}) but "
                                    f"its max_visitors is {most[hi[hid]]}: remove locks or raise max_visitors"))
    return problems + _lock_budget_problems(rnd, v, h, row)


def _lock_budget_problems(rnd: Round, v: np.ndarray, h: np.ndarray, row: np.ndarray) -> list[Problem]:
    """Locked lump sums over a partnership's budget or the programme budget (see :func:`lock_problems`)."""
    if not len(v):
        return []
    pairs = round_rules(rnd).eligible_block(np.unique(v))
    key = pd.MultiIndex.from_arrays([pairs["v"].to_numpy(np.int64), pairs["h"].to_numpy(np.int64)])
    at = key.get_indexer(pd.MultiIndex.from_arrays([v, h]))
    cost = _cents(pairs["lump_sum_eur"].to_numpy()[at])
    part = pairs["partnership"].astype(str).to_numpy()[at]
    budget = dict(zip(rnd.partnerships.index, _cents(rnd.partnerships["budget_eur"], np.floor)))
    out = []
    for pid in dict.fromkeys(part):
        spend = cost[part == pid].sum()
        if spend > budget[pid]:
            out.append(Problem("decisions.csv", int(row[part == pid][-1]), None, "",
                               f"the locked lump sums of partnership {pid} add up to EUR {spend / 100:.2f}, over its "
                               f"budget_eur of EUR {budget[pid] / 100:.2f} (partnerships.csv): remove locks or "
                               "raise the budget"))
    prog = float(rnd.settings["solver"]["programme_budget_eur"])
    if prog > 0 and cost.sum() > _cents(prog, np.floor):
        out.append(Problem("decisions.csv", None, None, "",
                           f"the locked lump sums add up to EUR {cost.sum() / 100:.2f}, over the programme budget "
                           f"(solver.programme_budget_eur) of EUR {prog:.2f}: remove locks or raise the budget"))
    return out
