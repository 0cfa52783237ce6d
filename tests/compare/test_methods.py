"""The comparison methods on small generated rounds: valid proposals, deterministic, their blocking pairs real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matchmaker.common.errors import SettingsError
from matchmaker.compare import METHODS, compare_round, comparison_table, ours_result
from matchmaker.compare.base import Setting, cut_to_budgets, method_proposals
from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.validator import check_proposals
from matchmaker.quality.stability import blocking_pairs
from matchmaker.solve.problem import make_instance

#: (visitors, hosts, seed, budget share): budgets that bind (a share of 0.2-0.5 of the visitors
#: can be paid), grouped and individual hosts, and the generator's locked and forbidden pairs.
ROUNDS = {"tight_budget": (60, 30, 3, 0.2), "few_hosts": (80, 20, 5, 0.5), "many_hosts": (40, 40, 8, 0.3)}


@pytest.fixture(scope="module", params=sorted(ROUNDS))
def compared(request, tmp_path_factory):
    nv, nh, seed, share = ROUNDS[request.param]
    d = tmp_path_factory.mktemp(request.param) / "round"
    generate_round(d, n_visitors=nv, n_hosts=nh, seed=seed, budget_share=share)
    rnd = load_round(d)
    cat = build_catalogue(rnd)
    return rnd, cat, compare_round(rnd, cat)


def test_the_rounds_bind(compared):
    rnd, _, results = compared
    grouped = rnd.hosts["grouped"].fillna(False).astype(bool)
    assert grouped.any() and (~grouped).any()
    # the flow without budgets spends more than some Partnership has: the budgets bind
    assert any("within their budgets" in n for n in results["flow_then_budgets"].notes)


@pytest.mark.parametrize("key", list(METHODS))
def test_each_method_passes_the_validator(compared, key):
    rnd, _, results = compared
    r = results[key]
    assert r.key == key and r.name == METHODS[key].name
    assert len(r.proposals) > 0
    assert check_proposals(rnd, r.proposals) == []


def test_methods_are_deterministic(compared):
    rnd, cat, results = compared
    again = compare_round(rnd, cat)
    for key, r in results.items():
        pd.testing.assert_frame_equal(r.proposals, again[key].proposals)
        assert r.blocking_pairs == again[key].blocking_pairs and r.notes == again[key].notes


def test_score_order_takes_the_best_pair_first(compared):
    rnd, cat, results = compared
    s = Setting.build(rnd, cat)
    best = s.core.cand[np.argmax(s.problem.score[s.core.cand])]
    vid, hid = rnd.visitors["org_id"].iloc[s.problem.v[best]], rnd.hosts["org_id"].iloc[s.problem.h[best]]
    props = results["ranked_score_order"].proposals
    assert ((props["visitor_id"] == vid) & (props["host_id"] == hid)).any()


def _apply(setting: Setting, proposals: pd.DataFrame, row) -> pd.DataFrame:
    """The proposals after one blocking pair is taken up (the visitor moves, the host releases)."""
    p, rnd = setting.problem, setting.rnd
    v, h = rnd.visitor_index()[row.visitor_id], rnd.host_index()[row.host_id]
    j = int(np.flatnonzero((p.v == v) & (p.h == h))[0])
    start = np.datetime64(row.start_date, "D")
    if p.physical[j]:
        s = np.busday_count(p.base_date, start, busdaycal=p.calendar)
    else:
        s = (start - p.base_date).astype(int)
    gone = proposals["visitor_id"].isin([row.visitor_id, row.host_would_release])
    return pd.concat([proposals[~gone], method_proposals(setting, [j], [s])], ignore_index=True)


def test_blocking_pairs_are_real(compared):
    """Each blocking pair, taken up, gives proposals the validator accepts, and both sides gain."""
    rnd, cat, results = compared
    setting = Setting.build(rnd, cat)
    props = results["stable_matching"].proposals
    found = blocking_pairs(rnd, cat, props)
    assert len(found) == results["stable_matching"].blocking_pairs > 0
    assert (found["visitor_gain"] > 0).all() and (found["host_gain"] > 0).all()
    for row in found.head(12).itertuples():
        assert check_proposals(rnd, _apply(setting, props, row)) == [], row


def test_comparison_table(compared):
    rnd, cat, results = compared
    ours = ours_result(rnd, cat, results["ranked_score_order"].proposals, 1.5)
    table = comparison_table(results, ours)
    assert list(table.columns) == ["method", "exchanges", "physical", "virtual", "total score", "budget used (EUR)",
                                   "budget used (%)", "blocking pairs", "seconds", "score vs ours",
                                   "exchanges vs ours"]
    assert table["method"].tolist() == [ours.name] + [m.name for m in METHODS.values()]
    assert (table["physical"] + table["virtual"] == table["exchanges"]).all()
    assert table.loc[2, "score vs ours"] == 1.0 and table.loc[0, "exchanges vs ours"] == 1.0


def test_unknown_method_is_refused(compared):
    rnd, cat, _ = compared
    with pytest.raises(SettingsError, match="unknown comparison method.*ranked_registration_order"):
        compare_round(rnd, cat, ["greedy"])


def test_cut_to_budgets_drops_the_lowest_key_until_it_fits():
    # one Partnership, budget 250 cents; pairs cost 100 each with keys 3, 1, 2, 4 (one per visitor)
    p = make_instance({"v": [0, 1, 2, 3], "h": [0, 0, 0, 0], "score": [300, 100, 200, 400], "cost": [100] * 4,
                       "physical": [False] * 4, "duration": [3] * 4, "es": [0] * 4, "ls": [0] * 4},
                      capacity=[4], max_visitors=[4], budget=[250])
    kept, dropped = cut_to_budgets(p, [0, 1, 2, 3], p.score)
    assert kept.tolist() == [0, 3] and dropped == 2
