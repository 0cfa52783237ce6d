"""A round end to end: ``run_round`` and ``matchmaker solve`` on small hand-made rounds."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import host, visitor

from matchmaker.inputs.loading import load_round
from matchmaker.proposals.validator import check_proposals_file
from matchmaker.run import run_round

DESIGN_COLUMNS = ["visitor_id", "visitor_name", "visitor_country", "visitor_country_name", "host_id", "host_name",
                  "host_country", "host_country_name", "host_partnership", "mode", "start_date", "end_date",
                  "working_days", "schedule", "distance_km", "lump_sum_eur", "partnership", "score"]

PT = dict(country="PT", city="Porto", latitude=41.1579, longitude=-8.6291)
IT = dict(country="IT", city="Milan", latitude=45.4642, longitude=9.19)


def solve_dir(d, out, **kw):
    rnd = load_round(d)
    code = run_round(rnd, out, verbose=False, **kw)
    read = lambda name: pd.read_csv(out / name, dtype={"visitor_id": str, "host_id": str})  # noqa: E731
    summary = json.loads((out / "summary.json").read_text())
    if code != 0:
        return code, None, None, summary
    return code, read("proposals.csv"), read("unmatched.csv"), summary


def test_run_round_writes_valid_proposals_unmatched_and_summary(small_round, tmp_path):
    out = tmp_path / "out"
    code, props, unmatched, summary = solve_dir(small_round, out, time_limit=30)
    assert code == 0
    assert list(props.columns[:len(DESIGN_COLUMNS)]) == DESIGN_COLUMNS
    assert props.columns[-1] == "locked" and any(c.startswith("score_") for c in props.columns)
    assert props.equals(props.sort_values(["partnership", "visitor_id"], ignore_index=True))
    assert check_proposals_file(load_round(small_round), out / "proposals.csv") == []
    assert ("V001", "H001") in set(zip(props["visitor_id"], props["host_id"]))  # the lock
    assert set(props["visitor_id"]) | set(unmatched["visitor_id"]) == {"V001", "V002", "V003"}
    assert not set(props["visitor_id"]) & set(unmatched["visitor_id"])
    officer, solver = summary["round"], summary["solver"]
    assert solver["status"] == "optimal" and solver["gap"] == 0
    assert solver["objective"] == pytest.approx(props["score"].sum(), abs=0.01 * len(props))
    assert officer["total_score"] == pytest.approx(props["score"].sum(), abs=0.005)
    for k in ("settings", "input_hash", "seed"):
        assert k in summary
    for k in ("bound", "times_s", "catalogue", "phases"):
        assert k in solver
    assert solver["work_limit"] == pytest.approx(0.75 * 30) and officer["reproducible"] is True
    assert "same proposals" in officer["reproducible_note"]
    clamtex = next(b for b in officer["budgets"] if b["partnership"] == "CLAMTEX")
    assert clamtex["used_eur"] + clamtex["remaining_eur"] == pytest.approx(clamtex["budget_eur"])


def test_grouped_host_receives_visitors_on_the_same_dates(make_round, tmp_path):
    rows = [visitor(), visitor(org_id="V002"), host(**IT, capacity=2, max_visitors=2, grouped=True,
                                                    available_from="2027-03-01", available_to="2027-03-12")]
    code, props, _, _ = solve_dir(make_round(rows), tmp_path / "out")
    assert code == 0 and len(props) == 2
    assert props["start_date"].nunique() == 1


def test_individual_host_receives_visitors_one_after_the_other(make_round, tmp_path):
    rows = [visitor(min_days=5, max_days=5), visitor(org_id="V002", min_days=5, max_days=5),
            host(**IT, capacity=1, max_visitors=2, available_from="2027-03-01", available_to="2027-03-12")]
    d = make_round(rows)
    code, props, _, _ = solve_dir(d, tmp_path / "out")
    assert code == 0 and len(props) == 2
    a, b = sorted(zip(props["start_date"], props["end_date"]))
    assert a[1] < b[0]  # no day shared
    assert check_proposals_file(load_round(d), tmp_path / "out" / "proposals.csv") == []


def test_forbidden_pair_is_never_proposed(make_round, tmp_path):
    rows = [visitor(), host(**IT), host(org_id="H002")]
    d = make_round(rows, decisions=[{"visitor_id": "V001", "host_id": "H002", "decision": "forbid"}])
    code, props, _, _ = solve_dir(d, tmp_path / "out")
    assert code == 0
    assert list(props["host_id"]) == ["H001"]


def test_two_locks_of_one_visitor_make_the_round_infeasible_and_are_named(make_round, tmp_path, capsys):
    rows = [visitor(), host(), host(**IT)]
    d = make_round(rows, decisions=[{"visitor_id": "V001", "host_id": "H001"},
                                    {"visitor_id": "V001", "host_id": "H002"}])
    code, _, _, summary = solve_dir(d, tmp_path / "out")
    assert code == 1
    assert summary["solver"]["status"] == "infeasible"
    text = " ".join(summary["round"]["conflicts"])
    assert "one_exchange_per_visitor" in text and "V001 -> H001" in text and "V001 -> H002" in text
    assert "cannot all be honoured" in capsys.readouterr().err


def test_lock_refused_by_a_rule_makes_the_round_infeasible_and_names_the_rule(make_round, tmp_path):
    rows = [visitor(), host(country="ES", city="Madrid", latitude=40.4168, longitude=-3.7038)]
    d = make_round(rows, decisions=[{"visitor_id": "V001", "host_id": "H001"}])
    code, _, _, summary = solve_dir(d, tmp_path / "out")
    assert code == 1
    assert "different_countries" in " ".join(summary["round"]["conflicts"])


def test_unmatched_reasons_name_budget_full_hosts_and_ineligible(make_round, tmp_path):
    parts = [{"partnership_id": "CLAMTEX", "budget_eur": 1000}, {"partnership_id": "BLUES", "budget_eur": 5000}]
    rows = [visitor(org_id="V001"), visitor(org_id="V002"),            # CLAMTEX has money for one of them
            visitor(org_id="V005", org_type="other"),                  # ineligible registration
            visitor(org_id="V006", partnership="BLUES", **PT),         # only H002 (IT) is eligible ...
            visitor(org_id="V007", partnership="BLUES"),               # ... and V007 is locked there
            host(org_id="H001", **PT, max_visitors=5), host(org_id="H002", **IT, max_visitors=1)]
    d = make_round(rows, partnerships=parts, decisions=[{"visitor_id": "V007", "host_id": "H002"}])
    code, props, unmatched, summary = solve_dir(d, tmp_path / "out")
    assert code == 0
    reasons = dict(zip(unmatched["visitor_id"], unmatched["reason_code"]))
    assert reasons == {"V002": "budget_spent", "V005": "ineligible_registration", "V006": "hosts_full"} or \
        reasons == {"V001": "budget_spent", "V005": "ineligible_registration", "V006": "hosts_full"}
    text = unmatched.set_index("reason_code").loc["budget_spent", "reason"]
    assert text.startswith("the budget of its Partnership, CLAMTEX, is spent: EUR ")
    assert "partnership CLAMTEX" not in text and "max_visitors" not in unmatched["reason"].str.cat()
    full = unmatched.set_index("reason_code").loc["hosts_full", "reason"]
    assert full.startswith("every eligible host (1 host) is full: each already takes as many visitors as it offers")
    by_reason = summary["round"]["unmatched_by_reason"]
    assert sum(r["visitors"] for r in by_reason) == len(unmatched) == summary["round"]["visitors_unmatched"]
    assert {r["reason_code"]: r["reason"] for r in by_reason}["budget_spent"] == "its Partnership's budget is spent"


def test_no_eligible_host_reason_counts_the_rules(make_round, tmp_path):
    rows = [visitor(), visitor(org_id="V002", **PT), host(**PT)]
    code, _, unmatched, _ = solve_dir(make_round(rows), tmp_path / "out")
    assert code == 0
    row = unmatched.set_index("visitor_id").loc["V002"]
    assert row["reason_code"] == "no_eligible_host"
    assert "the rule of visitor and host in different countries refuses 1 host" in row["reason"]
    assert "different_countries" not in row["reason"]


def test_same_round_and_seed_write_the_same_proposals(small_round, tmp_path):
    solve_dir(small_round, tmp_path / "a", seed=5)
    solve_dir(small_round, tmp_path / "b", seed=5)
    assert (tmp_path / "a" / "proposals.csv").read_bytes() == (tmp_path / "b" / "proposals.csv").read_bytes()


def test_progress_goes_to_the_callback_and_the_terminal(small_round, tmp_path, capsys):
    seen = []
    code = run_round(load_round(small_round), tmp_path / "out", verbose=True, progress=seen.append)
    assert code == 0
    assert [s["phase"] for s in seen][0] == "locks" and seen[-1]["phase"] == "done"
    out = capsys.readouterr().out
    assert "(placing the locked pairs)" in out and "bound" in out and "wrote" in out


def test_cli_solve_writes_the_three_files(small_round, tmp_path):
    from matchmaker.cli import main

    out = tmp_path / "cli"
    assert main(["solve", str(small_round), "--out", str(out), "--time-limit", "20", "--seed", "1", "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} >= {"proposals.csv", "unmatched.csv", "summary.json"}
    assert json.loads((out / "summary.json").read_text())["seed"] == 1


def test_visitors_whose_pairs_all_score_below_min_score_are_reported_as_pruned(make_round, tmp_path):
    rows = [visitor(), visitor(org_id="V002"), host(**IT, max_visitors=2)]
    d = make_round(rows, settings={"scoring": {"options": {"min_score": 99.0}}})
    code, props, unmatched, summary = solve_dir(d, tmp_path / "out")
    assert code == 0 and len(props) == 0
    assert set(unmatched["reason_code"]) == {"pruned"}
    assert unmatched["reason"].iloc[0].startswith("every eligible pair scores below 99 points, the lowest score")
    assert "min_score" not in unmatched["reason"].iloc[0]
    assert summary["solver"]["status"] == "optimal"


def test_work_limit_comes_from_the_settings_and_the_cli_overrides_it(small_round, tmp_path, monkeypatch):
    import matchmaker.run as run_module
    from matchmaker.cli import main

    (small_round / "settings.toml").write_text("[solver]\nwork_limit = 3.0\n")
    code, _, _, summary = solve_dir(small_round, tmp_path / "a", time_limit=30)
    assert code == 0 and summary["solver"]["work_limit"] == 3.0 and summary["solver"]["versions"]["highs"]
    code, _, _, summary = solve_dir(small_round, tmp_path / "b", time_limit=30, work_limit=2.5)
    assert code == 0 and summary["solver"]["work_limit"] == 2.5
    with pytest.raises(ValueError, match=r"work_limit \(--work-limit\) must be a finite number > 0 work units"):
        solve_dir(small_round, tmp_path / "c", work_limit=-1)
    seen = {}
    monkeypatch.setattr(run_module, "run_round", lambda rnd, out, **kw: seen.update(kw) or 0)
    assert main(["solve", str(small_round), "--out", str(tmp_path / "d"), "--work-limit", "2", "--quiet",
                 "--no-record"]) == 0  # a trial solve: run_round itself (a recorded one goes through the ledger)
    assert seen["work_limit"] == 2.0


def test_cli_solve_names_a_bad_limit_instead_of_failing(small_round, tmp_path, capsys):
    from matchmaker.cli import main
    from matchmaker.common.errors import SettingsError

    with pytest.raises(SystemExit) as info:  # bad usage (issue 10): argparse names the option, exit code 2
        main(["solve", str(small_round), "--out", str(tmp_path / "out"), "--time-limit", "0", "--quiet"])
    assert info.value.code == 2
    assert "argument --time-limit: '0': must be a finite number > 0" in capsys.readouterr().err
    with pytest.raises(SettingsError, match=r"time_limit \(--time-limit\) must be a finite number > 0 seconds"):
        run_round(load_round(small_round), tmp_path / "out", time_limit=0)  # the solve configuration checks again


def test_a_solve_stopped_by_the_clock_says_it_may_not_be_reproducible(small_round, tmp_path, monkeypatch, capsys):
    from matchmaker.solve.effort import Effort

    monkeypatch.setattr(Effort, "out_of_time", lambda self: True)
    code = run_round(load_round(small_round), tmp_path / "out", time_limit=30, verbose=True)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert code == 0 and summary["round"]["reproducible"] is False
    note = summary["round"]["reproducible_note"]  # the clock's step in words (task R), not the phase's code
    assert "time limit stopped the solver at the step 'placing the locked pairs' before its work limit" in note
    assert "a re-run may give different proposals" in capsys.readouterr().out
