"""Automatic partnership selection: clear cases, ties, chosen partnerships kept."""

import numpy as np
import pandas as pd
import pytest
from helpers import REFERENCE_DIR

from matchmaker.common.errors import RoundDataError
from matchmaker.inputs.partnership_selection import (
    CHOSEN_REASON,
    load_country_points,
    resolve_partnerships,
)


@pytest.fixture(scope="module")
def countries():
    return pd.read_csv(REFERENCE_DIR / "countries.csv", keep_default_na=False).set_index("country")


def make_partnerships(rows):
    return pd.DataFrame(
        [{"partnership_id": pid, "sectors": tuple(s), "member_countries": tuple(m)} for pid, s, m in rows]
    ).set_index("partnership_id")


def make_regs(rows):
    return pd.DataFrame(
        [{"partnership": p, "sectors": tuple(s), "country": c, "latitude": lat, "longitude": lon, "source_row": i + 2}
         for i, (p, s, c, lat, lon) in enumerate(rows)]
    )


VALENCIA = ("ES", 39.4699, -0.3763)
PORTO = ("PT", 41.1579, -8.6291)
RIGA = ("LV", 56.9496, 24.1052)


def test_highest_sector_coverage_wins_over_same_country(countries):
    parts = make_partnerships([
        ("A_LOCAL", ["textile"], ["ES"]),
        ("B_FULL", ["textile", "automotive"], ["DE"]),
    ])
    regs = make_regs([("auto", ["textile", "automotive"], *VALENCIA)])
    out = resolve_partnerships(regs, parts, countries)
    assert out["partnership"].iloc[0] == "B_FULL"
    assert out["partnership_requested"].iloc[0] == "auto"
    assert out["partnership_reason"].iloc[0].startswith("auto: covers 2 of 2 sectors (textile, automotive);")


def test_same_country_beats_nearer_foreign_member_at_equal_coverage(countries):
    # Equal coverage; A_FR comes first by id, but Z_ES has a member in the applicant's country.
    parts = make_partnerships([
        ("A_FR", ["textile"], ["FR"]),
        ("Z_ES", ["textile"], ["ES"]),
    ])
    regs = make_regs([("auto", ["textile"], *VALENCIA)])
    out = resolve_partnerships(regs, parts, countries)
    assert out["partnership"].iloc[0] == "Z_ES"
    assert out["partnership_reason"].iloc[0] == "auto: covers 1 of 1 sectors (textile); member in ES (same country)"


def test_nearest_member_country_when_none_in_own_country(countries):
    parts = make_partnerships([
        ("A_FAR", ["water"], ["GR", "CY"]),
        ("B_NEAR", ["water"], ["FR", "TR"]),
    ])
    regs = make_regs([("auto", ["water"], *PORTO)])
    out = resolve_partnerships(regs, parts, countries)
    assert out["partnership"].iloc[0] == "B_NEAR"
    reason = out["partnership_reason"].iloc[0]
    assert "nearest member country FR" in reason
    km = float(reason.rsplit(", ", 1)[1].split()[0])
    assert 1000 < km < 1300  # Porto - Paris is about 1,200 km


def test_tie_broken_by_partnership_id(countries):
    parts = make_partnerships([
        ("ZETA", ["food"], ["LV"]),
        ("ALPHA", ["food"], ["LV", "EE"]),
        ("MID", ["food"], ["LV"]),
    ])
    regs = make_regs([("auto", ["food"], *RIGA)])
    out = resolve_partnerships(regs, parts, countries)
    assert out["partnership"].iloc[0] == "ALPHA"
    # Order of the partnerships table does not matter.
    out2 = resolve_partnerships(regs, parts.iloc[::-1], countries)
    assert out2["partnership"].iloc[0] == "ALPHA"


def test_no_sector_covered_falls_back_to_location_then_id(countries):
    parts = make_partnerships([
        ("B", ["railway"], ["PT"]),
        ("A", ["energy"], ["PT"]),
        ("C", ["water"], ["ES"]),
    ])
    regs = make_regs([("auto", ["sport"], *PORTO)])
    out = resolve_partnerships(regs, parts, countries)
    assert out["partnership"].iloc[0] == "A"
    assert out["partnership_reason"].iloc[0] == "auto: covers 0 of 1 sectors; member in PT (same country)"


