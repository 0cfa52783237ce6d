"""The ledger's rules for decisions, and the current state of decided pairs.

:func:`current_states` reads the latest state-setting decision per pair;
:func:`check_decision` enforces the rules of :meth:`matchmaker.ledger.store.Ledger.decide`
inside its transaction. See docs/ledger.md.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection

from matchmaker.constraints import pair_refusals
from matchmaker.inputs.instance import Round
from matchmaker.ledger import tables
from matchmaker.ledger.engine import LedgerError
from matchmaker.ledger.step_history import step_history
from matchmaker.ledger.step_rules import FINAL, LABELS


def current_states(conn: Connection, where: ColumnElement[bool] | None = None) -> pd.DataFrame:
    """Latest state-setting decision per pair (``reopen`` dropped), as a DataFrame."""
    d = tables.decisions.c
    latest = select(func.max(d.id).label("id")).where(d.decision.in_(tables.STATE_DECISIONS))
    if where is not None:
        latest = latest.where(where)
    latest = latest.group_by(d.visitor_id, d.host_id).subquery()
    q = (select(d.visitor_id, d.host_id, d.partnership, d.decision, d.round_id, d.reviewer,
                d.decided_at, d.comment, d.id.label("decision_id"))
         .join(latest, d.id == latest.c.id).where(d.decision != "reopen").order_by(d.id))
    result = conn.execute(q)
    df = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
    return df


def unknown_round(conn: Connection, round_id: object) -> str:
    """The message for a round that is not in the ledger, with the rounds that are."""
    known = [int(x) for x in conn.execute(select(tables.rounds.c.id).order_by(tables.rounds.c.id)).scalars()]
    return f"round {round_id!r} is not in the ledger (known rounds: {', '.join(map(str, known)) or 'none'})"


def next_visitor_seq(conn: Connection, visitor_id: str) -> int:
    """``visitor_seq`` of the visitor's next state-setting decision: how many it has, plus 1.

    Two transactions that did not see each other's decision get the same number, and the
    unique index ``uq_decisions_visitor_seq`` lets only the first one be stored.
    """
    d = tables.decisions.c
    n = conn.execute(select(func.count()).select_from(tables.decisions).where(
        d.visitor_id == visitor_id, d.decision.in_(tables.STATE_DECISIONS))).scalar_one()
    return int(n) + 1


def refusals(rnd: Round, visitor_id: str, host_id: str) -> list[tuple[str, str]]:
    """Rules of the scheme that refuse the pair in ``rnd`` (empty when it is eligible)."""
    v = rnd.visitor_index().get(visitor_id)
    h = rnd.host_index().get(host_id)
    if v is None or h is None:
        missing = visitor_id if v is None else host_id
        return [("registered", f"{missing} is not registered in the round's data in this role")]
    return pair_refusals(rnd, v, h)


def check_decision(conn: Connection, rid: int, visitor_id: str, host_id: str, decision: str,
                   rnd: Round | None = None) -> str | None:
    """Check a decision against the ledger's rules (see ``Ledger.decide``); return the pair's partnership.

    Raises :class:`LedgerError` naming the pair, the rule and what to do.
    """
    p, d = tables.proposals.c, tables.decisions.c
    pair = f"pair (visitor {visitor_id}, host {host_id})"
    proposal = conn.execute(select(p.partnership).where(
        p.round_id == rid, p.visitor_id == visitor_id, p.host_id == host_id)).first()
    states = current_states(conn, tables.decisions.c.visitor_id == visitor_id)
    this = states[states["host_id"] == host_id]
    others = states[(states["host_id"] != host_id) & states["decision"].isin(["accept", "lock"])]
    decided_before = conn.execute(select(d.id).where(d.visitor_id == visitor_id, d.host_id == host_id).limit(1)).first()
    partnership = proposal[0] if proposal else None
    if proposal is None:
        if decision == "accept":
            raise LedgerError(f"cannot accept {pair}: it is not a proposal of round {rid} "
                              "(accept a proposed pair, or lock this pair and solve a new round)")
        if decision == "lock":
            partnership = check_lockable(conn, rid, visitor_id, host_id, rnd, pair)
        elif decided_before is None:
            raise LedgerError(f"cannot {decision} {pair}: it is neither a proposal of round {rid} "
                              "nor a pair decided before")
        else:
            partnership = conn.execute(select(d.partnership).where(
                d.visitor_id == visitor_id, d.host_id == host_id).order_by(d.id.desc()).limit(1)).scalar()
    if decision in ("accept", "lock") and len(others):
        o = others.iloc[0]
        raise LedgerError(
            f"cannot {decision} {pair}: visitor {visitor_id} already has host {o['host_id']} "
            f"{o['decision']}ed (round {o['round_id']}, by {o['reviewer']}); a visitor takes part in one "
            f"exchange: reject or reopen that pair first")
    if decision == "reopen" and this.empty:
        raise LedgerError(f"cannot reopen {pair}: it has no accept, reject or lock to withdraw")
    if decision in ("reject", "reopen"):
        check_not_in_progress(conn, visitor_id, host_id, decision, pair)
    return partnership


def check_not_in_progress(conn: Connection, visitor_id: str, host_id: str, decision: str, pair: str) -> None:
    """Refuse to reject or reopen a pair whose exchange is in its validation chain (withdraw it instead), or
    whose visit was made (started, then reported or withdrawn): the visitor had its one exchange."""
    s = tables.exchange_steps.c
    steps = step_history(conn, (s.visitor_id == visitor_id) & (s.host_id == host_id))
    done = set(steps["step"])
    if "started" in done and done & set(FINAL):
        how = "reported (its lump sum is paid)" if "reported" in done else "withdrawn after it started"
        raise LedgerError(
            f"cannot {decision} {pair}: its exchange took place and was {how}; the visitor had its one exchange, "
            "so the decision stands (the statement and the next rounds count it)")
    if len(steps) and not done & set(FINAL):
        raise LedgerError(
            f"cannot {decision} {pair}: its exchange is under way (latest step: {LABELS[steps['step'].iloc[-1]]}); "
            "withdraw the exchange with its reason instead (`matchmaker step ROUND_DIR --visitor "
            f"{visitor_id} --host {host_id} --to withdrawn --by NAME --reason TEXT`), which releases its lump sum")


def check_lockable(conn: Connection, rid: int, visitor_id: str, host_id: str, rnd: Round | None,
                   pair: str) -> str | None:
    """A pair that was not proposed may be locked if both are registered in the round, in
    different countries, and (when ``rnd`` is given) no rule of the scheme refuses it."""
    g = tables.registrations.c
    rows = conn.execute(select(g.role, g.org_id, g.country, g.partnership).where(
        g.round_id == rid,
        ((g.role == "visitor") & (g.org_id == visitor_id)) | ((g.role == "host") & (g.org_id == host_id)),
    )).mappings().all()
    found = {r["role"]: r for r in rows}
    if "visitor" not in found:
        raise LedgerError(f"cannot lock {pair}: {visitor_id} is not a visitor of round {rid}")
    if "host" not in found:
        raise LedgerError(f"cannot lock {pair}: {host_id} is not a host of round {rid}")
    if found["visitor"]["country"] == found["host"]["country"]:
        raise LedgerError(f"cannot lock {pair}: visitor and host are both in {found['host']['country']}; "
                          "host and visitor must be in different countries")
    if rnd is not None:
        refused = refusals(rnd, visitor_id, host_id)
        if refused:
            raise LedgerError(f"cannot lock {pair}: it breaks the scheme's rules: "
                              + "; ".join(f"{rule}: {why}" for rule, why in refused))
    return found["visitor"]["partnership"]
