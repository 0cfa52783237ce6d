"""One specification of the proposals' columns: the writer, the validator's reader, the
ledger (its SQL table, what it stores and reads back) and the review grid agree with it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Boolean, Date, Float, Integer, Numeric, String, Text

from matchmaker.common.schema import SCORE_PREFIX
from matchmaker.criteria.registry import SCORE_COLUMNS
from matchmaker.inputs.loading import load_round
from matchmaker.ledger import store, tables
from matchmaker.ledger.exchanges import exchange_list
from matchmaker.proposals import spec
from matchmaker.proposals.reading import read_proposals
from matchmaker.proposals.solution import read_output_table
from matchmaker.run import run_round
from matchmaker.ui.pairs_grid import GRID_COLUMNS, grid_frame

SQL_TYPES = {"str": (String, Text), "code": (String,), "int": (Integer,), "float": (Float, Numeric),
             "date": (Date,), "bool": (Boolean,)}
LEDGER_ONLY = ("id", "round_id", "score_breakdown")


def test_columns_are_named_once_and_typed():
    names = spec.names(spec.PROPOSALS)
    assert len(set(names)) == len(names)
    assert all(c.type in SQL_TYPES and c.description for c in spec.PROPOSALS)
    assert spec.REQUIRED == ("visitor_id", "host_id", "mode", "start_date", "end_date", "working_days",
                             "lump_sum_eur", "partnership")
    assert not any(n.startswith(SCORE_PREFIX) for n in names)


def test_the_ledger_table_declares_the_stored_columns():
    declared = [c for c in tables.proposals.columns if c.name not in LEDGER_ONLY]
    assert tuple(c.name for c in declared) == spec.STORED
    for column in declared:
        col = spec.BY_NAME[column.name]
        # optional columns may be empty; an absent flag is stored as false (check_solution)
        assert column.nullable == (col.required is not True and col.type != "bool"), column.name
        assert isinstance(column.type, SQL_TYPES[col.type]), (column.name, column.type)
    assert store.PROPOSAL_COLUMNS + store.AFTER_SCORE_COLUMNS == list(spec.STORED)


def test_output_columns_put_the_registry_scores_after_score():
    names = spec.names(spec.output_columns())
    i = names.index("score")
    assert names[i + 1:i + 1 + len(SCORE_COLUMNS)] == SCORE_COLUMNS
    assert names[i + 1 + len(SCORE_COLUMNS):] == spec.AFTER_SCORES == ("locked",)
    with pytest.raises(ValueError, match="not a score column"):
        spec.score_column("sectors")


def test_output_frame_orders_and_rounds_as_the_spec_says():
    values = {c.name: [1.23456789] for c in spec.output_columns()}
    out = spec.output_frame(dict(reversed(values.items())))
    assert tuple(out.columns) == spec.names(spec.output_columns())
    assert out["distance_km"].iloc[0] == 1.2 and out["lump_sum_eur"].iloc[0] == 1.23
    assert out["score"].iloc[0] == 1.23  # the solver's hundredths: the scores add up to its objective
    assert out[SCORE_COLUMNS[0]].iloc[0] == 1.2346
    assert out["visitor_id"].iloc[0] == 1.23456789  # not a number column: as given
    with pytest.raises(KeyError, match="no values for column\\(s\\) locked"):
        spec.output_frame({k: v for k, v in values.items() if k != "locked"})


def test_the_grid_shows_the_grid_columns_with_the_decisions():
    shown = [c for c in GRID_COLUMNS if c in spec.BY_NAME]
    assert tuple(shown) == tuple(c.name for c in spec.PROPOSALS if c.grid)
    assert "partnership" not in GRID_COLUMNS and GRID_COLUMNS[-1] == "locked"


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The small round solved once (the writer), and its ledger (sqlite)."""
    from helpers import host, visitor, write_round

    base = tmp_path_factory.mktemp("spec")
    d = write_round(base, [visitor(), visitor(country="FR", city="Lyon", latitude=45.764, longitude=4.8357),
                           host(), host(country="IT", city="Milan", latitude=45.4642, longitude=9.19,
                                        capacity=2, max_visitors=2, grouped=True)])
    rnd = load_round(d)
    out = base / "out"
    assert run_round(rnd, out, time_limit=20, verbose=False) == 0
    led = store.Ledger(f"sqlite:///{base / 'ledger.sqlite'}")
    rid = led.record_round(rnd, out)
    yield out, led, rid
    led.close()


def test_the_writer_the_reader_and_the_ledger_agree(solved):
    out, led, rid = solved
    written = read_output_table(out / "proposals.csv")
    assert tuple(written.columns) == spec.names(spec.output_columns())
    assert len(written) == 2
    read = read_proposals(out / "proposals.csv")
    assert tuple(read.columns) == ("row", *spec.names(spec.VALIDATED), *SCORE_COLUMNS)
    back = led.proposals(rid)
    assert list(back.columns) == [*store.PROPOSAL_COLUMNS, *SCORE_COLUMNS, *store.DECISION_COLUMNS]
    back = back.set_index(["visitor_id", "host_id"]).loc[list(zip(written["visitor_id"], written["host_id"]))]
    for name in spec.STORED:
        if name in ("visitor_id", "host_id"):
            continue
        want, got = written[name].to_numpy(), back[name].to_numpy()
        if spec.BY_NAME[name].type == "date":
            got = pd.to_datetime(got).strftime("%Y-%m-%d").to_numpy()
        assert list(got) == list(want), name
    np.testing.assert_allclose(back[list(SCORE_COLUMNS)].to_numpy(float), written[list(SCORE_COLUMNS)].to_numpy(float))
    grid = grid_frame(exchange_list(led, None, rid))  # the review panel's list: proposals with their status
    assert tuple(grid.columns) == GRID_COLUMNS
