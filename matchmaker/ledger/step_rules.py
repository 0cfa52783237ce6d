"""The validation chain of an exchange: its steps, their order, and the state in words (pure functions).

An exchange is an accepted or locked pair of the ledger. It moves through :data:`STEPS`:

1. ``ctq_drafted``: the Commitment to Quality is drafted;
2. ``signed_by_host`` and ``signed_by_visitor``, in either order (the scheme asks for the
   signatures of both, not for an order);
3. ``validated_by_partnership``: once by each Partnership in charge (the visitor's, and
   the host's when it is another one), in either order;
4. ``validated_by_support_office``;
5. ``validated_by_ec``: only when the exchange was drawn for EC validation
   (:mod:`matchmaker.ledger.ec_draw`); the others skip it;
6. ``fa_signed``: the visitor's Financial Agreement for the lump sum; physical exchanges
   only (a virtual exchange has no lump sum, so no agreement) and only for an
   **accepted** pair (a locked pair is accepted first);
7. ``started``, ``completed``, ``reported``;

or ``withdrawn``, with a reason, at any step before ``completed``. :func:`refusal` says in
words why a step may not be recorded now; :func:`next_steps` lists the steps that may;
:func:`state_words` is the current state for people. docs/ledger.md, "The validation chain".
"""

from __future__ import annotations

from dataclasses import dataclass

from matchmaker.ledger.tables import STEP_NAMES

#: Every step, in the order of the chain (``withdrawn`` last).
STEPS = STEP_NAMES
#: Steps after which nothing more may be recorded.
FINAL = ("reported", "withdrawn")

#: What a done step means, for people.
LABELS = {"ctq_drafted": "Commitment to Quality drafted", "signed_by_host": "signed by the host",
          "signed_by_visitor": "signed by the visitor", "validated_by_partnership": "validated by a Partnership",
          "validated_by_support_office": "validated by the Support Office",
          "validated_by_ec": "validated by the European Commission", "fa_signed": "Financial Agreement signed",
          "started": "started", "completed": "completed", "reported": "reported", "withdrawn": "withdrawn"}

#: "The exchange cannot ..." for each step.
VERBS = {"ctq_drafted": "have its Commitment to Quality drafted", "signed_by_host": "be signed by the host",
         "signed_by_visitor": "be signed by the visitor", "validated_by_partnership": "be validated by a Partnership",
         "validated_by_support_office": "be validated by the Support Office",
         "validated_by_ec": "be validated by the European Commission",
         "fa_signed": "have its Financial Agreement signed", "started": "start", "completed": "be completed",
         "reported": "be reported", "withdrawn": "be withdrawn"}

#: The stage of each step in the chain (steps of one stage may come in either order).
STAGE = {"ctq_drafted": 1, "signed_by_host": 2, "signed_by_visitor": 2, "validated_by_partnership": 3,
         "validated_by_support_office": 4, "validated_by_ec": 5, "fa_signed": 6, "started": 7, "completed": 8,
         "reported": 9}


@dataclass(frozen=True)
class Exchange:
    """What the chain's rules need to know of an exchange.

    Attributes
    ----------
    visitor_id, host_id : str
    decision : str or None
        The pair's current decision: ``accept``, ``lock``, or ``None`` (neither any more).
    mode : str
        ``physical`` or ``virtual``.
    partnerships : tuple of str
        The Partnerships in charge: the visitor's (which pays), then the host's when it is another one.
    drawn : bool
        Drawn for validation by the European Commission.
    """

    visitor_id: str
    host_id: str
    decision: str | None
    mode: str
    partnerships: tuple[str, ...]
    drawn: bool = False

    @property
    def name(self) -> str:
        """The exchange in words."""
        return f"exchange (visitor {self.visitor_id}, host {self.host_id})"


@dataclass(frozen=True)
class Done:
    """A step recorded in the ledger: which, for which Partnership, by whom, when (text) and why."""

    step: str
    partnership: str | None = None
    actor: str = ""
    when: str = ""
    comment: str = ""


def _missing_stage(ex: Exchange, done: list[Done], stage: int) -> str | None:
    """What stage ``stage`` still lacks, as the end of "before ...", or None when it is complete."""
    names = {d.step for d in done}
    if stage == 1 and "ctq_drafted" not in names:
        return "its Commitment to Quality is drafted"
    if stage == 2:
        missing = [w for s, w in (("signed_by_host", "host"), ("signed_by_visitor", "visitor")) if s not in names]
        if missing:
            return f"both the host and the visitor have signed the Commitment to Quality (missing: the " \
                   f"{' and the '.join(missing)})"
    if stage == 3:
        left = missing_partnerships(ex, done)
        if left:
            who = "both Partnerships have" if len(ex.partnerships) > 1 else "its Partnership has"
            return f"{who} validated it (missing: {', '.join(left)})"
    if stage == 4 and "validated_by_support_office" not in names:
        return "the Support Office has validated it"
    if stage == 5 and ex.drawn and "validated_by_ec" not in names:
        return "the European Commission has validated it (it was drawn for EC validation)"
    if stage == 6 and ex.mode == "physical" and "fa_signed" not in names:
        return "the visitor has signed the Financial Agreement"
    if stage == 7 and "started" not in names:
        return "it has started"
    if stage == 8 and "completed" not in names:
        return "it is completed"
    return None


