"""Min-cost flow without budgets, then cut down to the budgets and scheduled.

The best assignment under "one exchange per visitor" and the hosts' places alone
(OR-Tools' ``SimpleMinCostFlow``, :func:`matchmaker.solve.flow.max_weight_assignment`,
the optimiser's first phase), with the round's objective weights. It is then made
feasible, with no re-fill: a Partnership over its budget drops the pairs with the
lowest score per euro first (then the programme budget the same way), and a host whose
physical stays cannot all be placed drops its lowest-scoring stay until they can.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.compare.base import Setting, cut_to_budgets, finish
from matchmaker.solve.flow import max_weight_assignment


def flow_then_budgets(setting: Setting, notes: list[str]) -> pd.DataFrame:
    """The flow's assignment, cut to the budgets (lowest score per euro first) and scheduled.

    Parameters
    ----------
    setting : Setting
    notes : list of str
        What the method dropped and why, appended to in words.

    Returns
    -------
    DataFrame in ``proposals.csv``'s columns.
    """
    core, p = setting.core, setting.problem
    cand = core.cand
    chosen = max_weight_assignment(p.v[cand], p.h[cand], core.w[cand], core.room, p.n_visitors)
    pairs = np.concatenate([core.locked, cand[chosen]])
    per_euro = p.score / np.maximum(p.cost, 1)
    pairs, dropped = cut_to_budgets(p, pairs, per_euro)
    if dropped:
        notes.append(f"{dropped} pair(s) of the flow dropped to keep the Partnerships within their budgets "
                     "(lowest score per euro first)")
    return finish(setting, pairs, notes)
