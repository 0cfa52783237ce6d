"""The rule pieces (matchmaker.rules.pieces) on hand-made attribute arrays: each rule's
check, its sentence for one refused pair, and the same rules for one registration alone."""

from __future__ import annotations

import numpy as np
import pytest

from matchmaker.common.workdays import busdaycal
from matchmaker.rules.pair_arrays import NO_CUTOFF, RuleContext, WorkdayTable, to_days
from matchmaker.rules.pieces import RULE_NAMES, RULES, registration_checks

BY_NAME = {r.name: r for r in RULES}


def context(**values) -> RuleContext:
    """Rules of a round: stays of 3 to 22 working days, virtual allowed without cut-off."""
    base = dict(min_working_days=3, max_working_days=22, allow_virtual=True, virtual_until=NO_CUTOFF,
                workdays=WorkdayTable(to_days("2027-01-01"), to_days("2027-12-31"), busdaycal()), n_hosts=1,
                forbidden=np.zeros(0, dtype=np.int64), forbidden_visitors=np.zeros(0, dtype=np.int64),
                locked=np.zeros(0, dtype=np.int64))
    base.update(values)
    return RuleContext(**base)


def side(org_id: str, code: str, /, **values) -> dict[str, np.ndarray]:
    """One registration's attribute arrays (length 1) in country ``code``, valid unless ``values`` say otherwise."""
    base = dict(pos=0, org_id=org_id, country_code=code, country={"ES": 0, "PT": 1}.get(code, 2), cosme=True,
                org_type="sme", type_ok=True, partnership="CLAMTEX", partnership_ok=True, mode="either",
                physical=True, virtual=True, already_visited=False, start=to_days("2027-03-01"),
                end=to_days("2027-06-30"), min_days=5, max_days=10)
    base.update(values)
    return {k: np.asarray([v]) for k, v in base.items()}


def verdicts(V, H, ctx) -> dict[str, bool]:
    return {r.name: bool(np.asarray(r.check(V, H, ctx)).flat[0]) for r in RULES}


def refusals(V, H, ctx) -> dict[str, str]:
    return {r.name: r.explain(V, H, ctx) for r in RULES if not np.asarray(r.check(V, H, ctx)).flat[0]}


def test_rules_in_reporting_order_each_with_a_sentence():
    assert RULE_NAMES == tuple(r.name for r in RULES) == (
        "cosme_countries", "different_countries", "organisation_types", "partnership_known", "visitor_once",
        "mode_compatible", "duration_range", "availability", "not_forbidden")
    assert all(r.description.endswith(".") for r in RULES)


def test_a_valid_pair_passes_every_rule():
    assert all(verdicts(side("V1", "ES"), side("H1", "PT"), context()).values())


@pytest.mark.parametrize("visitor, host, ctx, rule, sentence", [
    (dict(cosme=False), {}, {}, "cosme_countries",
     "visitor V1 is in ES, which does not take part in COSME (countries.csv, cosme = false)"),
    ({}, dict(country_code="ES", country=0), {}, "different_countries", "visitor V1 and host H1 are both in ES"),
    (dict(org_type="other", type_ok=False), {}, {}, "organisation_types",
     "visitor V1 has organisation type 'other' (eligible: cluster_organisation, scaleup_support, sme)"),
    ({}, dict(partnership="auto", partnership_ok=False), {}, "partnership_known",
     "host H1 has partnership 'auto', which is not a partnership of partnerships.csv"),
    (dict(mode="physical", virtual=False, already_visited=True), {}, {}, "visitor_once",
     "visitor V1 already took part in a physical exchange (already_visited) and the pair can only be physical "
     "(visitor mode 'physical', host mode 'either')"),
    (dict(mode="virtual", physical=False), dict(mode="physical", virtual=False), {}, "mode_compatible",
     "visitor V1 accepts 'virtual' and host H1 accepts 'physical'"),
    (dict(min_days=3, max_days=4), dict(min_days=5, max_days=10), {}, "duration_range",
     "the longest stay both accept, 4 working days (visitor max_days 4, host max_days 10, rules.max_working_days "
     "22), is below the shortest, 5 (visitor min_days 3, host min_days 5, rules.min_working_days 3)"),
    (dict(start=to_days("2027-03-01"), end=to_days("2027-03-03")), {}, {}, "availability",
     "the common window 2027-03-01..2027-03-03 (visitor 2027-03-01..2027-03-03, host 2027-03-01..2027-06-30) has "
     "3 working days, fewer than the minimum stay of 5 working days"),
    (dict(mode="virtual", physical=False, start=to_days("2027-08-05"), end=to_days("2027-09-03")),
     dict(mode="virtual", physical=False, start=to_days("2027-08-05"), end=to_days("2027-09-30")), {}, "availability",
     "the common window 2027-08-05..2027-09-03 (visitor 2027-08-05..2027-09-03, host 2027-08-05..2027-09-30; virtual "
     "exchanges end by 9999-12-31) holds 4 weeks, but a virtual exchange takes one day a week, so the minimum stay "
     "of 5 days needs 5 weeks"),
    ({}, {}, dict(forbidden=np.array([0]), forbidden_visitors=np.array([0])), "not_forbidden",
     "the pair V1 -> H1 is forbidden by decisions.csv"),
])
def test_each_rule_refuses_and_words_the_refusal(visitor, host, ctx, rule, sentence):
    V, H, c = side("V1", "ES", **visitor), side("H1", "PT", **host), context(**ctx)
    assert refusals(V, H, c) == {rule: sentence}


