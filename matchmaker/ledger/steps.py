"""Exchanges and their validation chain in the ledger: record a step, show the pipeline.

An exchange is an accepted or locked pair (:meth:`Ledger.current_decisions
<matchmaker.ledger.store.Ledger.current_decisions>`); its steps are rows of the
append-only ``exchange_steps`` table and its current state is derived from them
(:mod:`matchmaker.ledger.step_rules` has the order and the words).

* :func:`record_step` stores one step in its own write transaction, like a decision
  (:mod:`matchmaker.ledger.decisions`): lock the visitor's ``write_locks`` row (the same
  lock as decisions on the visitor), check the chain's rules against every earlier step,
  insert with the visitor's next ``visitor_seq`` (unique per visitor: a step that did not
  see another one stored at the same moment is refused by the database and retried).
  ``withdrawn`` before ``started`` also stores a ``reject`` decision on the pair in the
  same transaction: the lump sum is released and the visitor may be matched again
  (docs/ledger.md, "Money").
* :func:`exchange_pipeline`: one row per exchange, its state in words and the next steps.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from matchmaker.ledger import tables
from matchmaker.ledger.engine import LedgerError, write_transaction
from matchmaker.ledger.rules import current_states, next_visitor_seq
from matchmaker.ledger.schema import take_lock
from matchmaker.ledger.step_history import done_steps, drawn_pairs, step_history
from matchmaker.ledger.step_rules import LABELS, STEPS, Exchange, current_step, next_steps, refusal, state_words
from matchmaker.ledger.store import Ledger

#: Tries of a step whose visitor got another step at the same moment (uq_exchange_steps_visitor_seq).
STEP_TRIES = 3

#: Columns of :func:`exchange_pipeline`.
PIPELINE_COLUMNS = ["visitor_id", "visitor_name", "host_id", "host_name", "partnership", "host_partnership",
                    "partnerships_in_charge", "mode", "start_date", "end_date", "working_days", "lump_sum_eur",
                    "decision", "round_id", "state", "state_words", "next_steps", "drawn_for_ec", "last_by",
                    "last_at"]

_PROPOSAL_COLUMNS = ["round_id", "visitor_id", "host_id", "mode", "start_date", "end_date", "working_days",
                     "lump_sum_eur", "partnership", "visitor_name", "host_name"]


def _frame(conn: Connection, query) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _best_proposals(conn: Connection, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each pair's proposal: the one of the round its decision was taken in, else its latest one."""
    p = tables.proposals.c
    q = select(*[p[c] for c in _PROPOSAL_COLUMNS]).where(p.visitor_id.in_(sorted(set(pairs["visitor_id"])) or [""]))
    props = _frame(conn, q).rename(columns={"round_id": "proposal_round"})
    props = props.merge(pairs[["visitor_id", "host_id", "round_id"]], on=["visitor_id", "host_id"])
    props["_own"] = props["proposal_round"] == props["round_id"]
    props = props.sort_values(["_own", "proposal_round"], ascending=False, kind="stable")
    return props.drop_duplicates(["visitor_id", "host_id"]).drop(columns=["_own", "round_id", "proposal_round"])


def _registrations(conn: Connection, round_ids: set[int]) -> pd.DataFrame:
    g = tables.registrations.c
    return _frame(conn, select(g.round_id, g.role, g.org_id, g.name, g.partnership)
                  .where(g.round_id.in_(sorted(round_ids) or [-1])))


