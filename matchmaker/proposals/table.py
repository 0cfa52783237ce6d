"""The proposals as ``proposals.csv`` holds them, from the solver's chosen pairs and start days.

:func:`proposals_table` is the one writer of the table: :func:`matchmaker.run.run_round`
writes the optimiser's proposals with it, and :mod:`matchmaker.compare` the other ways of
matching the round, so every method's proposals have the same columns, words and rounding
(:mod:`matchmaker.proposals.spec`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matchmaker.common.workdays import stay_end
from matchmaker.inputs.instance import Round
from matchmaker.pairs.catalogue import Catalogue, named_pairs
from matchmaker.proposals.spec import SCORE_COLUMNS, output_frame
from matchmaker.proposals.wording import country_names, schedules
from matchmaker.solve.problem import SolverInstance
from matchmaker.solver import SolverResult


def proposals_table(rnd: Round, catalogue: Catalogue, problem: SolverInstance, result: SolverResult) -> pd.DataFrame:
    """The proposals as written to ``proposals.csv``: the columns of :mod:`matchmaker.proposals.spec`."""
    p = problem
    pairs = result.pairs
    df = catalogue.pairs.iloc[p.row[pairs]].reset_index(drop=True)
    starts = np.asarray(result.starts, dtype=np.int64)
    phys = p.physical[pairs]
    start = np.where(phys, p.date_of(np.where(phys, starts, 0)),
                     p.base_date + starts.astype("timedelta64[D]"))
    wd = df["working_days"].to_numpy(np.int64)
    end = np.where(phys, stay_end(start, wd, p.calendar), start + (7 * wd - 1).astype("timedelta64[D]"))
    named = named_pairs(rnd, df)
    hosts = rnd.hosts
    host_part = hosts["partnership"].astype(object) if "partnership" in hosts else pd.Series("", hosts.index)
    values = {
        **{c: named[c] for c in ("visitor_id", "visitor_name", "visitor_country", "host_id", "host_name",
                                 "host_country")},
        "visitor_country_name": country_names(named["visitor_country"], rnd.countries),
        "host_country_name": country_names(named["host_country"], rnd.countries),
        "host_partnership": host_part.to_numpy()[df["h"].to_numpy()],
        "mode": df["mode"].astype(str).to_numpy(),
        "start_date": pd.to_datetime(start).strftime("%Y-%m-%d"),
        "end_date": pd.to_datetime(end).strftime("%Y-%m-%d"),
        "working_days": wd,
        # a virtual exchange has no journey, so no distance (its lump sum is 0)
        "distance_km": np.where(phys, df["distance_km"].to_numpy(float), np.nan),
        "lump_sum_eur": df["lump_sum_eur"].to_numpy(),
        "partnership": df["partnership"].astype(str).to_numpy(), "score": df["score"].to_numpy(),
        **{c: df[c].to_numpy() for c in SCORE_COLUMNS},
        "locked": df["locked"].to_numpy(bool),
    }
    values["schedule"] = schedules(pd.DataFrame({c: values[c] for c in ("mode", "start_date", "end_date",
                                                                         "working_days")})).to_numpy()
    out = output_frame(values)  # the spec's columns and order, numbers rounded as it says
    return out.sort_values(["partnership", "visitor_id"], kind="stable", ignore_index=True)
