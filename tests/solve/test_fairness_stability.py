"""The fairness groups (``solver.fairness_by``) and the stability option (``solver.stability_weight``),
docs/decisions.md §38, on hand-made rounds with scores set on the catalogue.

Fairness round: visitors V001 and V002 from Spain, V003 from Italy, all of one Partnership;
hosts H001 and H002 in Porto (one visitor each). Scores: V001-H001 90, V002-H002 80,
V003-H001 30, V003-H002 25, V001-H002 10, V002-H001 10. The best proposals (170) leave the
Italian visitor out. A share of 0.5 by Partnership (target 2 of 3) is met by them; by
country (Spain 1 of 2, Italy 1 of 1) it binds: V001-H001 and V003-H002, 115.

Stability round: V001 and V002, H001 and H002. V001-H001 100, V001-H002 60, V002-H001 90,
V002-H002 5. The highest total (V001-H002 + V002-H001 = 150) leaves a blocking pair
(V001 and H001 both gain); with the stability option V001-H001 + V002-H002 (105) has none.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import host, visitor, write_round

from matchmaker.common.errors import SettingsError
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.fairness import fairness_lines, fairness_shortfall
from matchmaker.quality.stability import blocking_pairs
from matchmaker.run import proposals_table
from matchmaker.solve.config import SolveConfig
from matchmaker.solve.problem import build_instance, make_instance, objective_weights
from matchmaker.solve.stability_weights import stability_weights
from matchmaker.solver import solve
from matchmaker.ui.settings_panel import SettingsPanel

IT = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)
FAIR_SCORES = {("V001", "H001"): 90.0, ("V002", "H002"): 80.0, ("V003", "H001"): 30.0, ("V003", "H002"): 25.0,
               ("V001", "H002"): 10.0, ("V002", "H001"): 10.0}
STABLE_SCORES = {("V001", "H001"): 100.0, ("V001", "H002"): 60.0, ("V002", "H001"): 90.0, ("V002", "H002"): 5.0}


def _round(tmp_path, rows, scores, **solver):
    parts = [{"budget_eur": 50000, "member_countries": "ES;PT;IT"}]
    settings = {"solver": solver} if solver else None
    rnd = load_round(write_round(tmp_path, rows, partnerships=parts, settings=settings))
    cat = build_catalogue(rnd)
    vid = rnd.visitors["org_id"].to_numpy()[cat.pairs["v"].to_numpy()]
    hid = rnd.hosts["org_id"].to_numpy()[cat.pairs["h"].to_numpy()]
    assert len(cat.pairs) == len(scores)
    cat.pairs["score"] = [scores[(a, b)] for a, b in zip(vid, hid)]
    return rnd, cat


def _solve(rnd, cat):
    problem = build_instance(rnd, cat)
    result = solve(problem, SolveConfig(time_limit=30))
    assert result.status == "optimal"
    props = proposals_table(rnd, cat, problem, result)
    return problem, props


def _fair_round(tmp_path, **solver):
    rows = [visitor(partnership="P01"), visitor(partnership="P01"), visitor(partnership="P01", **IT),
            host(partnership="P01"), host(partnership="P01")]
    return _round(tmp_path, rows, FAIR_SCORES, **solver)


def _pairs(props) -> set:
    return set(zip(props["visitor_id"], props["host_id"]))


def test_fairness_by_country_binds_meets_the_share_and_costs_score(tmp_path):
    rnd, cat = _fair_round(tmp_path / "none")
    _, free = _solve(rnd, cat)
    assert _pairs(free) == {("V001", "H001"), ("V002", "H002")} and free["score"].sum() == pytest.approx(170)

    rnd, cat = _fair_round(tmp_path / "country", fairness_share=0.5, fairness_by="country")
    problem, fair = _solve(rnd, cat)
    assert problem.fair_groups == ["ES", "IT"] and problem.fairness_targets().tolist() == [1, 1]
    assert _pairs(fair) == {("V001", "H001"), ("V003", "H002")}
    assert fair["score"].sum() == pytest.approx(115) and fair["score"].sum() < free["score"].sum()
    report = fairness_shortfall(problem, fair)
    assert [(r["group"], r["target"], r["exchanges"], r["shortfall"]) for r in report] == [("ES", 1, 1, 0),
                                                                                          ("IT", 1, 1, 0)]
    assert report[1]["text"] == ("visitors from IT: 1 exchange(s) for 1 eligible visitor(s), target 1 (50%); "
                                 "target met")
    assert fairness_lines(report)[0] == "fairness: every group met its target (2 group(s))"
    named = fairness_shortfall(problem, fair, rnd.countries)  # the country's name, not its code alone (R13)
    assert named[1]["text"].startswith("visitors from Italy (IT): 1 exchange(s)") and named[1]["group"] == "IT"


def test_fairness_shortfall_does_not_claim_a_proof_the_solver_may_not_have(tmp_path):
    """Seen on the sample at work limit 5 (gap 364 %): a group short of its target was said to have
    'no valid set of proposals that reaches it', which only a proof could say."""
    rnd, cat = _fair_round(tmp_path, fairness_share=0.5, fairness_by="country")
    problem, fair = _solve(rnd, cat)
    short = fairness_shortfall(problem, fair.iloc[:1])  # one exchange taken away: a group is short
    assert [r["shortfall"] for r in short] == [1, 0]
    assert short[0]["text"].endswith("1 short of the target (no proposals the solver found within its limits "
                                     "reach it)")
    assert "no valid set" not in short[0]["text"]


def test_fairness_by_partnership_is_met_by_the_best_proposals(tmp_path):
    rnd, cat = _fair_round(tmp_path, fairness_share=0.5, fairness_by="partnership")
    problem, props = _solve(rnd, cat)
    assert problem.fair_groups == problem.partnerships and problem.fairness_targets().tolist() == [2]
    assert props["score"].sum() == pytest.approx(170)
    assert [r["shortfall"] for r in fairness_shortfall(problem, props)] == [0]


def test_a_shortfall_is_reported_per_group_in_words(tmp_path):
    # share 1 by country: Spain wants 2 and Italy 1, but there are two hosts only; every
    # choice leaves 1 exchange short in all, so the score decides (Spain's two pairs, 170)
    rnd, cat = _fair_round(tmp_path, fairness_share=1.0, fairness_by="country")
    problem, props = _solve(rnd, cat)
    assert _pairs(props) == {("V001", "H001"), ("V002", "H002")}
    report = fairness_shortfall(problem, props)
    assert [(r["group"], r["shortfall"]) for r in report] == [("IT", 1), ("ES", 0)]
    assert "1 short of the target" in report[0]["text"]
    assert fairness_lines(report)[0] == "fairness: 1 exchange(s) short of the targets in 1 of 2 group(s)"


def test_fairness_groups_in_a_solver_instance_of_its_own():
    # two countries as groups 0 and 1 of one partnership, on the arrays directly
    pairs = [dict(v=0, h=0, score=9000, cost=0, physical=False, duration=5, es=0, ls=0),
             dict(v=1, h=0, score=2000, cost=0, physical=False, duration=5, es=0, ls=0)]
    p = make_instance(pairs, capacity=[1], max_visitors=[1], budget=[0], fairness_share=1.0,
                      fair=[0, 1], visitor_fair=[0, 1], fair_groups=["ES", "IT"], fairness_by="country")
    assert p.fairness_targets().tolist() == [1, 1]
    result = solve(p)
    assert result.stats["shortfall"] == 1 and p.v[result.pairs].tolist() == [0]
    with pytest.raises(ValueError, match="fairness group outside"):
        make_instance(pairs, capacity=[1], max_visitors=[1], budget=[0], fair=[0, 2], visitor_fair=[0, 1],
                      fair_groups=["ES", "IT"])


@pytest.mark.parametrize("solver, words", [
    ({"fairness_by": "region"}, "solver.fairness_by' = 'region': must be one of partnership, country"),
    ({"stability_weight": -1.0}, "solver.stability_weight' = -1.0: must be from 0"),
    ({"stability_weight": 11.0}, "solver.stability_weight' = 11.0: must be from 0 (off: the total score) to 10"),
])
def test_unknown_or_out_of_range_settings_are_errors(solver, words):
    with pytest.raises(SettingsError) as info:
        load_settings(overrides={"solver": solver})
    assert words in str(info.value)


def test_stability_weights_zero_is_the_score_itself():
    score = np.array([10000, 9000, 6000, 1, 0])
    assert stability_weights(score, 0.0) is not None and (stability_weights(score, 0.0) == score).all()
    assert stability_weights(score, 2.0).tolist() == [10000, 7290, 2160, 1, 0]
    pairs = [dict(v=0, h=0, score=9000, cost=0, physical=False, duration=5, es=0, ls=0)]
    w, _ = objective_weights(make_instance(pairs, capacity=[1], max_visitors=[1], budget=[0]))
    assert w.tolist() == [9000]


def test_stability_weight_removes_the_blocking_pair(tmp_path):
    rows = [visitor(partnership="P01"), visitor(partnership="P01"), host(partnership="P01"),
            host(partnership="P01", **IT)]
    rnd, cat = _round(tmp_path / "plain", rows, STABLE_SCORES)
    _, plain = _solve(rnd, cat)
    assert _pairs(plain) == {("V001", "H002"), ("V002", "H001")} and plain["score"].sum() == pytest.approx(150)
    blocking = blocking_pairs(rnd, cat, plain)
    assert list(zip(blocking["visitor_id"], blocking["host_id"])) == [("V001", "H001")]

    rnd, cat = _round(tmp_path / "stable", rows, STABLE_SCORES, stability_weight=2.0)
    _, stable = _solve(rnd, cat)
    assert _pairs(stable) == {("V001", "H001"), ("V002", "H002")}
    assert stable["score"].sum() == pytest.approx(105)  # the price: 45 points of total score
    assert len(blocking_pairs(rnd, cat, stable)) == 0


def test_the_settings_panel_offers_the_fairness_groups_as_a_choice():
    panel = SettingsPanel()
    control = panel.controls["solver.fairness_by"]
    assert list(control.options) == ["partnership", "country"] and control.value == "partnership"
    assert panel.controls["solver.stability_weight"].value == 0.0
