"""Stable re-solve (issue 11): a Partnership's decisions change only its own pairs; the refusal when they
would change another Partnership's; the global re-solve; the churn measured against the base round."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matchmaker.cli import main
from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.ledger.carry_over import run_next_round
from matchmaker.ledger.churn import churn_by_partnership, pair_changes, pair_list
from matchmaker.ledger.exchanges import exchange_list
from matchmaker.ledger.resolve import ResolveRefusedError, propose_resolve, record_resolve
from matchmaker.ledger.store import Ledger
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.output_set import read_summary

WORK = 0.3  # deterministic work limit: small rounds, fast tests


def first_round(tmp_path, seed: int, n_visitors: int = 50, n_hosts: int = 25):
    d = tmp_path / f"round_{seed}"
    generate_round(d, n_visitors=n_visitors, n_hosts=n_hosts, seed=seed)
    led = Ledger(f"sqlite:///{tmp_path / f'ledger_{seed}.sqlite'}")
    res = run_next_round(d, tmp_path / f"out_{seed}_1", ledger_url=led, verbose=False, work_limit=WORK)
    assert res.round_id is not None
    return d, led, res.round_id


def three_decisions(led: Ledger, rid: int, rng: np.random.Generator) -> str:
    """A Partnership with at least 3 pairs accepts one, rejects one and locks one (its own pairs)."""
    props = led.proposals(rid)
    counts = props["partnership"].value_counts()
    p = str(rng.choice(sorted(counts[counts >= 3].index)))
    mine = props[props["partnership"] == p].sample(3, random_state=int(rng.integers(1 << 30)))
    for (v, h), decision in zip(zip(mine["visitor_id"], mine["host_id"]), ("accept", "reject", "lock")):
        led.decide(rid, v, h, decision, reviewer="reviewer@p.eu")
    return p


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_partnership_resolve_changes_no_other_partnership(tmp_path, seed):
    d, led, rid = first_round(tmp_path, seed)
    p = three_decisions(led, rid, np.random.default_rng(seed))
    res = propose_resolve(d, tmp_path / "resolve", led, p, work_limit=WORK)
    assert res.exit_code == 0 and res.refused.empty, res.describe()
    assert res.churn_outside == 0, res.describe()
    others = res.churn[res.churn["partnership"] != p]
    assert (others["pairs_before"] == others["pairs_after"]).all()
    assert len(led.rounds()) == 1  # proposing records nothing
    # the churn is in the re-solve's summary.json too (the officer's part), and the set still checks out
    churn = read_summary(tmp_path / "resolve")["round"]["churn"]
    assert churn["against_round"] == rid and churn["partnership"] == p
    assert churn["pairs_changed_in_other_partnerships"] == 0
    assert {r["partnership"] for r in churn["by_partnership"]} == set(res.churn["partnership"])
    new_id = record_resolve(led, res)
    # every other Partnership's pair is there again, same host and same dates
    before = led.proposals(rid)
    after = led.proposals(new_id)
    key = ["visitor_id", "host_id", "start_date", "end_date"]
    old = before[before["partnership"] != p][key].sort_values(key, ignore_index=True)
    new = after[after["partnership"] != p][key].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(old.astype(str), new.astype(str))
    # the decisions hold: the accepted pair stays in the list, the rejected one is not proposed
    lst = exchange_list(led, p, new_id)
    assert set(lst["status"]) >= {"accepted", "locked", "rejected"}
    assert lst.loc[lst["status"] == "accepted", "decided_in_round"].tolist() == [rid]


def test_global_resolve_may_change_every_partnership_and_is_recordable(tmp_path):
    d, led, rid = first_round(tmp_path, 5)
    three_decisions(led, rid, np.random.default_rng(5))
    res = propose_resolve(d, tmp_path / "global", led, None, work_limit=WORK)
    assert res.exit_code == 0 and res.recordable
    assert res.describe().startswith(f"global re-solve against round {rid}")
    assert record_resolve(led, res) == rid + 1


def _host_full_of_others(led: Ledger, rnd, rid: int):
    """(P, P's visitor v, host H): H's places all taken by other Partnerships' pairs, (v, H) eligible."""
    props = led.proposals(rid)
    cat = build_catalogue(rnd).pairs
    org_v, org_h = rnd.visitors["org_id"].to_numpy(), rnd.hosts["org_id"].to_numpy()
    maxv = dict(zip(rnd.hosts["org_id"], rnd.hosts["max_visitors"]))
    at = props.groupby("host_id")["partnership"].agg(list)
    for h, parts in at.items():
        if len(parts) < maxv[h]:
            continue
        rows = cat[org_h[cat["h"].to_numpy()] == h]
        for v, part in zip(org_v[rows["v"].to_numpy()], rows["partnership"].astype(str)):
            if part not in parts and v in set(props["visitor_id"]):
                return part, v, h
    return None


def test_refused_when_a_decision_takes_another_partnerships_place(tmp_path):
    d, led, rid = first_round(tmp_path, 7, n_visitors=60, n_hosts=20)
    rnd = load_round(d)
    found = _host_full_of_others(led, rnd, rid)
    assert found is not None, "the generated round has no full host to test with"
    p, v, h = found
    led.decide(rid, v, h, "lock", reviewer="office", rnd=rnd)
    res = propose_resolve(d, tmp_path / "refused", led, p, work_limit=WORK)
    assert not res.recordable and len(res.refused)
    affected = set(zip(res.refused["visitor_id"], res.refused["host_id"]))
    props = led.proposals(rid)
    assert affected == set(zip(props.loc[props["host_id"] == h, "visitor_id"], props.loc[props["host_id"] == h,
                                                                                          "host_id"]))
    assert (res.refused["partnership"] != p).all()
    text = res.describe()
    assert "refused" in text and "global re-solve by the Support Office" in text and h in text
    with pytest.raises(ResolveRefusedError, match="global re-solve"):
        record_resolve(led, res)
    assert len(led.rounds()) == 1
    # the Support Office's global re-solve honours the lock
    glob = propose_resolve(d, tmp_path / "global", led, None, work_limit=WORK)
    assert glob.recordable
    new = led.proposals(record_resolve(led, glob))
    assert ((new["visitor_id"] == v) & (new["host_id"] == h)).any()


def test_unknown_partnership_is_named(tmp_path):
    d, led, _ = first_round(tmp_path, 3, n_visitors=20, n_hosts=10)
    with pytest.raises(ValueError, match="partnership 'NOPE' is not in the round's partnerships.csv"):
        propose_resolve(d, tmp_path / "x", led, "NOPE", work_limit=WORK)


def test_churn_counts_each_kind_per_partnership():
    before = pair_list(pd.DataFrame({
        "visitor_id": ["a", "b", "c", "d"], "host_id": ["H1", "H2", "H3", "H4"],
        "start_date": ["2027-03-01"] * 4, "end_date": ["2027-03-05"] * 4, "partnership": ["P", "P", "Q", "Q"]}))
    after = pair_list(pd.DataFrame({
        "visitor_id": ["a", "b", "c", "e"], "host_id": ["H1", "H9", "H3", "H4"],
        "start_date": ["2027-03-01", "2027-03-01", "2027-03-08", "2027-03-01"],
        "end_date": ["2027-03-05", "2027-03-05", "2027-03-12", "2027-03-05"], "partnership": ["P", "P", "Q", "Q"]}))
    changes = pair_changes(before, after)
    assert dict(zip(changes["visitor_id"], changes["change"])) == {"b": "new host", "c": "new dates",
                                                                  "d": "removed", "e": "added"}
    churn = churn_by_partnership(before, after, changes, ["P", "Q", "R"]).set_index("partnership")
    assert churn["pairs_changed"].to_dict() == {"P": 1, "Q": 3, "R": 0}


def test_resolve_command_dry_run_then_record(tmp_path, capsys):
    d = tmp_path / "r"
    generate_round(d, n_visitors=40, n_hosts=20, seed=13)
    assert main(["solve", str(d), "--out", str(tmp_path / "o1"), "--work-limit", str(WORK), "--quiet"]) == 0
    with Ledger.for_round_dir(d) as led:
        p = three_decisions(led, led.latest_round_id(), np.random.default_rng(13))
    args = ["resolve", str(d), "--partnership", p, "--work-limit", str(WORK), "--quiet"]
    assert main([*args, "--out", str(tmp_path / "dry"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"re-solve of {p} against round 1" in out and "0 of them in other Partnerships" in out
    assert "dry run: nothing recorded" in out
    with Ledger.for_round_dir(d) as led:
        assert len(led.rounds()) == 1
    assert main([*args, "--out", str(tmp_path / "rec")]) == 0
    assert "recorded as round 2 in the ledger" in capsys.readouterr().out
    assert main(["resolve", str(d), "--out", str(tmp_path / "glob"), "--work-limit", str(WORK), "--quiet"]) == 0
    assert "global re-solve against round 2" in capsys.readouterr().out


def test_partnership_resolve_with_a_forbid_on_another_partnerships_unpaired_visitor(tmp_path):
    """The README's flow: the generated decisions.csv forbids a pair whose visitor (another Partnership's, unpaired
    in the base round) is left out of the re-solve; the re-solve used to crash with a KeyError on that visitor."""
    d, led, rid = first_round(tmp_path, 5)
    p = three_decisions(led, rid, np.random.default_rng(5))
    rnd = load_round(d)
    props = led.proposals(rid)
    unpaired = rnd.visitors[(rnd.visitors["partnership"] != p) & ~rnd.visitors["org_id"].isin(props["visitor_id"])]
    assert len(unpaired)
    dec = pd.read_csv(d / "decisions.csv", dtype=str) if (d / "decisions.csv").exists() else pd.DataFrame(
        columns=["visitor_id", "host_id", "decision", "comment"])
    row = {"visitor_id": unpaired["org_id"].iloc[0], "host_id": rnd.hosts["org_id"].iloc[0], "decision": "forbid",
           "comment": "conflict of interest"}
    pd.concat([dec, pd.DataFrame([row])], ignore_index=True).to_csv(d / "decisions.csv", index=False)
    res = propose_resolve(d, tmp_path / "resolve", led, p, work_limit=WORK)
    assert res.exit_code == 0 and res.churn_outside == 0, res.describe()