def exchange_table(conn: Connection, visitor_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exchanges (of one visitor, or all) and their step history, read in ``conn``.

    An exchange is a pair currently accepted or locked, or a pair with recorded steps
    (withdrawn, or rejected or reopened since). Returns ``(exchanges, history)``:
    ``exchanges`` has ``visitor_id, host_id, round_id, decision`` (``None`` when no
    longer accepted or locked), the proposal's details, ``visitor_name, host_name,
    partnership`` (the visitor's, which pays), ``host_partnership`` and ``drawn_for_ec``.
    """
    s, d = tables.exchange_steps.c, tables.decisions.c
    cur = current_states(conn, None if visitor_id is None else d.visitor_id == visitor_id)
    cur = cur[cur["decision"].isin(["accept", "lock"])][["visitor_id", "host_id", "round_id", "decision",
                                                         "partnership"]]
    hist = step_history(conn, None if visitor_id is None else s.visitor_id == visitor_id)
    first = hist.drop_duplicates(["visitor_id", "host_id"])[["visitor_id", "host_id", "round_id"]]
    only_steps = first.merge(cur[["visitor_id", "host_id"]], how="left", indicator=True)
    only_steps = only_steps[only_steps["_merge"] == "left_only"].drop(columns="_merge").assign(decision=None)
    pairs = pd.concat([cur, only_steps], ignore_index=True) if len(only_steps) else cur.reset_index(drop=True)
    pairs["round_id"] = pairs["round_id"].astype(int)
    props = _best_proposals(conn, pairs)
    ex = pairs.rename(columns={"partnership": "decided_partnership"}).merge(props, on=["visitor_id", "host_id"],
                                                                          how="left")
    regs = _registrations(conn, set(ex["round_id"]))
    for role, col in (("visitor", "visitor_id"), ("host", "host_id")):
        r = regs[regs["role"] == role].rename(columns={"org_id": col, "name": f"{role}_reg_name",
                                                       "partnership": f"{role}_reg_partnership"})
        ex = ex.merge(r.drop(columns="role"), on=["round_id", col], how="left")
        ex[f"{role}_name"] = ex[f"{role}_name"].fillna(ex[f"{role}_reg_name"])
    ex["partnership"] = ex["partnership"].fillna(ex["decided_partnership"]).fillna(ex["visitor_reg_partnership"])
    ex["host_partnership"] = ex["host_reg_partnership"]
    drawn = drawn_pairs(conn)
    ex["drawn_for_ec"] = [(v, h) in drawn for v, h in zip(ex["visitor_id"], ex["host_id"])]
    ex = ex.drop(columns=[c for c in ex.columns if "_reg_" in c or c == "decided_partnership"])
    return ex.sort_values(["partnership", "visitor_id", "host_id"], kind="stable").reset_index(drop=True), hist


def as_exchange(row: dict) -> Exchange:
    """An exchange row of :func:`exchange_table` as the chain's :class:`Exchange`."""
    paying, host_p = row.get("partnership"), row.get("host_partnership")
    paying = None if paying is None or pd.isna(paying) else str(paying)
    host_p = None if host_p is None or pd.isna(host_p) else str(host_p)
    in_charge = tuple(p for i, p in enumerate([paying, host_p]) if p and (i == 0 or p != paying))
    mode = row.get("mode")
    decision = row.get("decision")
    return Exchange(visitor_id=str(row["visitor_id"]), host_id=str(row["host_id"]),
                    decision=None if decision is None or pd.isna(decision) else str(decision),
                    mode="physical" if mode is None or pd.isna(mode) else str(mode), partnerships=in_charge,
                    drawn=bool(row.get("drawn_for_ec", False)))


def _pair_rows(hist: pd.DataFrame, visitor_id: str, host_id: str) -> pd.DataFrame:
    return hist[(hist["visitor_id"] == visitor_id) & (hist["host_id"] == host_id)]


def checked_step(visitor_id: str, host_id: str, to_state: str, by: str, reason: str | None,
                 partnership: str | None) -> tuple[str, str, str, str, str, str | None]:
    """The arguments of :func:`record_step` cleaned and checked before any database work; LedgerError if bad."""
    step = str(to_state).strip().lower().replace(" ", "_").replace("-", "_")
    if step not in STEPS:
        raise LedgerError(f"step {to_state!r} is not a step of an exchange: give one of {', '.join(STEPS)}")
    visitor_id, host_id, by = str(visitor_id).strip(), str(host_id).strip(), str(by or "").strip()
    if not visitor_id or not host_id:
        raise LedgerError("the visitor's and the host's ids must both be given")
    if not by:
        raise LedgerError("who records the step must be given (a name or an e-mail address)")
    reason = "" if reason is None else str(reason).strip()
    if step == "withdrawn" and not reason:
        raise LedgerError("a withdrawal needs its reason (why the exchange does not go ahead)")
    partnership = str(partnership).strip() if partnership is not None and str(partnership).strip() else None
    if partnership is not None and step != "validated_by_partnership":
        raise LedgerError(f"a Partnership is given only with the step validated_by_partnership, not with {step}")
    return visitor_id, host_id, step, by, reason, partnership


def record_step(ledger: Ledger, visitor_id: str, host_id: str, to_state: str, by: str, reason: str = "",
                partnership: str | None = None) -> int:
    """Record one step of an exchange's validation chain (append-only); return its id.

    Parameters
    ----------
    ledger : Ledger
    visitor_id, host_id : str
        The exchange: a pair accepted or locked in the ledger.
    to_state : str
        One of :data:`matchmaker.ledger.step_rules.STEPS`, e.g. ``"signed_by_host"``.
    by : str
        Who records it (name or e-mail); required.
    reason : str
        A comment; required for ``withdrawn`` (why).
    partnership : str, optional
        With ``validated_by_partnership``: the Partnership that validates. May be left
        out when only one Partnership is in charge, or only one has not validated yet.

    Raises
    ------
    LedgerError
        A step out of order or not allowed, with why in words (e.g. "exchange (visitor
        V1, host H1) cannot be validated by the Support Office before both Partnerships
        have validated it (missing: BLUES)").
    """
    visitor_id, host_id, step, by, reason, partnership = checked_step(visitor_id, host_id, to_state, by, reason,
                                                                      partnership)
    clash: IntegrityError | None = None
    for _ in range(STEP_TRIES):
        try:
            return _store_once(ledger, visitor_id, host_id, step, by, reason, partnership)
        except IntegrityError as exc:  # a step or decision on the visitor slipped in: check again
            if "visitor_seq" not in str(exc.orig):
                raise
            clash = exc
    raise LedgerError(f"cannot record '{LABELS[step]}' for exchange (visitor {visitor_id}, host {host_id}): other "
                      f"steps on visitor {visitor_id} were being stored at the same moment; look again and retry"
                      ) from clash


def _validating(ex: Exchange, done: list, partnership: str | None) -> str | None:
    """The Partnership of a ``validated_by_partnership`` step: as given, or the only one left."""
    if partnership is not None:
        return partnership
    have = {d.partnership for d in done if d.step == "validated_by_partnership"}
    left = [p for p in ex.partnerships if p not in have]
    if len(left) > 1:
        raise LedgerError(f"{ex.name} has {len(left)} Partnerships in charge that have not validated it "
                          f"({', '.join(left)}): say which one validates")
    return left[0] if left else (ex.partnerships[0] if ex.partnerships else None)


def _store_once(ledger: Ledger, visitor_id: str, host_id: str, step: str, by: str, reason: str,
                partnership: str | None) -> int:
    with write_transaction(ledger.engine) as conn:
        take_lock(conn, tables.visitor_lock(visitor_id))  # steps and decisions on one visitor: one after the other
        exchanges, hist = exchange_table(conn, visitor_id)
        row = exchanges[exchanges["host_id"] == host_id]
        if row.empty:
            raise LedgerError(f"pair (visitor {visitor_id}, host {host_id}) is not an exchange: only a pair "
                              "accepted or locked in the ledger goes through the validation chain (accept it first)")
        rec = row.iloc[0].to_dict()
        ex = as_exchange(rec)
        done = done_steps(_pair_rows(hist, visitor_id, host_id))
        if step == "validated_by_partnership":
            partnership = _validating(ex, done, partnership)
        why = refusal(ex, done, step, partnership)
        if why:
            raise LedgerError(why)
        s = tables.exchange_steps.c
        seq = conn.execute(select(func.count()).select_from(tables.exchange_steps)
                           .where(s.visitor_id == visitor_id)).scalar_one() + 1
        now = dt.datetime.now(dt.UTC)
        new_id = conn.execute(insert(tables.exchange_steps).values(
            round_id=int(rec["round_id"]), visitor_id=visitor_id, host_id=host_id, step=step,
            partnership=partnership, actor=by, done_at=now, comment=reason, visitor_seq=int(seq),
        )).inserted_primary_key[0]
        if step == "withdrawn" and ex.decision is not None and not any(d.step == "started" for d in done):
            conn.execute(insert(tables.decisions).values(
                round_id=int(rec["round_id"]), visitor_id=visitor_id, host_id=host_id, partnership=rec["partnership"],
                decision="reject", comment=f"exchange withdrawn: {reason}", reviewer=by, decided_at=now,
                visitor_seq=next_visitor_seq(conn, visitor_id)))
    return int(new_id)


def exchange_pipeline(ledger: Ledger) -> pd.DataFrame:
    """Every exchange of the ledger with its state: one row each (:data:`PIPELINE_COLUMNS`).

    ``state`` is the latest step (``accepted``/``locked`` before any), ``state_words``
    the state for people, ``next_steps`` the steps that may be recorded now (a list),
    ``drawn_for_ec`` whether it was drawn for EC validation, ``last_by``/``last_at`` who
    recorded the latest step and when. Sorted by Partnership, visitor, host.
    """
    with ledger.engine.connect() as conn:
        exchanges, hist = exchange_table(conn)
    groups = {k: g for k, g in hist.groupby(["visitor_id", "host_id"], sort=False)} if len(hist) else {}
    rows = []
    for rec in exchanges.to_dict("records"):
        ex = as_exchange(rec)
        pair_hist = groups.get((ex.visitor_id, ex.host_id), hist.iloc[0:0])
        done = done_steps(pair_hist)
        rows.append({**rec, "partnerships_in_charge": ", ".join(ex.partnerships), "state": current_step(ex, done),
                     "state_words": state_words(ex, done), "next_steps": next_steps(ex, done),
                     "last_by": done[-1].actor if done else None,
                     "last_at": pair_hist["done_at"].iloc[-1] if done else pd.NaT})
    out = pd.DataFrame(rows, columns=PIPELINE_COLUMNS)
    out["last_at"] = pd.to_datetime(out["last_at"], utc=True)
    out["decision"] = out["decision"].astype(object).where(out["decision"].notna(), None)
    out["round_id"] = out["round_id"].astype("Int64")
    return out


def exchange_funnel(ledger: Ledger) -> pd.DataFrame:
    """How many exchanges reached each step (the round report's exchange-building funnel).

    One row per step of :data:`matchmaker.ledger.step_rules.STEPS`, in order, plus
    ``accepted or locked`` first: ``step``, ``label`` (in words) and ``exchanges`` (how
    many have that step recorded; ``validated_by_partnership`` counts exchanges whose
    every Partnership in charge validated; the first row counts every exchange).
    """
    pipe = exchange_pipeline(ledger)
    with ledger.engine.connect() as conn:
        hist = step_history(conn)
    reached = {step: len(set(zip(g["visitor_id"], g["host_id"]))) for step, g in hist.groupby("step")}
    valid = hist[hist["step"] == "validated_by_partnership"]
    have = valid.groupby(["visitor_id", "host_id"])["partnership"].agg(set).to_dict() if len(valid) else {}
    reached["validated_by_partnership"] = sum(
        bool(need) and set(need.split(", ")) <= have.get((v, h), set())
        for v, h, need in zip(pipe["visitor_id"], pipe["host_id"], pipe["partnerships_in_charge"]))
    rows = [("accepted or locked", "accepted or locked", len(pipe))]
    rows += [(step, LABELS[step] if step != "validated_by_partnership" else "validated by every Partnership in charge",
              int(reached.get(step, 0))) for step in STEPS]
    return pd.DataFrame(rows, columns=["step", "label", "exchanges"])
