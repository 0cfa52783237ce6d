"""The catalogue of pairs: every eligible pair the round keeps, with its score.

:func:`build_catalogue` walks the visitors in blocks: the scheme's rules
(:func:`matchmaker.constraints.eligible_block`) give the allowed pairs of a block
against all hosts, :func:`matchmaker.scoring.score_pairs` scores them, and two prunings
follow, both per visitor and so exact block by block:

1. pairs scoring below ``scoring.options.min_score`` are dropped;
2. each visitor keeps its best K pairs, K = ``scoring.options.top_k``, or, when
   ``top_k = 0`` and visitors x hosts exceeds ``scoring.options.max_pairs``,
   K = ``max_pairs // visitors``. Ties are broken by host position (lower first).

Locked pairs (decisions.csv ``lock``) survive both prunings and take their visitor's
first places. :meth:`Catalogue.describe` says plainly how many pairs each pruning
dropped. :func:`write_catalogue` writes the catalogue as CSV (``matchmaker score``) and
:func:`ranked_counterparts` prints one organisation's best counterparts
(``matchmaker rank``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from matchmaker import constraints
from matchmaker.common.csv_safe import write_csv
from matchmaker.inputs.instance import Round
from matchmaker.pairs.pruning import effective_top_k, prune
from matchmaker.scoring import CRITERIA, ScoringContext, score_pairs

#: Columns of :attr:`Catalogue.pairs`, in order (docs/design.md, "The pair catalogue").
COLUMNS = ("v", "h", "mode", "working_days", "earliest_start", "latest_start", "distance_km",
           "lump_sum_eur", "partnership", "score", *(f"score_{c}" for c in CRITERIA), "locked")

#: Visitor x host cells handled per block by default (memory ~ a few hundred MB at most).
BLOCK_CELLS = 4_000_000

#: Blocks handled at the same time by default (threads).
WORKERS = max(1, min(2, os.cpu_count() or 1))


def _rules(rnd):
    """``eligible(v_positions) -> DataFrame``: the rules' allowed pairs of a block of visitors.

    ``constraints.eligible_block`` with the round's arrays prepared once
    (``constraints.round_rules``) rather than once per block.
    """
    return constraints.round_rules(rnd).eligible_block


@dataclass
class Catalogue:
    """Eligible pairs kept for the solver, and what pruning dropped.

    Attributes
    ----------
    pairs : DataFrame
        Columns :data:`COLUMNS`, one row per kept pair, sorted by (v, h).
    n_visitors, n_hosts : int
        Size of the round.
    n_eligible : int
        Pairs allowed by the rules, before pruning.
    n_pruned_min_score, n_pruned_top_k : int
        Pairs dropped below ``min_score`` and by the K-best pruning.
    visitors_pruned_top_k : int
        Visitors who lost at least one pair to the K-best pruning.
    visitors_without_eligible : ndarray
        Positions of visitors with no eligible host at all.
    visitors_without_kept : ndarray
        Positions of visitors with eligible hosts but no pair kept (all below min_score).
    top_k : int
        K applied (0: none) and ``top_k_source`` the setting it came from.
    min_score : float
    n_locked_decisions : int
        Lock decisions of the round (locked pairs the rules refuse are not in ``pairs``).
    """

    pairs: pd.DataFrame
    n_visitors: int
    n_hosts: int
    n_eligible: int
    n_pruned_min_score: int
    n_pruned_top_k: int
    visitors_pruned_top_k: int
    visitors_without_eligible: np.ndarray
    visitors_without_kept: np.ndarray
    top_k: int
    top_k_source: str
    min_score: float
    max_pairs: int
    n_locked_decisions: int = 0
    settings_used: dict = field(default_factory=dict)

    @property
    def n_kept(self) -> int:
        return len(self.pairs)

    def describe(self) -> str:
        """Plain-words summary of the catalogue, naming every pruning that dropped pairs."""
        f = "{:,}".format
        lines = [
            f"Catalogue of pairs: {f(self.n_visitors)} visitors x {f(self.n_hosts)} hosts "
            f"= {f(self.n_visitors * self.n_hosts)} possible pairs",
            f"  eligible pairs (all rules of the scheme hold): {f(self.n_eligible)}",
        ]
        if self.min_score > 0:
            lines.append(f"  dropped below scoring.options.min_score = {self.min_score:g}: "
                         f"{f(self.n_pruned_min_score)} pairs")
        if self.top_k:
            why = (f"scoring.options.top_k = {self.top_k}" if self.top_k_source == "top_k" else
                   f"scoring.options.top_k = 0 but visitors x hosts exceeds scoring.options.max_pairs = "
                   f"{f(self.max_pairs)}, so K = max_pairs // visitors = {self.top_k}")
            if self.n_pruned_top_k:
                lines.append(f"  K-best pruning DROPPED {f(self.n_pruned_top_k)} pairs of "
                             f"{f(self.visitors_pruned_top_k)} visitors: each visitor keeps only its best "
                             f"{self.top_k} hosts ({why}); the solver cannot propose the dropped pairs")
            else:
                lines.append(f"  K-best pruning (K = {self.top_k}, {why}) dropped no pair: "
                             "no visitor has more eligible hosts")
        else:
            lines.append("  no K-best pruning: every eligible pair is kept (scoring.options.top_k = 0)")
        locked = int(self.pairs["locked"].sum()) if len(self.pairs) else 0
        lines.append(f"  kept for the solver: {f(self.n_kept)} pairs ({f(locked)} locked)")
        if self.n_locked_decisions > locked:
            lines.append(f"  {self.n_locked_decisions - locked} locked pair(s) of decisions.csv are refused "
                         "by the rules and cannot be proposed (see `matchmaker validate`)")
        lines.append(f"  visitors with no eligible host: {f(len(self.visitors_without_eligible))}")
        if len(self.visitors_without_kept):
            lines.append(f"  visitors whose every eligible pair scores below min_score: "
                         f"{f(len(self.visitors_without_kept))}")
        if len(self.pairs):
            s = self.pairs["score"]
            lines.append(f"  scores of kept pairs: min {s.min():.1f}, median {s.median():.1f}, max {s.max():.1f}")
        return "\n".join(lines)


def _catalogue_block(rnd, eligible, ctx: ScoringContext, positions: np.ndarray, top_k: int, min_score: float):
    """Rules, scores and pruning of one block of visitors."""
    block = eligible(positions)
    scored = pd.concat([block, score_pairs(rnd, block, ctx)], axis=1)
    kept, n_min, n_top, vis_top = prune(scored, top_k, min_score)
    return kept[list(COLUMNS)], len(block), np.unique(block["v"].to_numpy()), n_min, n_top, vis_top


def build_catalogue(rnd: Round, block_size: int | None = None, context: ScoringContext | None = None,
                    workers: int | None = None) -> Catalogue:
    """Eligible, scored and pruned pairs of a round.

    Parameters
    ----------
    rnd : Round
    block_size : int, optional
        Visitors per block; default keeps a block near :data:`BLOCK_CELLS` cells.
    context : ScoringContext, optional
        Reuse a scoring context already built for ``rnd``.
    workers : int, optional
        Blocks handled at the same time (threads; NumPy releases the GIL in its loops).
        Default :data:`WORKERS`. The result does not depend on it.

    Returns
    -------
    Catalogue
    """
    n_v, n_h = rnd.n_visitors, rnd.n_hosts
    if block_size is None:
        block_size = max(1, BLOCK_CELLS // max(n_h, 1))
    for name, value in (("block_size", block_size), ("workers", WORKERS if workers is None else workers)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} = {value!r}: must be a positive integer")
    workers = WORKERS if workers is None else int(workers)
    ctx = context if context is not None else ScoringContext.build(rnd)
    o = rnd.settings["scoring"]["options"]
    top_k, source = effective_top_k(rnd.settings, n_v, n_h)
    min_score = float(o["min_score"])

    blocks = [np.arange(a, min(a + block_size, n_v)) for a in range(0, n_v, block_size)] or [np.arange(0)]
    eligible = _rules(rnd)
    work = partial(_catalogue_block, rnd, eligible, ctx, top_k=top_k, min_score=min_score)
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, blocks))
    else:
        results = [work(pos) for pos in blocks]

    has_eligible = np.zeros(n_v, dtype=bool)
    has_kept = np.zeros(n_v, dtype=bool)
    for kept, _, with_pairs, *_ in results:
        has_eligible[with_pairs] = True
        has_kept[kept["v"].to_numpy()] = True
    parts = [r[0] for r in results]
    pairs = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    pairs = pin_locked_starts(rnd, pairs.astype({"v": np.int32, "h": np.int32, "working_days": np.int16,
                                                 "locked": bool}))
    locks = rnd.decisions
    n_locks = int((locks["decision"] == "lock").sum()) if "decision" in locks else 0
    return Catalogue(
        pairs=pairs, n_visitors=n_v, n_hosts=n_h, n_eligible=sum(r[1] for r in results),
        n_pruned_min_score=sum(r[3] for r in results), n_pruned_top_k=sum(r[4] for r in results),
        visitors_pruned_top_k=sum(r[5] for r in results),
        visitors_without_eligible=np.flatnonzero(~has_eligible),
        visitors_without_kept=np.flatnonzero(has_eligible & ~has_kept),
        top_k=top_k, top_k_source=source, min_score=min_score, max_pairs=int(o["max_pairs"]),
        n_locked_decisions=n_locks, settings_used=rnd.settings.get("scoring", {}),
    )


def pin_locked_starts(rnd: Round, pairs: pd.DataFrame) -> pd.DataFrame:
    """Locked pairs whose lock gives a ``start_date`` start on that day (when it is one of their possible starts).

    A Partnership's stable re-solve keeps another Partnership's pair on its dates
    (:mod:`matchmaker.ledger.resolve`): its lock carries the start date, and the pair's
    ``earliest_start`` and ``latest_start`` both become it. The scores are those of the
    pair's full range (computed before). Other rows are returned unchanged.
    """
    dec = rnd.decisions
    if "start_date" not in dec.columns or not len(pairs) or not pairs["locked"].any():
        return pairs
    pins = dec[(dec["decision"] == "lock") & dec["start_date"].notna()]
    vi, hi = rnd.visitor_index(), rnd.host_index()
    want = {(vi[v], hi[h]): pd.Timestamp(s) for v, h, s in zip(pins["visitor_id"], pins["host_id"], pins["start_date"])
            if v in vi and h in hi}
    if not want:
        return pairs
    pairs = pairs.copy()
    es, ls = pairs.columns.get_loc("earliest_start"), pairs.columns.get_loc("latest_start")
    for i in np.flatnonzero(pairs["locked"].to_numpy()):
        start = want.get((int(pairs.iat[i, 0]), int(pairs.iat[i, 1])))
        if start is not None and pairs.iat[i, es] <= start <= pairs.iat[i, ls]:
            pairs.iat[i, es] = pairs.iat[i, ls] = start
    return pairs


def named_pairs(rnd: Round, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the organisations' ids, names and countries in front (for files and lists)."""
    v = pairs["v"].to_numpy()
    h = pairs["h"].to_numpy()
    V, H = rnd.visitors, rnd.hosts
    front = pd.DataFrame({
        "visitor_id": V["org_id"].to_numpy()[v], "visitor_name": V["name"].to_numpy()[v],
        "visitor_country": V["country"].to_numpy()[v],
        "host_id": H["org_id"].to_numpy()[h], "host_name": H["name"].to_numpy()[h],
        "host_country": H["country"].to_numpy()[h],
    }, index=pairs.index)
    rest = [c for c in COLUMNS if c not in ("v", "h")]
    return pd.concat([front, pairs[rest]], axis=1)


