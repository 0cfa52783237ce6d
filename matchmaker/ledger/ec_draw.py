"""The random draw of exchanges for validation by the European Commission: seeded, recorded, checkable.

:func:`ec_draw` draws a share of the exchanges not drawn before and records the draw in the
ledger's ``ec_draws`` table: seed, share, stratification, who, when, the candidates in the
order the draw used them, and the exchanges drawn. A drawn exchange must then be
``validated_by_ec`` before its Financial Agreement (:mod:`matchmaker.ledger.step_rules`).

How the draw works (anyone can re-run it, see :func:`check_ec_draw`):

1. Candidates: every exchange (accepted or locked pair) that is still before its EC
   validation and Financial Agreement (no ``validated_by_ec``, ``fa_signed``, ``started``
   or later step, not withdrawn) and that no earlier draw had among its candidates.
   Sorted by paying Partnership, visitor id, host id.
2. ``rng = numpy.random.default_rng(seed)``.
3. Stratified (``by_partnership=True``, the default): for each Partnership in sorted
   order, ``k = ceil(share * n)`` of its ``n`` candidates are drawn with
   ``rng.choice(n, size=k, replace=False)`` (positions in the Partnership's sorted
   candidates). Not stratified: the same over all candidates at once.

Stratified is the default because the EC's check is a check of each Partnership's
validation work: a plain 10 % draw of 40 exchanges can leave a Partnership with 6
exchanges unchecked (probability about 0.5), while every Partnership with a candidate
gets at least one exchange drawn. The price is that slightly more than ``share`` is
drawn (rounded up per Partnership); the draw's record says how many.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

from matchmaker.ledger import tables
from matchmaker.ledger.engine import LedgerError, write_transaction
from matchmaker.ledger.schema import take_lock
from matchmaker.ledger.steps import exchange_table
from matchmaker.ledger.store import Ledger

#: Largest seed (stored as a 32-bit integer).
MAX_SEED = 2**31 - 1
#: Steps after which an exchange is no longer a candidate of a draw.
PAST_DRAW = ("validated_by_ec", "fa_signed", "started", "completed", "reported", "withdrawn")


@dataclass(frozen=True)
class Draw:
    """A recorded EC draw: its id and settings, its candidates and the exchanges drawn."""

    draw_id: int
    seed: int
    share: float
    by_partnership: bool
    drawn_by: str
    drawn_at: dt.datetime
    candidates: pd.DataFrame
    drawn: pd.DataFrame

    def describe(self) -> str:
        """The draw in a few words, for the command line."""
        how = "stratified by Partnership" if self.by_partnership else "over all exchanges"
        per = self.drawn.groupby("partnership").size() if len(self.drawn) else pd.Series(dtype=int)
        lines = [f"EC draw {self.draw_id} (seed {self.seed}, share {self.share:g}, {how}, by {self.drawn_by}): "
                 f"{len(self.drawn)} of {len(self.candidates)} exchange(s) drawn for validation by the European "
                 "Commission"]
        lines += [f"  {p}: {', '.join(f'visitor {v} with host {h}' for v, h in zip(g['visitor_id'], g['host_id']))}"
                  for p, g in self.drawn.groupby("partnership")] if len(per) else []
        return "\n".join(lines)


def checked_draw_settings(share: float, seed: int) -> tuple[float, int]:
    """``share`` in (0, 1] and ``seed`` a whole number 0..MAX_SEED; LedgerError otherwise."""
    try:
        share_f = float(share)
    except (TypeError, ValueError):
        raise LedgerError(f"share {share!r} must be a number above 0 and at most 1 (0.1 draws 10 %)") from None
    if not 0 < share_f <= 1:
        raise LedgerError(f"share {share!r} must be above 0 and at most 1 (0.1 draws 10 %)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise LedgerError(f"seed {seed!r} must be a whole number from 0 to {MAX_SEED}")
    return share_f, int(seed)


def draw_mask(candidates: pd.DataFrame, share: float, seed: int, by_partnership: bool) -> np.ndarray:
    """Which ``candidates`` (rows already in draw order, with ``partnership``) are drawn (pure, reproducible)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(candidates), dtype=bool)
    groups = candidates.groupby("partnership", sort=True).indices if by_partnership else {"all": np.arange(
        len(candidates))}
    for key in sorted(groups):
        positions = np.asarray(groups[key])
        k = min(len(positions), math.ceil(share * len(positions) - 1e-9))
        mask[positions[rng.choice(len(positions), size=k, replace=False)]] = True
    return mask


