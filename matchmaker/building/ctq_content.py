"""What a Commitment to Quality draft says: a pure function of the round's registrations and one exchange.

:func:`draft_content` turns one row of the ledger's cumulative list
(:func:`matchmaker.ledger.exchanges.exchange_list`, an accepted or locked pair) and the
round's registrations into a :class:`~matchmaker.building.draft.CtqDraft`: the
participants, the objectives and type of the exchange, its dates, the action plan, the
expected outcomes (this module), then the lump sum, the fundamental rules and the
signatures (:mod:`matchmaker.building.ctq_terms`). What the data cannot say is marked
``[to complete: ...]`` (docs/decisions.md §40).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from matchmaker.building import activities as act
from matchmaker.building import ctq_terms as terms
from matchmaker.building.draft import Block, Bullets, CtqDraft, Heading, Paragraph, Table, Text, present, text, todo
from matchmaker.common.workdays import busdaycal
from matchmaker.inputs.instance import Round
from matchmaker.proposals.wording import schedule_text

#: Vocabulary labels: ``(vocabulary, code) -> label`` (``vocabularies.csv``).
Labels = Mapping[tuple[str, str], str]


def day_text(value: object) -> str:
    """A date as ``Mon 1 Mar 2027``."""
    d = pd.Timestamp(value)
    return f"{d:%a} {d.day} {d:%b %Y}"


def registration(rnd: Round, role: str, org_id: str) -> dict | None:
    """The registration of ``org_id`` in ``role`` (a row of the round's visitors or hosts), or ``None``."""
    table = rnd.visitors if role == "visitor" else rnd.hosts
    hit = table[table["org_id"].astype(str) == str(org_id)]
    return hit.iloc[0].to_dict() if len(hit) else None


def country_name(rnd: Round, code: object) -> str:
    """The country's name from the round's countries (its code when unknown)."""
    if not present(code):
        return ""
    names = rnd.countries["name"] if "name" in rnd.countries.columns else pd.Series(dtype=object)
    return str(names.get(str(code), code))


def partnership_name(rnd: Round, pid: object) -> str:
    """``NAME (ID)``, or the id alone when the name is the id or unknown."""
    if not present(pid):
        return ""
    names = rnd.partnerships["name"] if "name" in rnd.partnerships.columns else pd.Series(dtype=object)
    name = str(names.get(str(pid), pid))
    return name if name == str(pid) else f"{name} ({pid})"


def _codes(reg: dict | None, column: str) -> tuple[str, ...]:
    value = reg.get(column) if reg else None
    return tuple(value) if isinstance(value, tuple | list) else ()


def _labels(codes: Sequence[str], vocabulary: str, labels: Labels) -> list[str]:
    return [labels.get((vocabulary, c), c.replace("_", " ")) for c in codes]


def shared(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """The codes of ``a`` also in ``b``, in ``a``'s order."""
    other = set(b)
    return [c for c in a if c in other]


def _participants(ex: Mapping, rnd: Round, vreg: dict | None, hreg: dict | None) -> list[Block]:
    rows = []
    visitor_role = "Visitor (online)" if str(ex.get("mode")) == "virtual" else "Visitor (travels)"
    for role, reg, prefix in (("Host (receives the visitor)", hreg, "host"), (visitor_role, vreg, "visitor")):
        pid = (reg or {}).get("partnership") if reg else (ex.get("partnership") if prefix == "visitor" else None)
        city = str(reg["city"]) + ", " if reg and present(reg.get("city")) else ""
        rows.append((text(role), text(str(ex.get(f"{prefix}_name") or ""), f" ({ex[f'{prefix}_id']})"),
                     text(city + country_name(rnd, ex.get(f"{prefix}_country"))),
                     text(partnership_name(rnd, pid)) if present(pid) else text(todo("the Partnership in charge")),
                     text(todo("contact person, e-mail, phone"))))
    blocks: list[Block] = [Heading("1. The participants"),
                           Table(("Role", "Organisation", "Where", "Partnership in charge", "Contact person"),
                                 tuple(rows))]
    missing = [f"the {role} ({ex[f'{role}_id']})" for role, reg in (("host", hreg), ("visitor", vreg)) if reg is None]
    if missing:
        blocks.append(Paragraph(text(
            f"The registration of {' and of '.join(missing)} is no longer in the round's files: what it said "
            "(objectives, activities, Partnership) could not be pre-filled. ",
            todo("check the parts taken from the registrations"))))
    return blocks


def _objectives(vreg: dict | None, hreg: dict | None, labels: Labels) -> tuple[list[Block], list[str]]:
    both = shared(_codes(vreg, "objectives"), _codes(hreg, "objectives"))
    blocks: list[Block] = [Heading("2. Objectives of the exchange")]
    if both:
        blocks.append(Paragraph(text("The objectives both sides chose in their registrations:")))
        blocks.append(Bullets(tuple(text(s) for s in _labels(both, "objective", labels))))
    else:
        blocks.append(Paragraph(text("The registrations share no objective. The visitor's: ",
                                     "; ".join(_labels(_codes(vreg, "objectives"), "objective", labels)) or "none",
                                     ". The host's: ",
                                     "; ".join(_labels(_codes(hreg, "objectives"), "objective", labels)) or "none",
                                     ".")))
    blocks.append(Paragraph(text(todo("the objectives in your own words: what each side wants from this exchange"))))
    return blocks, both


def _exchange_type(ex: Mapping, rnd: Round, co_visitors: Sequence[tuple[str, str]]) -> list[Block]:
    virtual = str(ex.get("mode")) == "virtual"
    where = country_name(rnd, ex.get("host_country"))
    kind = ("Virtual exchange: online, with no travel." if virtual else
            f"Physical exchange: the visitor travels to the host's premises in {where}.")
    if co_visitors:
        others = "; ".join(f"{name} ({vid})" for vid, name in co_visitors)
        form = (f"Grouped: the host receives {len(co_visitors) + 1} visitors at the same time; the other visitor(s) "
                f"with an accepted or locked exchange on overlapping dates: {others}.")
    else:
        form = "Individual: one visitor at the host at a time."
    return [Heading("3. Type of exchange"), Bullets((text(kind), text(form)))]


def _dates(ex: Mapping, rnd: Round) -> list[Block]:
    blocks: list[Block] = [Heading("4. Dates and duration")]
    if not (present(ex.get("start_date")) and present(ex.get("working_days"))):
        return blocks + [Paragraph(text(todo("the dates and the number of working days (3 working days to one "
                                              "month); the pair was locked without proposed dates")))]
    n, virtual = int(ex["working_days"]), str(ex.get("mode")) == "virtual"
    start, end = ex["start_date"], ex["end_date"]
    items = [text(schedule_text(ex["mode"], start, end, n) + ".")]
    if virtual:
        items.append(text(f"The scheme's rule for virtual exchanges is \"x days in x weeks\": the {n} days need not be "
                          f"consecutive, but they must all be completed within {n} consecutive weeks, here from "
                          f"{day_text(start)} to {day_text(end)}. This draft plans one day a week."))
        items.append(text(todo(f"the {n} days online, one in each of the {n} weeks")))
    else:
        items.append(text(f"{n} consecutive working days at the host's premises, from {day_text(start)} to "
                          f"{day_text(end)}; travel days are not counted."))
        items.append(text(todo("travel days and arrival and departure times")))
    return blocks + [Bullets(tuple(items))]


def _when(first: int, last: int, ex: Mapping, rnd: Round) -> str:
    """The plan's day numbers, with their dates for a physical exchange with known dates."""
    virtual = str(ex.get("mode")) == "virtual"
    label = act.day_label(first, last, virtual)
    if virtual or not present(ex.get("start_date")):
        return label
    cal = busdaycal((rnd.settings.get("rules") or {}).get("holidays", ()))
    start = np.datetime64(pd.Timestamp(ex["start_date"]).date(), "D")
    a, b = np.busday_offset(start, [first - 1, last - 1], roll="forward", busdaycal=cal)
    return f"{label} ({day_text(a)})" if first == last else f"{label} ({day_text(a)} to {day_text(b)})"


def _action_plan(ex: Mapping, rnd: Round, vreg: dict | None, hreg: dict | None, labels: Labels) -> list[Block]:
    virtual = str(ex.get("mode")) == "virtual"
    chosen = shared(_codes(vreg, "activities"), _codes(hreg, "activities"))
    intro = ("Drawn from the activities both sides chose in their registrations, using the scheme's recommended "
             "activities (FAQ question 10)" + (", in their online form" if virtual else "") + ".")
    blocks: list[Block] = [Heading("5. Action plan"), Paragraph(text(intro), note=True)]
    if not chosen and _codes(vreg, "activities") and hreg is not None:
        chosen = list(_codes(vreg, "activities"))
        blocks.append(Paragraph(text("The host offers none of the activities the visitor seeks; the plan below uses "
                                     "the visitor's. ", todo("the activities both sides agree on"))))
    elif not chosen:
        chosen = [""]  # one row to fill, with every recommended activity to choose from
        blocks.append(Paragraph(text("The registrations give no activity both sides chose. ",
                                     todo("the activities both sides agree on"))))
    n = int(ex["working_days"]) if present(ex.get("working_days")) else 3
    rows = []
    for first, last, code in act.plan_rows(chosen, n):
        if code is None:
            what, faq = (act.OPENING if first == 1 else act.CLOSING), ""
        elif code == "":
            what, faq = "", "; ".join(pair[1 if virtual else 0] for pair in act.RECOMMENDED.values())
        else:
            what = _labels([code], "activity", labels)[0]
            faq = "; ".join(act.recommended_for(code, virtual))
        rows.append((text(_when(first, last, ex, rnd)), text(what) if what else text(todo("the activity")),
                     text(faq) if faq else text("-"),
                     text(todo("what exactly, with whom, where" if not virtual else "what exactly, with whom, "
                                                                                     "which online tool"))))
    blocks.append(Table(("When", "Activity", "Recommended activity (FAQ q.10)", "Details"), tuple(rows)))
    return blocks


def _outcomes(objectives: Sequence[str], labels: Labels) -> list[Block]:
    items: list[Text] = [text(act.OUTCOMES[c][0].upper() + act.OUTCOMES[c][1:] + ".")
                         for c in objectives if c in act.OUTCOMES]
    if not items:
        items.append(text("New cross-border contacts and partnerships, and knowledge of the other's market and "
                          "practices (the scheme's benefits for hosts and visitors)."))
    items.append(text(todo("the concrete results both sides expect, and how the visitor's closing report will "
                           "show them")))
    return [Heading("6. Expected outcomes"), Bullets(tuple(items))]


def draft_content(exchange: Mapping, rnd: Round, *, round_id: int, labels: Labels,
                  co_visitors: Sequence[tuple[str, str]] = (), ec_drawn: bool | None = None) -> CtqDraft:
    """The Commitment to Quality draft of one exchange.

    Parameters
    ----------
    exchange : Mapping
        One row of :func:`~matchmaker.ledger.exchanges.exchange_list` (status ``accepted`` or ``locked``).
    rnd : Round
        The round's registrations, partnerships, countries and settings.
    round_id : int
        The ledger round whose list the row comes from.
    labels : Mapping
        ``(vocabulary, code) -> label`` of ``vocabularies.csv``.
    co_visitors : sequence of (visitor_id, visitor_name)
        The other visitors of accepted or locked exchanges at the same host on overlapping dates
        (a grouped exchange when not empty).
    ec_drawn : bool, optional
        Drawn for random EC validation (``None``: not known yet; the EC's signature line says "if drawn").

    Returns
    -------
    CtqDraft
    """
    vid, hid = str(exchange["visitor_id"]), str(exchange["host_id"])
    vreg, hreg = registration(rnd, "visitor", vid), registration(rnd, "host", hid)
    mode = str(exchange.get("mode")) if present(exchange.get("mode")) else "physical"
    blocks: list[Block] = terms.preamble(exchange, round_id)
    blocks += _participants(exchange, rnd, vreg, hreg)
    objective_blocks, objectives = _objectives(vreg, hreg, labels)
    blocks += objective_blocks
    blocks += _exchange_type(exchange, rnd, co_visitors)
    blocks += _dates(exchange, rnd)
    blocks += _action_plan(exchange, rnd, vreg, hreg, labels)
    blocks += _outcomes(objectives, labels)
    blocks += terms.lump_sum(exchange, rnd, vreg)
    blocks += terms.rules(exchange, rnd)
    blocks += terms.signatures(exchange, rnd, vreg, hreg, ec_drawn)
    names = exchange.get("visitor_name") or vid, exchange.get("host_name") or hid
    title = f"Commitment to Quality (draft): {names[0]} at {names[1]}"
    stamp = str(pd.Timestamp(exchange["decided_at"]).isoformat()) if present(exchange.get("decided_at")) else ""
    return CtqDraft(visitor_id=vid, host_id=hid, status=str(exchange.get("status", "")), round_id=int(round_id),
                    mode=mode, form="grouped" if co_visitors else "individual", title=title, blocks=tuple(blocks),
                    stamp=stamp)


__all__ = ["Labels", "country_name", "day_text", "draft_content", "partnership_name", "present", "registration",
           "shared"]
