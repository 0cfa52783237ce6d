"""The lump-sum rule (matchmaker.rules.lump_sum, docs/decisions.md §8) at its edges."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import host, visitor, write_round

from matchmaker.common.geo import great_circle_km
from matchmaker.constraints import eligible_block
from matchmaker.inputs.loading import load_round
from matchmaker.inputs.settings import load_settings
from matchmaker.rules.lump_sum import lump_sum_eur, lump_sum_reason, round_cents

S = load_settings()

# Real places whose great-circle distance falls either side of 200 km.
PARNU = dict(country="EE", city="Pärnu", latitude=58.3859, longitude=24.4971)
HELSINKI = dict(country="FI", city="Helsinki", latitude=60.1699, longitude=24.9384)
SALZBURG = dict(country="AT", city="Salzburg", latitude=47.8095, longitude=13.055)
KRANJ = dict(country="SI", city="Kranj", latitude=46.2389, longitude=14.3556)


def km(a: dict, b: dict) -> float:
    return float(great_circle_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"]))


def test_the_two_places_sit_either_side_of_200_km():
    assert 199.0 < km(PARNU, HELSINKI) < 200.0
    assert 200.0 < km(SALZBURG, KRANJ) < 201.0


@pytest.mark.parametrize("days, expected", [(3, 390.0), (4, 390.0), (5, 780.0), (22, 780.0)])
def test_stay_shorter_than_5_working_days_halves(days, expected):
    assert lump_sum_eur(780.0, days, 500.0, "physical", S) == expected


@pytest.mark.parametrize("pair, threshold, expected", [((PARNU, HELSINKI), 950.0, 475.0),
                                                       ((SALZBURG, KRANJ), 720.0, 720.0)])
def test_distance_under_200_km_halves(pair, threshold, expected):
    assert lump_sum_eur(threshold, 10, km(*pair), "physical", S) == expected


def test_both_reasons_halve_only_once():
    assert lump_sum_eur(950.0, 4, km(PARNU, HELSINKI), "physical", S) == 475.0


@pytest.mark.parametrize("days, distance", [(3, 50.0), (10, 2000.0)])
def test_virtual_exchange_has_no_lump_sum(days, distance):
    assert lump_sum_eur(1100.0, days, distance, "virtual", S) == 0.0


def test_vectorised_broadcasting_and_mode_as_boolean():
    out = lump_sum_eur(np.array([[780.0], [1100.0]]), np.array([[4, 5, 5]]), np.array([[500.0, 500.0, 150.0]]),
                       "physical", S)
    assert out.tolist() == [[390.0, 780.0, 390.0], [550.0, 1100.0, 550.0]]
    assert lump_sum_eur([780.0, 780.0], 10, 500.0, np.array([False, True]), S).tolist() == [780.0, 0.0]


def test_settings_change_the_rule():
    s = load_settings(overrides={"lump_sum": {"reduction_factor": 0.6, "full_from_km": 100.0,
                                              "full_from_working_days": 10}})
    assert lump_sum_eur(1000.0, [9, 10], 150.0, "physical", s).tolist() == [600.0, 1000.0]


def test_rounded_to_cents_half_up():
    assert lump_sum_eur(781.25, 4, 500.0, "physical", S) == 390.63
    assert round_cents([1.005, 2.675, 0.125]).tolist() == [1.01, 2.68, 0.13]


def test_non_cosme_threshold_gives_nan():
    assert np.isnan(lump_sum_eur(np.nan, 10, 500.0, "physical", S))


def test_bad_inputs_are_refused_loudly():
    with pytest.raises(ValueError, match="mode 'remote'"):
        lump_sum_eur(780.0, 5, 500.0, "remote", S)
    with pytest.raises(ValueError, match="negative"):
        lump_sum_eur(-1.0, 5, 500.0, "physical", S)
    with pytest.raises(ValueError, match=r"\[lump_sum\]"):
        lump_sum_eur(780.0, 5, 500.0, "physical", {})


def test_reason_names_the_values():
    assert lump_sum_reason(950.0, 10, km(PARNU, HELSINKI), "physical", S, "FI") == (
        "EUR 475.00: FI threshold EUR 950.00 x 0.5 because the distance is 199.9 km (under 200)")
    assert lump_sum_reason(720.0, 5, km(SALZBURG, KRANJ), "physical", S, "SI") == (
        "EUR 720.00: SI threshold EUR 720.00 in full (stay 5 working days, at least 5; distance 200.5 km, "
        "at least 200)")
    assert lump_sum_reason(780.0, 4, 150.0, "physical", S, "PT").endswith(
        "because the stay is 4 working days (under 5) and the distance is 150.0 km (under 200)")
    assert lump_sum_reason(780.0, 10, 500.0, "virtual", S) == "EUR 0.00: no lump sum for a virtual exchange"


@pytest.mark.parametrize("v, h, expected", [(PARNU, HELSINKI, 475.0), (SALZBURG, KRANJ, 720.0),
                                            (KRANJ, SALZBURG, 900.0)])
def test_pairs_of_a_round_use_the_host_country_threshold(tmp_path, v, h, expected):
    rows = [visitor(**v, partnership="auto"), host(**h, partnership="auto")]
    rnd = load_round(write_round(tmp_path, rows))
    pairs = eligible_block(rnd, [0])
    assert pairs["lump_sum_eur"].tolist() == [expected]
    assert pairs["distance_km"].iloc[0] == pytest.approx(km(v, h), abs=1e-6)