def test_virtual_only_pairs_name_the_closed_virtual_exchanges():
    V = side("V1", "ES", mode="virtual", physical=False)
    H = side("H1", "PT", mode="virtual", physical=False)
    closed = refusals(V, H, context(allow_virtual=False))
    assert closed["mode_compatible"] == ("visitor V1 accepts 'virtual' and host H1 accepts 'virtual'; virtual "
                                         "exchanges are not allowed (rules.allow_virtual = false)")
    late = refusals(V, H, context(virtual_until=to_days("2027-02-01")))
    assert late["mode_compatible"] == ("visitor V1 accepts 'virtual' and host H1 accepts 'virtual'; virtual "
                                       "exchanges end on 2027-02-01 (rules.virtual_until), before the first day "
                                       "both are available, 2027-03-01")


def test_rules_broadcast_over_a_block():
    V = {k: v.reshape(1, 1).repeat(2, axis=0) for k, v in side("V1", "ES").items()}
    V["cosme"] = np.array([[True], [False]])
    H = {k: v.reshape(1, 1).repeat(3, axis=1) for k, v in side("H1", "PT").items()}
    ok = BY_NAME["cosme_countries"].check(V, H, context())
    assert ok.shape == (2, 3) and ok[0].all() and not ok[1].any()


def registration_reasons(S, ctx) -> dict[str, str]:
    return {name: why(0) for name, refused, why in registration_checks(S, ctx) if refused[0]}


def test_registration_checks_follow_the_pair_rules_order():
    names = [name for name, _, _ in registration_checks(side("V1", "ES"), context())]
    assert names == [n for n in RULE_NAMES if n in names]
    assert registration_reasons(side("V1", "ES"), context()) == {}


@pytest.mark.parametrize("values, ctx, rule, sentence", [
    (dict(cosme=False, country_code="GB"), {}, "cosme_countries",
     "country GB does not take part in COSME (countries.csv, cosme = false)"),
    (dict(org_type="other", type_ok=False), {}, "organisation_types",
     "organisation type 'other' is not eligible (eligible: cluster_organisation, scaleup_support, sme)"),
    (dict(partnership="auto", partnership_ok=False), {}, "partnership_known",
     "partnership 'auto' is not a partnership of partnerships.csv"),
    (dict(mode="physical", virtual=False, already_visited=True), {}, "visitor_once",
     "already took part in a physical exchange (already_visited) and accepts only physical exchanges "
     "(mode 'physical')"),
    (dict(already_visited=True), dict(allow_virtual=False), "visitor_once",
     "already took part in a physical exchange (already_visited) and virtual exchanges are not allowed "
     "(rules.allow_virtual = false)"),
    (dict(mode="virtual", physical=False), dict(virtual_until=to_days("2027-02-01")), "mode_compatible",
     "accepts only virtual exchanges (mode 'virtual') and virtual exchanges end on 2027-02-01 "
     "(rules.virtual_until), before its window starts on 2027-03-01"),
    (dict(min_days=12, max_days=20), dict(max_working_days=10), "duration_range",
     "its longest stay, 10 working days (max_days 20, rules.max_working_days 10), is below its shortest, 12 "
     "(min_days 12, rules.min_working_days 3)"),
    (dict(end=to_days("2027-03-03")), {}, "availability",
     "its window 2027-03-01..2027-03-03 has 3 working days, fewer than its minimum stay of 5 days (max of min_days 5 "
     "and rules.min_working_days 3), and only 0 weeks, while a virtual exchange takes one day a week, so 5 days "
     "need 5 weeks"),
    # issue 11 item 10: a virtual-only organisation is told why weeks count, never "4 weeks, fewer than 5 days"
    (dict(mode="virtual", physical=False, start=to_days("2027-08-05"), end=to_days("2027-09-03")), {},
     "availability",
     "it accepts only virtual exchanges (mode 'virtual'), and a virtual exchange takes one day a week, so its "
     "minimum stay of 5 days (max of min_days 5 and rules.min_working_days 3) needs 5 weeks: its window "
     "2027-08-05..2027-09-03 holds only 4 weeks"),
    (dict(already_visited=True, start=to_days("2027-08-05"), end=to_days("2027-09-30")),
     dict(virtual_until=to_days("2027-09-03")), "availability",
     "it already took part in a physical exchange (already_visited), so only a virtual exchange is open to it, and "
     "a virtual exchange takes one day a week, so its minimum stay of 5 days (max of min_days 5 and "
     "rules.min_working_days 3) needs 5 weeks: its window 2027-08-05..2027-09-30 holds only 4 weeks before the "
     "virtual cut-off 2027-09-03"),
    (dict(mode="physical", virtual=False, end=to_days("2027-03-03")), {}, "availability",
     "its window 2027-03-01..2027-03-03 has 3 working days, fewer than its minimum stay of 5 days (max of min_days 5 "
     "and rules.min_working_days 3)"),
])
def test_each_registration_check_refuses_and_words_it(values, ctx, rule, sentence):
    assert registration_reasons(side("V1", "ES", **values), context(**ctx)) == {rule: sentence}