def missing_partnerships(ex: Exchange, done: list[Done]) -> list[str]:
    """The Partnerships in charge that have not validated the exchange yet."""
    have = {d.partnership for d in done if d.step == "validated_by_partnership"}
    return [p for p in ex.partnerships if p not in have]


def _said(d: Done) -> str:
    """A done step in words: who and when."""
    return f"by {d.actor}" + (f" on {d.when}" if d.when else "")


def _rule_refusal(ex: Exchange, done: list[Done], step: str, partnership: str | None) -> str | None:
    """The rules of one step that are not about order (once only, EC drawn, virtual, locked pairs)."""
    previous = [d for d in done if d.step == step]
    if step == "validated_by_partnership":
        if partnership not in ex.partnerships:
            return (f"Partnership {partnership} is not in charge of it (in charge: {', '.join(ex.partnerships)}); "
                    "give the Partnership that validates")
        again = [d for d in previous if d.partnership == partnership]
        if again:
            return f"Partnership {partnership} has already validated it ({_said(again[0])})"
    elif previous:
        return f"it is already {LABELS[step]} ({_said(previous[0])})"
    if step == "validated_by_ec" and not ex.drawn:
        return "it was not drawn for validation by the European Commission (only drawn exchanges are)"
    if step == "fa_signed" and ex.mode != "physical":
        return ("a virtual exchange has no lump sum, so no Financial Agreement: record 'started' when it starts")
    if step in ("fa_signed", "started") and ex.decision != "accept":
        state = "locked, not accepted" if ex.decision == "lock" else "no longer accepted or locked"
        return (f"the pair is {state}: accept it first (an exchange goes ahead, and its lump sum is committed, "
                "only once the pair is accepted)")
    return None


def refusal(ex: Exchange, done: list[Done], step: str, partnership: str | None = None) -> str | None:
    """Why ``step`` may not be recorded now on ``ex`` with the steps ``done`` (a sentence), or None.

    ``partnership`` is the validating Partnership of a ``validated_by_partnership`` step.
    """
    if step not in STEPS:
        return f"'{step}' is not a step of an exchange (steps: {', '.join(STEPS)})"
    ended = [d for d in done if d.step in FINAL]
    if ended:
        d = ended[0]
        why = f": {d.comment}" if d.comment else ""
        return f"{ex.name} was {LABELS[d.step]} ({_said(d)}{why}): no further step can be recorded"
    if ex.decision is None and step != "withdrawn":
        return (f"{ex.name} is no longer an accepted or locked pair (it was rejected or reopened): "
                "accept or lock it again first")
    if step == "withdrawn":
        if any(d.step == "completed" for d in done):
            return f"{ex.name} is completed: a completed exchange cannot be withdrawn (record 'reported')"
        return None
    rule = _rule_refusal(ex, done, step, partnership)
    if rule:
        return f"{ex.name} cannot {VERBS[step]}: {rule}"
    for stage in range(1, STAGE[step]):
        missing = _missing_stage(ex, done, stage)
        if missing:
            return f"{ex.name} cannot {VERBS[step]} before {missing}"
    return None


def next_steps(ex: Exchange, done: list[Done]) -> list[str]:
    """The steps that may be recorded now (``validated_by_partnership`` once, even if two are missing)."""
    out = []
    for step in STEPS:
        if step == "validated_by_partnership":
            left = missing_partnerships(ex, done)
            if left and refusal(ex, done, step, left[0]) is None:
                out.append(step)
        elif refusal(ex, done, step) is None:
            out.append(step)
    return out


def current_step(ex: Exchange, done: list[Done]) -> str:
    """The exchange's state as a code: its latest step, or ``accepted``/``locked`` before any step."""
    if done:
        return done[-1].step
    return {"accept": "accepted", "lock": "locked"}.get(ex.decision or "", "withdrawn")


def state_words(ex: Exchange, done: list[Done]) -> str:
    """The exchange's current state for people, e.g. "validated by CLAMTEX (1 of 2 Partnerships)"."""
    if not done:
        return {"accept": "accepted, no step yet", "lock": "locked, no step yet"}.get(
            ex.decision or "", "no longer accepted or locked")
    last = done[-1]
    if last.step == "withdrawn":
        when = f"after: {LABELS[done[-2].step]}" if len(done) > 1 else "before any step"
        return f"withdrawn ({when})" + (f": {last.comment}" if last.comment else "")
    if last.step in ("signed_by_host", "signed_by_visitor"):
        signed = {d.step for d in done} >= {"signed_by_host", "signed_by_visitor"}
        return "signed by the host and the visitor" if signed else LABELS[last.step]
    if last.step == "validated_by_partnership":
        left = missing_partnerships(ex, done)
        n = len(ex.partnerships)
        if left:
            return f"validated by {last.partnership} ({n - len(left)} of {n} Partnerships)"
        return f"validated by {'both Partnerships' if n > 1 else 'its Partnership'}"
    return LABELS[last.step]
