"""The stable matching is the `matching` package's own hospital-resident answer, and stable."""

from __future__ import annotations

import numpy as np
from matching.games import HospitalResident

from matchmaker.compare.stable import stable_pairs
from matchmaker.solve.problem import make_instance


def _instance(seed: int):
    rng = np.random.default_rng(seed)
    nv, nh = 9, 4
    v, h = np.divmod(np.flatnonzero(rng.random(nv * nh) < 0.7), nh)
    n = len(v)
    pairs = {"v": v, "h": h, "score": rng.permutation(n) * 100 + 100, "cost": np.zeros(n, int),
             "physical": np.zeros(n, bool), "duration": np.full(n, 3), "es": np.zeros(n, int), "ls": np.zeros(n, int)}
    return make_instance(pairs, capacity=[1] * nh, max_visitors=rng.integers(1, 3, nh), budget=[0], n_visitors=nv)


def test_stable_pairs_equal_the_packages_game():
    for seed in range(5):
        p = _instance(seed)
        cand = np.arange(p.n_pairs)
        room = p.max_visitors.astype(np.int64)
        ours = stable_pairs(p, cand, room)
        # the package's own game (its constructor copies the players; fine on 9 x 4)
        by_v, by_h = np.lexsort((p.h, -p.score)), np.lexsort((p.v, -p.score))  # best score first
        vp = {int(a): p.h[by_v][p.v[by_v] == a].tolist() for a in np.unique(p.v)}
        hp = {int(b): p.v[by_h][p.h[by_h] == b].tolist() for b in np.unique(p.h)}
        game = HospitalResident.create_from_dictionaries(vp, hp, {b: int(room[b]) for b in hp})
        matching = game.solve(optimal="resident")
        assert game.check_stability() and game.check_validity()
        want = sorted((r.name, hosp.name) for hosp, rs in matching.items() for r in rs)
        assert sorted(zip(p.v[ours].tolist(), p.h[ours].tolist())) == want
