"""The Lagrangian relaxation of one node of branch-and-price: host rules and the cut pool priced.

:class:`CutRelaxation` is the :class:`~matchmaker.solve.lagrangian_relaxation.KnapsackRelaxation`
of a node's core (its forced pairs locked, its forbidden pairs left out) with the rows of a
:class:`~matchmaker.solve.schedule_cuts.CutPool` priced as well: a cut's locked pairs move
to its right-hand side, its other pairs get its price. Every row has a *key*
(:meth:`CutRelaxation.keys`), so a child node starts from its parent's prices
(:meth:`CutRelaxation.prices_to_int`) even though its rows differ.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.core import Core
from matchmaker.solve.lagrangian_relaxation import KnapsackRelaxation
from matchmaker.solve.schedule_cuts import CutPool


class CutRelaxation(KnapsackRelaxation):
    """A node's Lagrangian relaxation: the host rules of the parent class and the pool's cuts.

    Attributes (beyond :class:`KnapsackRelaxation`'s)
    -------------------------------------------------
    cut_keys : list of tuple -- the pool keys of the priced cuts, in row order.
    """

    def __init__(self, core: Core, pool: CutPool) -> None:
        super().__init__(core, [])
        p, c = core.problem, core.cand
        pos = np.full(p.n_pairs, -1, dtype=np.int64)
        pos[c] = np.arange(len(c))
        locked = np.zeros(p.n_pairs, dtype=bool)
        locked[core.locked] = True
        rows, cols, vals, rhs, self.cut_keys = [], [], [], [], []
        for key, cut in pool.rows.items():
            free = pos[cut.pairs] >= 0
            if not free.any():
                continue
            rows.append(np.full(int(free.sum()), len(rhs)))
            cols.append(pos[cut.pairs[free]])
            vals.append(cut.coef[free])
            rhs.append(cut.rhs - int(cut.coef[locked[cut.pairs]].sum()))
            self.cut_keys.append(key)
        if not rhs:
            return
        extra = sp.csr_matrix((np.concatenate(vals), (np.concatenate(cols), np.concatenate(rows))),
                              shape=(len(c), len(rhs)), dtype=np.int64)
        self.At = sp.hstack([self.At, extra]).tocsr()
        self.b = np.concatenate([self.b, np.asarray(rhs, dtype=np.int64)])
        self.kind = np.concatenate([self.kind, np.full(len(rhs), 4)])
        self.den, self.k = self._scale()
        self.cap = self._caps()

    def keys(self) -> list[tuple]:
        """The identity of each priced row, in row order."""
        out = [("host", int(h)) for h in self.hosts] + [("energy", int(h)) for h in self.ehosts]
        if self.programme:
            out.append(("programme",))
        out += [("fairness", int(f)) for f in self.fparts]
        return out + list(self.cut_keys)

    def prices_to_int(self, prices: dict) -> np.ndarray:
        """Integer prices ``M`` from prices in objective units by row key (missing: 0)."""
        m = np.array([float(prices.get(key, 0.0)) for key in self.keys()]) * (self.den / self.k)
        return np.clip(np.rint(m), 0, self.cap).astype(np.int64)

    def prices_of(self, M: np.ndarray) -> dict:
        """The prices ``M`` in objective units by row key (zero prices left out)."""
        scale = self.k / self.den
        return {key: float(m) * scale for key, m in zip(self.keys(), M.tolist()) if m}
