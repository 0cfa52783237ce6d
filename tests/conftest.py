"""Shared fixtures: small round directories built by :mod:`helpers` (see its docstring)."""

from __future__ import annotations

import functools

import pytest
from helpers import host, visitor, write_round


@pytest.fixture
def make_round(tmp_path):
    """``write_round`` bound to this test's ``tmp_path``: ``make_round(rows, ...) -> Path``."""
    return functools.partial(write_round, tmp_path)


@pytest.fixture
def small_round(tmp_path):
    """A valid round directory: 3 visitors (ES, FR, DE) and 2 hosts (PT single, IT grouped)."""
    rows = [
        visitor(),
        visitor(country="FR", city="Lyon", latitude=45.764, longitude=4.8357, partnership="auto"),
        visitor(country="DE", city="Berlin", latitude=52.52, longitude=13.405, partnership="BLUES",
                sectors="water;eco_industries"),
        host(),
        host(country="IT", city="Milan", latitude=45.4642, longitude=9.19, partnership="BRILLIANT",
             capacity=3, max_visitors=4, grouped=True, mode="either"),
    ]
    return write_round(tmp_path, rows, decisions=[{"visitor_id": "V001", "host_id": "H001"}])
