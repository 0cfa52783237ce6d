"""The cumulative list of exchanges: a round's proposals and every pair decided before it.

A round's proposals alone lose what was agreed earlier: a visitor whose exchange was
accepted in round 2 is not proposed again in round 3, and a rejected pair is never
proposed again. :func:`exchange_list` is the list reviewers, filters, exports and reports
use instead: the round's proposals, plus every pair decided in an earlier round (or in
this one) that the round does not propose, each with

* ``status``: ``proposed`` (no decision), ``accepted``, ``locked``, ``rejected`` or
  ``withdrawn`` (its accept, reject or lock was reopened): the pair's state now;
* ``decided_in_round``: the round of the decision that set that status (missing for
  ``proposed``);
* ``proposed_in_round``: the round whose proposal the row shows (the latest one up to
  the list's round; missing for a lock on a pair that was never proposed).

So an exchange accepted in round 2 is in the lists of rounds 2, 3, 4, ... with status
``accepted`` and ``decided_in_round`` 2, and its lump sum as accepted.
"""

from __future__ import annotations

import pandas as pd

from matchmaker.ledger import tables
from matchmaker.ledger.store import Ledger

#: The ledger's decision -> the pair's status in the list.
STATUS = {"accept": "accepted", "lock": "locked", "reject": "rejected", "reopen": "withdrawn"}
#: Every status, in the order filters show them.
STATUSES = ("proposed", "accepted", "locked", "rejected", "withdrawn")
#: Columns added to :meth:`Ledger.proposals`'s columns.
LIST_COLUMNS = ["status", "decided_in_round", "proposed_in_round"]


def pair_states(history: pd.DataFrame) -> pd.DataFrame:
    """Each decided pair's latest state-setting decision, ``reopen`` included (as ``withdrawn``).

    ``history`` is :meth:`Ledger.decisions`; returns ``visitor_id, host_id, partnership,
    status, decided_in_round, reviewer, decided_at``.
    """
    states = history[history["decision"].isin(tables.STATE_DECISIONS)].sort_values("id")
    last = states.drop_duplicates(["visitor_id", "host_id"], keep="last")
    return pd.DataFrame({"visitor_id": last["visitor_id"], "host_id": last["host_id"],
                         "partnership": last["partnership"], "status": last["decision"].map(STATUS),
                         "decided_in_round": last["round_id"].astype("Int64"), "reviewer": last["reviewer"],
                         "decided_at": last["decided_at"]}).reset_index(drop=True)


def _earlier_rows(ledger: Ledger, states: pd.DataFrame, round_ids: list[int]) -> pd.DataFrame:
    """Rows for decided pairs the list's round does not propose: their latest proposal up to it
    (:meth:`Ledger.proposals` of that round), or, for a lock on a pair never proposed, the decision alone."""
    found = []
    wanted = set(zip(states["visitor_id"], states["host_id"]))
    for rid in sorted(round_ids, reverse=True):
        if not wanted:
            break
        props = ledger.proposals(rid)
        hit = props[[(v, h) in wanted for v, h in zip(props["visitor_id"], props["host_id"])]]
        if len(hit):
            found.append(hit.assign(proposed_in_round=rid))
            wanted -= set(zip(hit["visitor_id"], hit["host_id"]))
    rest = states[[(v, h) in wanted for v, h in zip(states["visitor_id"], states["host_id"])]]
    if len(rest):
        decision = rest["status"].map({v: k for k, v in STATUS.items() if k != "reopen"})
        found.append(pd.DataFrame({
            "visitor_id": rest["visitor_id"], "host_id": rest["host_id"], "partnership": rest["partnership"],
            "decision": decision, "reviewer": rest["reviewer"].where(decision.notna()),
            "decided_at": rest["decided_at"].where(decision.notna()),
            "decision_round_id": rest["decided_in_round"].where(decision.notna())}))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame()


def exchange_list(ledger: Ledger, partnership: str | None = None, round_id: int | None = None) -> pd.DataFrame:
    """The cumulative list of round ``round_id`` (default: the latest), optionally of one Partnership.

    Parameters
    ----------
    ledger : Ledger
    partnership : str, optional
        Only the pairs paid by this (the visitor's) Partnership.
    round_id : int, optional
        The round whose list it is: its proposals and every pair decided in it or in an
        earlier round. Default: the ledger's latest round.

    Returns
    -------
    DataFrame
        The columns of :meth:`Ledger.proposals` (the proposal's details, scores and the
        current ``decision``, ``reviewer``, ``decided_at``, ``decision_round_id``,
        ``latest_comment``), then :data:`LIST_COLUMNS` (module docstring). Sorted by
        partnership, then status (:data:`STATUSES` order), then descending score.
    """
    rid = ledger.latest_round_id() if round_id is None else int(round_id)
    own = ledger.proposals(rid)
    columns = list(own.columns)
    states = pair_states(ledger.decisions())
    in_own = set(zip(own["visitor_id"], own["host_id"]))
    extra_states = states[pd.Series([(v, h) not in in_own and r <= rid for v, h, r in
                                     zip(states["visitor_id"], states["host_id"], states["decided_in_round"])],
                                    index=states.index, dtype=bool)]  # a mask, also when no pair is decided
    earlier = [int(r) for r in ledger.rounds()["id"] if int(r) < rid]
    parts = [own.assign(proposed_in_round=rid)]
    extra = _earlier_rows(ledger, extra_states, earlier)
    if len(extra):
        parts.append(extra)
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    rows = rows.merge(states[["visitor_id", "host_id", "status", "decided_in_round"]], on=["visitor_id", "host_id"],
                      how="left")
    rows["status"] = rows["status"].fillna("proposed")
    if partnership is not None:
        rows = rows[rows["partnership"] == str(partnership)]
    rows = rows.assign(_order=rows["status"].map({s: i for i, s in enumerate(STATUSES)}))
    rows = rows.sort_values(["partnership", "_order", "score", "visitor_id"], ascending=[True, True, False, True],
                            na_position="last", kind="stable")
    for col in ("decided_in_round", "proposed_in_round", "decision_round_id"):
        rows[col] = rows[col].astype("Int64")
    return rows[[*columns, *LIST_COLUMNS]].reset_index(drop=True)
