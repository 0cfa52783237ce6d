"""Prior decisions and partnership budgets for generated rounds.

The generator checks the pairs it locks with its own compact implementation of the
rules of ``docs/decisions.md`` (§2-§8), vectorised over a block of visitors against all
hosts. It is deliberately independent of :mod:`matchmaker.constraints`, so that the
tests can cross-check the two.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .geo import EARTH_RADIUS_KM
from .schema import ELIGIBLE_ORG_TYPES
from .workdays import busdaycal, count_working_days

#: Visitor x host cells per vectorised block (bounds memory to a few tens of MB).
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


def side_arrays(regs: pd.DataFrame, thresholds: dict) -> dict[str, np.ndarray]:
    """The arrays :func:`pair_block` needs from one role's typed registrations.

    Parameters
    ----------
    regs : DataFrame
        Typed registrations of one role (as built by :mod:`matchmaker.generator_orgs`
        or loaded in a :class:`~matchmaker.instance.Round`).
    thresholds : dict
        COSME country -> lump-sum threshold (EUR); other countries are not eligible.
    """
    country = regs["country"].to_numpy(dtype=object)
    codes = {c: i for i, c in enumerate(sorted(thresholds))}
    mode = regs["mode"].to_numpy(dtype=object)
    lat, lon = np.radians(regs["latitude"].to_numpy(float)), np.radians(regs["longitude"].to_numpy(float))
    visited = regs["already_visited"].to_numpy() if "already_visited" in regs else np.zeros(len(regs))
    return {
        "country": np.array([codes.get(c, -1 - i) for i, c in enumerate(country)]),
        "ok": np.isin(country, list(codes)) & np.isin(regs["org_type"].to_numpy(dtype=object), ELIGIBLE_ORG_TYPES),
        "physical": mode != "virtual", "virtual": mode != "physical",
        "visited": np.array([bool(x) if x is not None else False for x in visited]),
        "from": regs["available_from"].to_numpy(dtype="datetime64[D]"),
        "to": regs["available_to"].to_numpy(dtype="datetime64[D]"),
        "min_days": regs["min_days"].to_numpy(int), "max_days": regs["max_days"].to_numpy(int),
        "xyz": np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1),
        "threshold": np.array([thresholds.get(c, 0.0) for c in country], dtype=float),
    }


def pair_block(V: dict, H: dict, settings: dict) -> dict:
    """Eligibility, mode, stay length and lump sum of every visitor x host pair.

    Parameters
    ----------
    V, H : dict
        :func:`side_arrays` of the visitors of the block and of the hosts.
    settings : dict
        Checked settings (``rules`` and ``lump_sum`` tables are used).

    Returns
    -------
    dict of numpy arrays of shape (visitors, hosts)
        ``eligible`` (bool), ``physical`` (bool), ``working_days`` (int), ``lump_sum``
        (float, EUR, 0 for virtual or ineligible pairs).
    """
    rules, ls = settings["rules"], settings["lump_sum"]

    def v(key):
        return V[key][:, None]

    def h(key):
        return H[key][None, :]

    base = v("ok") & h("ok") & (v("country") != h("country"))
    # §4 and §6: physical when both accept it and the visitor has not visited yet,
    # otherwise virtual when both accept that
    physical = v("physical") & h("physical") & ~v("visited")
    virtual = ~physical & v("virtual") & h("virtual") & rules["allow_virtual"]
    start, end = np.maximum(v("from"), h("from")), np.minimum(v("to"), h("to"))
    wd = count_working_days(start, end, busdaycal(rules["holidays"]))
    v_end = np.minimum(end, np.datetime64(rules["virtual_until"], "D"))
    weeks = np.maximum((v_end - start).astype(int) + 1, 0) // 7
    longest = np.minimum(np.minimum(v("max_days"), h("max_days")), rules["max_working_days"])
    days = np.minimum(longest, np.where(physical, wd, weeks))
    need = np.maximum(np.maximum(v("min_days"), h("min_days")), rules["min_working_days"])
    eligible = base & (physical | virtual) & (days >= need)
    physical &= eligible
    # closer than full_from_km <=> the cosine of the central angle is larger
    near = V["xyz"] @ H["xyz"].T > math.cos(ls["full_from_km"] / EARTH_RADIUS_KM)
    reduced = (days < ls["full_from_working_days"]) | near
    lump = np.where(physical, np.round(h("threshold") * np.where(reduced, ls["reduction_factor"], 1.0), 2), 0.0)
    return {"eligible": eligible, "physical": physical, "working_days": np.where(eligible, days, 0), "lump_sum": lump}


def _take(side: dict, idx) -> dict:
    return {k: a[idx] for k, a in side.items()}


def _blocks(n_vis: int, n_hosts: int):
    step = max(1, BLOCK_CELLS // max(n_hosts, 1))
    for lo in range(0, n_vis, step):
        yield lo, min(n_vis, lo + step)


def mean_lump_sums(visitors: pd.DataFrame, hosts: pd.DataFrame, thresholds: dict, settings: dict,
                   rng: np.random.Generator, max_hosts: int = MAX_BUDGET_HOSTS) -> np.ndarray:
    """Per visitor, the mean lump sum over the hosts it may physically visit (0 if none).

    With more than ``max_hosts`` hosts the mean is estimated on a random sample of
    ``max_hosts`` of them (the budgets need a typical lump sum, not an exact one).
    """
    if len(hosts) > max_hosts:
        hosts = hosts.iloc[np.sort(rng.choice(len(hosts), size=max_hosts, replace=False))]
    V, H = side_arrays(visitors, thresholds), side_arrays(hosts, thresholds)
    out = np.zeros(len(visitors))
    for lo, hi in _blocks(len(visitors), len(hosts)):
        b = pair_block(_take(V, slice(lo, hi)), H, settings)
        k = b["physical"].sum(axis=1)
        out[lo:hi] = np.where(k > 0, b["lump_sum"].sum(axis=1) / np.maximum(k, 1), 0.0)
    return out


def prior_decisions(visitors: pd.DataFrame, hosts: pd.DataFrame, thresholds: dict, settings: dict,
                    season_start: np.datetime64, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """A few locks (prior agreements on eligible pairs) and forbids.

    Locks: about 1 % of visitors, each on a pair eligible under every rule, at most one
    lock per visitor and per host (so no host exceeds ``max_visitors`` or ``capacity``
    through locks), only visitors who named their partnership and have not visited yet.
    Forbids: about 1 % of visitors, each with one otherwise eligible host.

    Returns
    -------
    decisions : DataFrame
        ``visitor_id, host_id, decision, comment`` in file order.
    locked_lump_sums : ndarray
        Lump sum of each lock (same order as the lock rows), for the budgets.
    """
    n_lock = int(round(SHARE_LOCKED * len(visitors)))
    n_forbid = int(round(SHARE_FORBIDDEN * len(visitors)))
    ok = (visitors["partnership"] != "auto") & ~visitors["already_visited"].astype(bool)
    cand = rng.permutation(np.flatnonzero(ok.to_numpy()))
    V, H = side_arrays(visitors, thresholds), side_arrays(hosts, thresholds)
    used_hosts: set[int] = set()
    rows, lumps = [], []
    n_locked = n_forbidden = 0
    # candidates in small blocks, in random order, until enough pairs are found
    step = max(1, min(BLOCK_CELLS // max(len(hosts), 1), 2 * (n_lock + n_forbid) + 10))
    for lo in range(0, len(cand), step):
        if n_locked >= n_lock and n_forbidden >= n_forbid:
            break
        hi = min(len(cand), lo + step)
        b = pair_block(_take(V, cand[lo:hi]), H, settings)
        for r in range(hi - lo):
            want_lock = n_locked < n_lock
            if not want_lock and n_forbidden >= n_forbid:
                break
            free = b["eligible"][r].copy()
            if want_lock:
                free[list(used_hosts)] = False
            choices = np.flatnonzero(free)
            if len(choices) == 0:
                continue
            h = int(rng.choice(choices))
            v = visitors.iloc[cand[lo + r]]
            if want_lock:
                used_hosts.add(h)
                signed = season_start - np.timedelta64(int(rng.integers(5, 60)), "D")
                rows.append((v["org_id"], hosts.iloc[h]["org_id"], "lock", f"Prior agreement signed {signed}"))
                lumps.append(float(b["lump_sum"][r, h]))
                n_locked += 1
            else:
                comment = _FORBID_COMMENTS[int(rng.integers(len(_FORBID_COMMENTS)))]
                rows.append((v["org_id"], hosts.iloc[h]["org_id"], "forbid", comment))
                n_forbidden += 1
    table = pd.DataFrame(rows, columns=["visitor_id", "host_id", "decision", "comment"])
    return table, np.array(lumps)


def partnership_budgets(visitors: pd.DataFrame, mean_lump: np.ndarray, partnership_ids, budget_share: float,
                        locks: pd.DataFrame, locked_lump_sums: np.ndarray) -> pd.DataFrame:
    """Budgets that fund about ``budget_share`` of each partnership's eligible visitors.

    ``budget_p = ceil100(budget_share * sum of mean_lump[v] over visitors v paying
    through p)``, raised if needed to ``ceil100`` of the lump sums of p's locks, so that
    every prior agreement can be funded. A visitor pays through its named partnership,
    or, for ``auto``, through its ``likely_partnership``.

    Returns
    -------
    DataFrame
        Index ``partnership_id``; ``visitors`` (paying, with a physical option),
        ``mean_lump_sum_eur``, ``locked_eur``, ``budget_eur``.
    """
    paying = np.where(visitors["partnership"] == "auto", visitors["likely_partnership"], visitors["partnership"])
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
