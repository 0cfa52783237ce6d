"""Blocking pairs against a brute force by the validator, on a generated round (slow).

For every catalogue pair not proposed whose visitor would gain (and whose pair is not
locked), the brute force tries the host with room and then the host releasing its
lowest-scoring unlocked visitor, at every start date of the pair, and asks the
independent validator whether the proposals so changed are valid. The pairs for which
some try is valid and the host gains are exactly :func:`blocking_pairs`' answer.
"""

from __future__ import annotations

import pandas as pd
import pytest

from matchmaker.compare import compare_round
from matchmaker.compare.base import Setting, method_proposals
from matchmaker.generator.generate import generate_round
from matchmaker.inputs.loading import load_round
from matchmaker.pairs.catalogue import build_catalogue
from matchmaker.proposals.validator import check_proposals
from matchmaker.quality.stability import blocking_pairs


def _valid_somewhen(setting: Setting, props: pd.DataFrame, j: int, gone: list[str]) -> bool:
    """Whether pair ``j``, replacing the visitors ``gone``, is valid at some start date."""
    p, rnd = setting.problem, setting.rnd
    rest = props[~props["visitor_id"].isin(gone)]
    for start in range(int(p.es[j]), int(p.ls[j]) + 1):
        violations = check_proposals(rnd, pd.concat([rest, method_proposals(setting, [j], [start])],
                                                     ignore_index=True))
        if not violations:
            return True
        if any(v.rule != "host_capacity" for v in violations):
            return False  # another start date would not help
    return False


def _brute_force(setting: Setting, props: pd.DataFrame) -> set[tuple[str, str]]:
    p, rnd = setting.problem, setting.rnd
    vid, hid = rnd.visitors["org_id"].to_numpy(), rnd.hosts["org_id"].to_numpy()
    current = {r.visitor_id: r for r in props.itertuples()}
    proposed = set(zip(props["visitor_id"], props["host_id"]))
    found = set()
    for j in range(p.n_pairs):
        v, h, score = vid[p.v[j]], hid[p.h[j]], p.score[j] / 100
        c = current.get(v)
        if (v, h) in proposed or (c is not None and (c.locked or score <= c.score)):
            continue
        at = props[(props["host_id"] == h) & ~props["locked"].astype(bool)].sort_values("score", kind="stable")
        options = [(None, score)] + ([(at["visitor_id"].iloc[0], score - at["score"].iloc[0])] if len(at) else [])
        if any(gain > 0 and _valid_somewhen(setting, props, j, [v] + ([u] if u else [])) for u, gain in options):
            found.add((v, h))
    return found


@pytest.mark.slow
def test_blocking_pairs_equal_the_brute_force(tmp_path):
    d = tmp_path / "round"
    generate_round(d, n_visitors=60, n_hosts=30, seed=5, budget_share=0.2)
    rnd = load_round(d)
    cat = build_catalogue(rnd)
    props = compare_round(rnd, cat, ["flow_then_budgets"], count_blocking=False)["flow_then_budgets"].proposals
    found = blocking_pairs(rnd, cat, props)
    assert len(found) >= 3
    assert set(zip(found["visitor_id"], found["host_id"])) == _brute_force(Setting.build(rnd, cat), props)
