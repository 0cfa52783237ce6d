"""The stability option: pair weights that prefer one excellent pair to two good ones.

A *blocking pair* (:mod:`matchmaker.quality.stability`, docs/decisions.md §37) is a
visitor and a host, not proposed together, who would both gain: the visitor scores
higher with this host than with its own, and the host has room or would release a
visitor with a lower score. Both sides thus rank their pairs by the pair's score. The
proposals with the highest total score may leave such pairs: two good pairs (60 + 90)
outweigh one excellent pair (100) whose visitor and host are each other's first choice.

With ``solver.stability_weight = λ > 0`` the solver maximises instead

    sum over proposed pairs of  score x (score / 100) ** λ

(scores out of 100). The weight grows faster than the score, so the higher-scoring pair
gains on the others: with λ = 2 the example above counts 100 against 36 x 0.6 + 81 x 0.9
= 94.5, and the excellent pair wins. As λ grows the proposals approach the *greedy*
proposals (highest score first), which leave no blocking pair except where a budget,
the dates or the same-day capacity stop the swap. In between, λ trades total score for
fewer blocking pairs; its price is measured in docs/decisions.md §38. Every rule and
budget is unchanged: only the objective moves. λ = 0 leaves the weights as they are,
byte for byte. A pair with a positive score keeps a weight of at least one hundredth.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: A score of 100 points, in the solver's unit (hundredths of a point).
FULL_SCORE = 10000


def stability_weights(score: ArrayLike, weight: float) -> np.ndarray:
    """Each pair's weight for the stability option: ``round(score * (score / FULL_SCORE) ** weight)``.

    Parameters
    ----------
    score : array of int -- the pair's score in hundredths of a point (0 to 10,000).
    weight : float -- ``solver.stability_weight`` (>= 0; 0 returns ``score`` unchanged).

    Returns
    -------
    ndarray of int64 -- at least 1 where ``score`` is positive.

    Examples
    --------
    >>> stability_weights([10000, 9000, 6000, 0], 2.0).tolist()
    [10000, 7290, 2160, 0]
    """
    score = np.asarray(score, dtype=np.int64)
    if weight <= 0:
        return score
    w = np.rint(score * (score / FULL_SCORE) ** float(weight)).astype(np.int64)
    return np.where(score > 0, np.maximum(w, 1), 0)