def test_applicant_who_chose_keeps_its_partnership(countries):
    parts = make_partnerships([
        ("CLAMTEX", ["textile"], ["ES"]),
        ("BLUES", ["water"], ["DE"]),
    ])
    regs = make_regs([
        ("BLUES", ["textile"], *VALENCIA),
        ("auto", ["textile"], *VALENCIA),
    ])
    out = resolve_partnerships(regs, parts, countries)
    assert list(out["partnership"]) == ["BLUES", "CLAMTEX"]
    assert list(out["partnership_requested"]) == ["BLUES", "auto"]
    assert out["partnership_reason"].iloc[0] == CHOSEN_REASON
    assert regs["partnership"].iloc[1] == "auto"  # input not modified


def test_real_partnerships_reference_file(countries):
    p = pd.read_csv(REFERENCE_DIR / "partnerships.csv")
    for c in ("sectors", "member_countries"):
        p[c] = p[c].str.split(";").map(tuple)
    parts = p.set_index("partnership_id")
    regs = make_regs([
        ("auto", ["textile", "automotive"], *VALENCIA),
        ("auto", ["water", "food"], *RIGA),
        ("auto", ["railway"], *PORTO),
    ])
    out = resolve_partnerships(regs, parts, countries)
    assert list(out["partnership"]) == ["EXTRATEX", "SAFESMARTFOOD", "EXXTRA"]


def test_vectorised_many_registrations_match_one_by_one(countries):
    rng = np.random.default_rng(3)
    p = pd.read_csv(REFERENCE_DIR / "partnerships.csv")
    for c in ("sectors", "member_countries"):
        p[c] = p[c].str.split(";").map(tuple)
    parts = p.set_index("partnership_id")
    all_sectors = sorted({s for t in parts["sectors"] for s in t})
    codes = ["ES", "PT", "LV", "FR", "IS", "AL"]
    pts = load_country_points()
    rows = []
    for _ in range(200):
        c = codes[rng.integers(len(codes))]
        secs = list(rng.choice(all_sectors, size=rng.integers(1, 4), replace=False))
        lat, lon = pts.loc[c, "latitude"] + rng.normal(0, 1), pts.loc[c, "longitude"] + rng.normal(0, 1)
        rows.append(("auto", secs, c, lat, lon))
    regs = make_regs(rows)
    together = resolve_partnerships(regs, parts, countries)
    for i in range(0, 200, 37):
        alone = resolve_partnerships(regs.iloc[[i]], parts, countries)
        assert alone["partnership"].iloc[0] == together["partnership"].iloc[i]
        assert alone["partnership_reason"].iloc[0] == together["partnership_reason"].iloc[i]


def test_unknown_partnership_is_reported_with_row_and_value(countries):
    parts = make_partnerships([("A", ["food"], ["LV"])])
    regs = make_regs([("A", ["food"], *RIGA), ("NOPE", ["food"], *RIGA)])
    with pytest.raises(ValueError, match=r"row 3, column 'partnership': value 'NOPE'"):
        resolve_partnerships(regs, parts, countries)


def test_member_country_without_point_is_reported(countries):
    parts = make_partnerships([("A", ["food"], ["LV", "XX"])])
    regs = make_regs([("auto", ["food"], *RIGA)])
    with pytest.raises(ValueError, match="'XX'"):
        resolve_partnerships(regs, parts, countries)


def test_every_country_has_a_point(countries):
    pts = load_country_points()
    assert set(countries.index) <= set(pts.index)
    assert pts["latitude"].between(-90, 90).all() and pts["longitude"].between(-180, 180).all()


def test_bad_country_points_file_is_reported_by_row_column_and_value(tmp_path):
    path = tmp_path / "country_centroids.csv"
    lines = (REFERENCE_DIR / "country_centroids.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].split(",")[0] + ",Somewhere,north,4.35"
    lines.append(lines[1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RoundDataError) as err:
        load_country_points(path)
    found = {(p.file, p.row, p.column, p.value) for p in err.value.problems}
    country = lines[1].split(",")[0]
    assert found == {(str(path), 3, "latitude", "north"), (str(path), len(lines), "country", country)}
