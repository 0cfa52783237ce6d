"""The terms of a Commitment to Quality draft: its preamble, the lump sum, the fundamental rules, the signatures.

Used by :func:`matchmaker.building.ctq_content.draft_content`. The rules are the scheme's
(``shared/domain.md``, the FAQ) and the round's settings (the shortest and longest stay, the
lump sum's reduction), never a rule of our own.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from matchmaker.building.draft import Block, Bullets, Heading, Paragraph, Table, Text, present, text, todo
from matchmaker.inputs.instance import Round


def eur(amount: float) -> str:
    """``EUR 1,100.00``."""
    return f"EUR {float(amount):,.2f}"


def _partnership(rnd: Round, pid: object) -> str:
    names = rnd.partnerships["name"] if "name" in rnd.partnerships.columns else pd.Series(dtype=object)
    name = str(names.get(str(pid), pid))
    return name if name == str(pid) else f"{name} ({pid})"


def preamble(ex: Mapping, round_id: int) -> list[Block]:
    """What the document is, where it comes from, and how to finish it."""
    status = str(ex.get("status", ""))
    decided = "accepted" if status == "accepted" else "locked (kept in every round)"
    who = f" by {ex['reviewer']}" if present(ex.get("reviewer")) else ""
    when = f" in round {int(ex['decided_in_round'])}" if present(ex.get("decided_in_round")) else ""
    return [Paragraph(text(
        "DRAFT prepared by the matchmaker from the registrations and the pair ", decided, who, when,
        f" (the ledger's list of round {int(round_id)}). Host and visitor write the Commitment to Quality together: "
        "finish every part marked [to complete: ...], check every pre-filled part, and remove these marks. "
        "Signed, it has the same binding terms as a contract."), note=True)]


def _lump_sum_reason(ex: Mapping, rnd: Round, amount: float) -> str:
    """Why the amount is what it is: the host country's threshold, halved or not and why."""
    country = str(ex.get("host_country", ""))
    table = rnd.countries
    if "lump_sum_eur" not in table.columns or country not in table.index \
            or not present(table.at[country, "lump_sum_eur"]):
        return ""
    full = float(table.at[country, "lump_sum_eur"])
    name = str(table.at[country, "name"]) if "name" in table.columns else country
    if amount >= full - 0.005:
        return f" (the full lump sum for a host in {name})"
    ls = rnd.settings.get("lump_sum") or {}
    why = []
    if present(ex.get("working_days")) and int(ex["working_days"]) < float(ls.get("full_from_working_days", 5)):
        why.append(f"the stay is shorter than {int(ls.get('full_from_working_days', 5))} working days")
    if present(ex.get("distance_km")) and float(ex["distance_km"]) < float(ls.get("full_from_km", 200)):
        why.append(f"the organisations are {float(ex['distance_km']):,.0f} km apart, under "
                   f"{float(ls.get('full_from_km', 200)):,.0f} km")
    return f" (reduced from {eur(full)} for a host in {name}" + (": " + " and ".join(why) if why else "") + ")"


def lump_sum(ex: Mapping, rnd: Round, vreg: dict | None) -> list[Block]:
    """The lump sum and the Partnership that pays it (none for a virtual exchange)."""
    heading = Heading("7. Lump sum")
    if str(ex.get("mode")) == "virtual":
        return [heading, Paragraph(text(
            "None: a virtual exchange has no lump sum. Taking part in it does not use up the visitor's physical "
            "exchange, which has its own lump sum."))]
    payer = ex.get("partnership") if present(ex.get("partnership")) else (vreg or {}).get("partnership")
    if not present(ex.get("lump_sum_eur")):
        return [heading, Paragraph(text(todo("the lump sum, set by the host country and the length of the stay"),
                                        f", paid by the visitor's Partnership {_partnership(rnd, payer)}."))]
    amount = float(ex["lump_sum_eur"])
    return [heading, Paragraph(text(
        f"{eur(amount)} for the visitor{_lump_sum_reason(ex, rnd, amount)}, paid by the visitor's Partnership "
        f"{_partnership(rnd, payer)} from its budget, to cover part of the travel and accommodation. The visitor "
        "signs a Financial Agreement for it once this Commitment to Quality is signed and validated. The host "
        "receives no lump sum."))]


def rules(ex: Mapping, rnd: Round) -> list[Block]:
    """The fundamental rules of the exchange (the scheme's, with the round's settings)."""
    r = rnd.settings.get("rules") or {}
    shortest, longest = int(r.get("min_working_days", 3)), int(r.get("max_working_days", 22))
    virtual = str(ex.get("mode")) == "virtual"
    items: list[Text] = [
        text(f"The exchange lasts at least {shortest} working days and at most one month ({longest} working days), "
             "travel days excluded."),
        text("A virtual exchange of x days is completed within x consecutive weeks; its days need not be consecutive."
             if virtual else "A physical exchange takes place on consecutive working days at the host's premises."),
        text("The exchange starts only once this Commitment to Quality is signed by the host and the visitor, "
             "validated and signed by the Partnership(s) in charge, validated by the ClusterXchange Support Office, "
             "and by the European Commission's services if the exchange is drawn for random EC validation."),
        text("A visitor takes part in one physical exchange in the whole scheme; a virtual exchange does not use it "
             "up." if not virtual else "A virtual exchange does not use up the visitor's one physical exchange in "
                                       "the scheme."),
        text("After the exchange the visitor writes a closing report, on which the lump sum is paid."
             if not virtual else "After the exchange the visitor writes a closing report."),
        text(todo("any further arrangement both sides agree on (language, confidentiality, insurance, "
                  "working hours)")),
    ]
    return [Heading("8. Fundamental rules of the exchange"), Bullets(tuple(items))]


def signatures(ex: Mapping, rnd: Round, vreg: dict | None, hreg: dict | None, ec_drawn: bool | None) -> list[Block]:
    """The signature lines: host, visitor, the Partnership(s) in charge, the Support Office, and the EC if drawn."""
    vp = ex.get("partnership") if present(ex.get("partnership")) else (vreg or {}).get("partnership")
    hp = (hreg or {}).get("partnership")
    lines = [("Host", f"{ex.get('host_name', '')} ({ex['host_id']})"),
             ("Visitor", f"{ex.get('visitor_name', '')} ({ex['visitor_id']})")]
    if present(vp) and present(hp) and str(vp) == str(hp):
        lines.append(("Partnership in charge of both", _partnership(rnd, vp)))
    else:
        pays = "" if str(ex.get("mode")) == "virtual" else " (pays the lump sum)"
        lines += [(f"Visitor's Partnership{pays}", _partnership(rnd, vp) if present(vp) else ""),
                  ("Host's Partnership", _partnership(rnd, hp) if present(hp) else "")]
    lines.append(("ClusterXchange Support Office (validation)", "ClusterXchange Support Office"))
    if ec_drawn is None:
        lines.append(("European Commission services (only if the exchange is drawn for random EC validation)",
                      "European Commission"))
    elif ec_drawn:
        lines.append(("European Commission services (drawn for random EC validation)", "European Commission"))
    rows = tuple((text(role), text(who) if who else text(todo("the Partnership")),
                  text(todo("name and function")), text(""), text("")) for role, who in lines)
    return [Heading("9. Signatures"),
            Table(("Role", "Organisation", "Signed by", "Date", "Signature"), rows)]


__all__ = ["eur", "lump_sum", "preamble", "rules", "signatures"]
