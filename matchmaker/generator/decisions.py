"""Prior decisions and partnership budgets for generated rounds.

The drawn registrations are turned into a :class:`~matchmaker.inputs.instance.Round`
(:func:`drawn_round`) before any file is written, so the locks and the budgets rest on
the scheme's own rules (:func:`matchmaker.constraints.eligible_block`), the same code
that builds the catalogue.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from matchmaker.common.schema import DECISIONS, column_names
from matchmaker.constraints import round_rules
from matchmaker.inputs.instance import Round
from matchmaker.inputs.partnership_selection import AUTO

#: Visitor x host cells per block of the rules (bounds memory to a few tens of MB).
BLOCK_CELLS = 1_000_000
#: Hosts on which the mean lump sum of each visitor is estimated, at most.
MAX_BUDGET_HOSTS = 1000
SHARE_LOCKED = 0.01
SHARE_FORBIDDEN = 0.01

_FORBID_COMMENTS = (
    "Rejected by the host partnership in the previous round",
    "Conflict of interest: same corporate group",
    "Visitor asked not to be matched with this host",
    "Host declined after a first contact",
)


def drawn_round(visitors: pd.DataFrame, hosts: pd.DataFrame, partnerships: pd.DataFrame,
                countries: pd.DataFrame, settings: dict) -> Round:
    """The drawn registrations as a Round without decisions, as loading would give it.

    Parameters
    ----------
    visitors, hosts : DataFrame
        Typed registrations of each role (:func:`matchmaker.generator.orgs.build_rows`),
        index ``0..n-1``; ``partnership = auto`` resolves to ``likely_partnership``
        (the automatic selection's choice), what was asked stays in
        ``partnership_requested``.
    partnerships, countries : DataFrame
        Reference tables with ``partnership_id`` / ``country`` as a column.
    settings : dict
        Checked settings of the round.
    """
    def resolved(regs: pd.DataFrame) -> pd.DataFrame:
        out = regs.copy()
        out["partnership_requested"] = regs["partnership"]
        out["partnership"] = np.where(regs["partnership"] == AUTO, regs["likely_partnership"], regs["partnership"])
        return out

    none = pd.DataFrame({c: pd.Series(dtype=str) for c in column_names(DECISIONS)})
    return Round(visitors=resolved(visitors), hosts=resolved(hosts),
                 partnerships=partnerships.set_index("partnership_id"), countries=countries.set_index("country"),
                 decisions=none, settings=settings)


def _block_size(n_hosts: int) -> int:
    return max(1, BLOCK_CELLS // max(n_hosts, 1))


def mean_lump_sums(rnd: Round, rng: np.random.Generator, max_hosts: int = MAX_BUDGET_HOSTS) -> np.ndarray:
    """Per visitor, the mean lump sum over the hosts it may physically visit (0 if none).

    With more than ``max_hosts`` hosts the mean is estimated on a random sample of
    ``max_hosts`` of them (the budgets need a typical lump sum, not an exact one).
    """
    if rnd.n_hosts > max_hosts:
        sample = np.sort(rng.choice(rnd.n_hosts, size=max_hosts, replace=False))
        rnd = dataclasses.replace(rnd, hosts=rnd.hosts.iloc[sample].reset_index(drop=True))
    eligible = round_rules(rnd).eligible_block
    total, count = np.zeros(rnd.n_visitors), np.zeros(rnd.n_visitors)
    step = _block_size(rnd.n_hosts)
    for lo in range(0, rnd.n_visitors, step):
        pairs = eligible(np.arange(lo, min(rnd.n_visitors, lo + step)))
        physical = (pairs["mode"] == "physical").to_numpy()
        v = pairs["v"].to_numpy()[physical]
        total += np.bincount(v, weights=pairs["lump_sum_eur"].to_numpy()[physical], minlength=rnd.n_visitors)
        count += np.bincount(v, minlength=rnd.n_visitors)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def prior_decisions(rnd: Round, season_start: np.datetime64,
                    rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """A few locks (prior agreements on eligible pairs) and forbids.

    Locks: about 1 % of visitors, each on a pair eligible under every rule, at most one
    lock per visitor and per host (so no host exceeds ``max_visitors`` or ``capacity``
    through locks), only visitors who named their partnership and have not visited yet.
    Forbids: about 1 % of visitors, each with one otherwise eligible host.

    Parameters
    ----------
    rnd : Round
        The drawn registrations (:func:`drawn_round`), without decisions.

    Returns
    -------
    decisions : DataFrame
        ``visitor_id, host_id, decision, comment`` in file order.
    locked_lump_sums : ndarray
        Lump sum of each lock (same order as the lock rows), for the budgets.
    """
    visitors, host_ids = rnd.visitors, rnd.hosts["org_id"].to_numpy()
    n_lock = int(round(SHARE_LOCKED * len(visitors)))
    n_forbid = int(round(SHARE_FORBIDDEN * len(visitors)))
    ok = (visitors["partnership_requested"] != AUTO) & ~visitors["already_visited"].astype(bool)
    cand = rng.permutation(np.flatnonzero(ok.to_numpy()))
    eligible = round_rules(rnd).eligible_block
    used_hosts: list[int] = []
    rows, lumps = [], []
    n_locked = n_forbidden = 0
    # candidates in small blocks, in random order, until enough pairs are found
    step = max(1, min(_block_size(rnd.n_hosts), 2 * (n_lock + n_forbid) + 10))
    for lo in range(0, len(cand), step):
        if n_locked >= n_lock and n_forbidden >= n_forbid:
            break
        block = cand[lo:lo + step]
        pairs = eligible(block)  # grouped by visitor in block order, hosts ascending
        at = pd.Index(block).get_indexer(pairs["v"].to_numpy())
        edges = np.searchsorted(at, np.arange(len(block) + 1))
        hosts, lump = pairs["h"].to_numpy(), pairs["lump_sum_eur"].to_numpy()
        for r, v in enumerate(block):
            want_lock = n_locked < n_lock
            if not want_lock and n_forbidden >= n_forbid:
                break
            mine = np.arange(edges[r], edges[r + 1])
            if want_lock:
                mine = mine[~np.isin(hosts[mine], used_hosts)]
            if len(mine) == 0:
                continue
            i = int(rng.choice(mine))
            vid, hid = visitors["org_id"].iloc[v], host_ids[hosts[i]]
            if want_lock:
                used_hosts.append(int(hosts[i]))
                signed = season_start - np.timedelta64(int(rng.integers(5, 60)), "D")
                rows.append((vid, hid, "lock", f"Prior agreement signed {signed}"))
                lumps.append(float(lump[i]))
                n_locked += 1
            else:
                comment = _FORBID_COMMENTS[int(rng.integers(len(_FORBID_COMMENTS)))]
                rows.append((vid, hid, "forbid", comment))
                n_forbidden += 1
    table = pd.DataFrame(rows, columns=["visitor_id", "host_id", "decision", "comment"])
    return table, np.array(lumps)


def partnership_budgets(visitors: pd.DataFrame, mean_lump: np.ndarray, partnership_ids: Iterable[str],
                        budget_share: float, locks: pd.DataFrame, locked_lump_sums: np.ndarray) -> pd.DataFrame:
    """Budgets that fund about ``budget_share`` of each partnership's eligible visitors.

    ``budget_p = ceil100(budget_share * sum of mean_lump[v] over visitors v paying
    through p)``, raised if needed to ``ceil100`` of the lump sums of p's locks, so that
    every prior agreement can be funded. ``visitors`` are those of :func:`drawn_round`:
    each pays through its ``partnership`` (``auto`` resolved).

    Returns
    -------
    DataFrame
        Index ``partnership_id``; ``visitors`` (paying, with a physical option),
        ``mean_lump_sum_eur``, ``locked_eur``, ``budget_eur``.
    """
    paying = visitors["partnership"].to_numpy(dtype=object)
    df = pd.DataFrame({"p": paying, "lump": mean_lump, "funded": mean_lump > 0})
    g = df.groupby("p")
    lock_p = dict(zip(visitors["org_id"], paying))
    locked = pd.Series(locked_lump_sums, dtype=float).groupby([lock_p[v] for v in locks["visitor_id"]]).sum() \
        if len(locks) else pd.Series(dtype=float)
    out = pd.DataFrame(index=pd.Index(list(partnership_ids), name="partnership_id"))
    out["visitors"] = g["funded"].sum().reindex(out.index).fillna(0).astype(int)
    total = g["lump"].sum().reindex(out.index).fillna(0.0)
    out["mean_lump_sum_eur"] = (total / out["visitors"].where(out["visitors"] > 0)).fillna(0.0).round(2)
    out["locked_eur"] = locked.reindex(out.index).fillna(0.0)

    def ceil100(x: float) -> int:
        return int(math.ceil(round(x, 6) / 100.0) * 100)

    out["budget_eur"] = [max(ceil100(budget_share * t), ceil100(lk)) for t, lk in zip(total, out["locked_eur"])]
    return out