def _candidates(exchanges: pd.DataFrame, hist: pd.DataFrame, considered: set[tuple[str, str]]) -> pd.DataFrame:
    """The exchanges a new draw may draw (module docstring, point 1), in draw order."""
    past = set(zip(*[hist.loc[hist["step"].isin(PAST_DRAW), c] for c in ("visitor_id", "host_id")]))
    keep = [d is not None and not pd.isna(d) and (v, h) not in past and (v, h) not in considered
            for v, h, d in zip(exchanges["visitor_id"], exchanges["host_id"], exchanges["decision"])]
    cand = exchanges.loc[keep, ["visitor_id", "host_id", "partnership"]].astype(str)
    return cand.sort_values(["partnership", "visitor_id", "host_id"]).reset_index(drop=True)


def _considered(conn) -> set[tuple[str, str]]:
    rows = conn.execute(select(tables.ec_draws.c.candidates)).scalars()
    return {(str(c[0]), str(c[1])) for cands in rows for c in cands}


def ec_draw(ledger: Ledger, share: float, seed: int, by_partnership: bool = True, by: str = "Support Office") -> Draw:
    """Draw ``share`` of the exchanges not drawn before for EC validation, and record the draw.

    Parameters
    ----------
    ledger : Ledger
    share : float
        Above 0, at most 1: 0.1 draws 10 % (rounded up, per Partnership when stratified).
    seed : int
        0 .. 2**31 - 1; the same candidates, share and seed always draw the same exchanges.
    by_partnership : bool
        Stratify by the paying Partnership (default; module docstring says why).
    by : str
        Who draws (name or e-mail).

    Returns
    -------
    Draw
        Recorded; a draw without candidates is refused (LedgerError) and nothing is recorded.
    """
    share, seed = checked_draw_settings(share, seed)
    by = str(by or "").strip()
    if not by:
        raise LedgerError("who draws must be given (a name or an e-mail address)")
    with ledger.engine.connect() as conn:
        visitors = sorted(set(exchange_table(conn)[0]["visitor_id"]))
    with write_transaction(ledger.engine) as conn:
        take_lock(conn, tables.EC_DRAW_LOCK)
        for v in visitors:  # no step on these visitors while the draw reads and records (sorted: no deadlock)
            take_lock(conn, tables.visitor_lock(v))
        exchanges, hist = exchange_table(conn)
        cand = _candidates(exchanges, hist, _considered(conn))
        if cand.empty:
            raise LedgerError("no exchange to draw: every accepted or locked exchange was drawn before, or is past "
                              "its EC validation or Financial Agreement, or was withdrawn")
        drawn = cand[draw_mask(cand, share, seed, by_partnership)].reset_index(drop=True)
        now = dt.datetime.now(dt.UTC)
        draw_id = conn.execute(insert(tables.ec_draws).values(
            drawn_at=now, drawn_by=by, seed=seed, share=share, by_partnership=bool(by_partnership),
            candidates=cand.values.tolist(), drawn=drawn[["visitor_id", "host_id"]].values.tolist(),
        )).inserted_primary_key[0]
    return Draw(int(draw_id), seed, share, bool(by_partnership), by, now, cand, drawn)


def ec_draws(ledger: Ledger) -> list[Draw]:
    """Every recorded EC draw, oldest first."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(tables.ec_draws).order_by(tables.ec_draws.c.id)).mappings().all()
    out = []
    for r in rows:
        cand = pd.DataFrame(r["candidates"], columns=["visitor_id", "host_id", "partnership"])
        drawn_pairs = {tuple(x) for x in r["drawn"]}
        drawn = cand[[(v, h) in drawn_pairs for v, h in zip(cand["visitor_id"], cand["host_id"])]]
        out.append(Draw(int(r["id"]), int(r["seed"]), float(r["share"]), bool(r["by_partnership"]),
                        str(r["drawn_by"]), r["drawn_at"], cand, drawn.reset_index(drop=True)))
    return out


def check_ec_draw(ledger: Ledger, draw_id: int) -> tuple[bool, str]:
    """Re-run recorded draw ``draw_id`` from its candidates, share and seed; ``(same, what was found)``."""
    found = [d for d in ec_draws(ledger) if d.draw_id == int(draw_id)]
    if not found:
        raise LedgerError(f"there is no EC draw {draw_id} in the ledger")
    d = found[0]
    again = d.candidates[draw_mask(d.candidates, d.share, d.seed, d.by_partnership)]
    same = list(zip(again["visitor_id"], again["host_id"])) == list(zip(d.drawn["visitor_id"], d.drawn["host_id"]))
    verdict = "the same exchanges" if same else "OTHER exchanges than recorded"
    return same, f"EC draw {d.draw_id} re-run from seed {d.seed}, share {d.share:g}: {verdict} ({len(again)} drawn)"
