"""The Dantzig-Wolfe master of the Lagrangian relaxation: where the next prices come from.

The master mixes the partnerships' knapsack solutions found so far (convexly, one
convexity row per partnership) under the priced rows of a
:class:`~matchmaker.solve.lagrangian_relaxation.KnapsackRelaxation`, solved by HiGHS.
Its row duals are the next prices (:func:`matchmaker.solve.lagrangian.lagrangian` smooths
them towards the best so far); its value is a lower estimate of the best bound ``L``;
the columns it uses are a small set of pairs that good solutions draw from.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matchmaker.solve.highs import Highs
from matchmaker.solve.lagrangian_relaxation import KnapsackRelaxation


class DantzigWolfeMaster:
    """The Dantzig-Wolfe master: knapsack solutions mixed convexly under the priced rows.

    One column per knapsack solution of a partnership (its pairs' weight and their use
    of the priced rows), one convexity row per partnership, and a shortfall column per
    fairness row. Its value is a lower estimate of the best ``L``; its row duals are the
    next prices.
    """

    def __init__(self, rel: KnapsackRelaxation) -> None:
        self.rel, core = rel, rel.core
        p = core.problem
        self.n_priced, self.n_parts = len(rel.b), p.n_partnerships
        fr = np.flatnonzero(rel.kind == 3)  # shortfall columns: a missing fair exchange costs the penalty
        shortfall = sp.csc_matrix((-np.ones(len(fr)), (fr, np.arange(len(fr)))),
                                  shape=(self.n_priced + self.n_parts, len(fr)))
        self.model = Highs(seed=0)
        self.model.load(np.full(len(fr), float(core.penalty)), shortfall,
                        np.concatenate([rel.b, np.ones(self.n_parts)]), -rel.b[fr].astype(float))
        self.columns: list[tuple[int, np.ndarray]] = []

    def add(self, x: np.ndarray) -> None:
        """One column per partnership from knapsack choices ``x`` (cand positions)."""
        parts = self.rel.core.problem.part[self.rel.core.cand[x]]
        self.add_columns([(q, x[parts == q]) for q in range(self.n_parts)])

    def add_columns(self, columns: list[tuple[int, np.ndarray]]) -> None:
        """Columns given as ``(partnership, its chosen cand positions)``, each a knapsack solution."""
        if not columns:
            return
        c, core = self.rel.core.cand, self.rel.core
        coef = np.zeros((self.n_priced + self.n_parts, len(columns)))
        cost = np.zeros(len(columns))
        for i, (q, xq) in enumerate(columns):
            coef[:self.n_priced, i] = np.asarray(self.rel.At[xq].sum(axis=0)).ravel()
            coef[self.n_priced + q, i] = 1.0
            cost[i] = -float(core.w[c[xq]].sum())
            self.columns.append((q, xq))
        self.model.add_cols(cost, np.ones(len(columns)), sp.csc_matrix(coef))

    def used(self, tol: float = 1e-9) -> list[tuple[int, np.ndarray]]:
        """The columns with a positive weight in the last master, as ``(partnership, cand positions)``."""
        if not self.columns or not self.model.n_cols:
            return []
        lam = self.model.x()[-len(self.columns):]
        return [col for col, v in zip(self.columns, lam) if v > tol]

    def solve(self, time_limit: float | None) -> tuple[float | None, np.ndarray | None]:
        """Master value (objective units, without ``fixed``) and the row prices, or None."""
        if self.model.solve(time_limit) != "optimal":
            return None, None
        y = np.maximum(-self.model.row_duals(), 0.0)
        return -self.model.objective(), y[:self.n_priced]

    def support(self, tol: float = 1e-9) -> np.ndarray:
        """Cand positions used by a column with a positive weight in the last master."""
        if not self.columns or not self.model.n_cols:
            return np.zeros(0, np.int64)
        lam = self.model.x()[-len(self.columns):]
        used = [xq for (_, xq), v in zip(self.columns, lam) if v > tol]
        return np.unique(np.concatenate(used)).astype(np.int64) if used else np.zeros(0, np.int64)

    def starts(self) -> list[np.ndarray]:
        """Guides for primal solutions (cand positions): each partnership's column with the
        largest weight in the master, and the pairs that every weighted column uses."""
        if not self.columns:
            return []
        lam = self.model.x()[-len(self.columns):]
        best, use = {}, np.zeros(len(self.rel.core.cand))
        for (q, xq), v in zip(self.columns, lam):
            use[xq] += v
            if v > best.get(q, (1e-9, None))[0]:
                best[q] = (v, xq)
        picked = [xq for _, xq in best.values()]
        return [np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64),
                np.flatnonzero(use > 1 - 1e-6)]