def write_catalogue(rnd: Round, cat: Catalogue, path: str | Path) -> Path:
    """Write the catalogue as UTF-8 CSV, one row per kept pair (the injection-safe writer,
    :mod:`matchmaker.common.csv_safe`).

    Columns: ``visitor_id, visitor_name, visitor_country, host_id, host_name,
    host_country, mode, working_days, earliest_start, latest_start, distance_km,
    lump_sum_eur, partnership, score, score_<criterion>..., locked``. Scores are written
    at full precision so that the breakdown adds up to the score and another tool can
    re-solve exactly what the solver was given.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"{path}: directory {path.parent} does not exist")
    out = named_pairs(rnd, cat.pairs)
    for c in ("earliest_start", "latest_start"):
        out[c] = pd.to_datetime(out[c]).dt.strftime("%Y-%m-%d")
    out["distance_km"] = out["distance_km"].round(1)
    return write_csv(out, path, encoding="utf-8", lineterminator="\n")  # injection-safe, written all at once


def _positions_of(rnd, org_id: str, role: str | None) -> list[tuple[str, int]]:
    found = []
    for r, df in (("visitor", rnd.visitors), ("host", rnd.hosts)):
        hits = np.flatnonzero(df["org_id"].to_numpy() == org_id)
        if len(hits):
            found.append((r, int(hits[0])))
    if not found:
        raise KeyError(f"organisation {org_id!r} is not registered in this round (no visitor or host "
                       f"with org_id {org_id!r} in registrations)")
    if role is not None:
        if role not in ("visitor", "host"):
            raise ValueError(f"role = {role!r}: must be 'visitor', 'host' or None")
        mine = [x for x in found if x[0] == role]
        if not mine:
            raise KeyError(f"organisation {org_id!r} is not registered as {role} "
                           f"(it is registered as {found[0][0]})")
        return mine
    return found


def counterparts(rnd: Round, role: str, pos: int, context: ScoringContext | None = None) -> pd.DataFrame:
    """All eligible counterparts of one visitor (``role='visitor'``) or host, scored, best first."""
    ctx = context if context is not None else ScoringContext.build(rnd)
    eligible = _rules(rnd)
    if role == "visitor":
        pairs = eligible(np.array([pos]))
    else:
        step = max(1, BLOCK_CELLS // max(rnd.n_hosts, 1))
        parts = []
        for a in range(0, rnd.n_visitors, step):
            b = eligible(np.arange(a, min(a + step, rnd.n_visitors)))
            parts.append(b[b["h"].to_numpy() == pos])
        pairs = pd.concat(parts, ignore_index=True) if parts else eligible(np.array([], dtype=int))
    pairs = pairs.reset_index(drop=True)
    scored = pd.concat([pairs, score_pairs(rnd, pairs, ctx)], axis=1)
    other = "h" if role == "visitor" else "v"
    order = np.lexsort((scored[other].to_numpy(), -scored["score"].to_numpy()))
    return scored.iloc[order].reset_index(drop=True)


def ranked_counterparts(rnd: Round, org_id: str, role: str | None = None, top: int = 10,
                        context: ScoringContext | None = None) -> str:
    """Text table of one organisation's best counterparts with their score breakdown.

    Parameters
    ----------
    rnd : Round
    org_id : str
        ``org_id`` of a registration.
    role : {'visitor', 'host'}, optional
        Needed only to pick one role of an organisation registered in both; when None
        and it is in both, both lists are shown.
    top : int
        How many counterparts to list (all eligible ones are ranked).

    Raises
    ------
    KeyError
        Unknown ``org_id``, or not registered in ``role``.
    """
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top = {top!r}: must be a positive integer")
    found = _positions_of(rnd, org_id, role)
    ctx = context if context is not None else ScoringContext.build(rnd)
    min_score = float(rnd.settings["scoring"]["options"]["min_score"])
    texts = []
    for r, pos in found:
        me = (rnd.visitors if r == "visitor" else rnd.hosts).iloc[pos]
        other_role = "host" if r == "visitor" else "visitor"
        ranked = counterparts(rnd, r, pos, ctx)
        head = (f"Best {other_role}s for {r} {org_id} ({me['name']}, {me['country']}, "
                f"partnership {me.get('partnership', '?')}): "
                f"{min(top, len(ranked))} of {len(ranked)} eligible {other_role}s")
        if ranked.empty:
            texts.append(head + f"\n  no eligible {other_role}" + _no_pairs_hint(rnd, r, pos))
            continue
        table = named_pairs(rnd, ranked.head(top))
        prefix = "host" if r == "visitor" else "visitor"
        show = pd.DataFrame({
            "rank": np.arange(1, len(table) + 1),
            "id": table[f"{prefix}_id"], "name": table[f"{prefix}_name"].str.slice(0, 30),
            "country": table[f"{prefix}_country"], "mode": table["mode"].astype(str),
            "days": table["working_days"], "km": table["distance_km"].round(0).astype(int),
            "lump_sum": table["lump_sum_eur"], "score": table["score"],
        })
        for c in CRITERIA:
            show[c[:5]] = table[f"score_{c}"]
        note = np.where(table["locked"].to_numpy(), "locked", "")
        note = np.where((table["score"].to_numpy() < min_score) & (note == ""), "below min_score", note)
        show["note"] = note
        legend = "criteria columns (score points): " + ", ".join(f"{c[:5]}={c}" for c in CRITERIA)
        texts.append("\n".join([head, show.to_string(index=False, float_format=lambda x: f"{x:.1f}"), legend]))
    return "\n\n".join(texts)


def _no_pairs_hint(rnd, role: str, pos: int) -> str:
    if role != "visitor":
        return ""

    counts = constraints.refusal_counts(rnd, np.array([pos])).iloc[0]
    by_rule = [f"{name}: {int(counts[name])}" for name in constraints.RULE_NAMES if counts[name] > 0]
    return " (hosts refused per rule: " + ", ".join(by_rule) + ")" if by_rule else ""
