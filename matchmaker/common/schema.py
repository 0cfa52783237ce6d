"""The columns of every input file: one place that the loader, the generator and the
data-format documentation all read.

A :class:`Column` says a column's type, whether it is required (and for which role),
its vocabulary (for codes and ``;``-separated lists) and an example. Vocabularies live
in ``data/reference/vocabularies.csv`` and are looked up by name.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Column types understood by the loader.
TYPES = ("str", "int", "float", "date", "bool", "code", "list")

#: Values read as true / false in boolean columns (case-insensitive).
TRUE_VALUES = ("true", "yes", "1", "y")
FALSE_VALUES = ("false", "no", "0", "n")

#: Separator inside list cells.
LIST_SEPARATOR = ";"

#: Range of every date column (inclusive, ISO): wide enough for any round, inside what the
#: day arithmetic (pandas nanosecond timestamps, NumPy working days) can hold.
DATE_RANGE = ("1900-01-01", "2199-12-31")

#: Largest amount of any EUR column or setting: far above any real budget, small enough that
#: sums in cents stay exact in 64-bit integers.
MAX_EUR = 1e12


@dataclass(frozen=True)
class Column:
    """One column of an input file.

    Parameters
    ----------
    name : str
        Header as it appears in the file.
    type : str
        One of :data:`TYPES`. ``code`` is a single value from ``vocabulary``; ``list``
        is a ``;``-separated list of values from ``vocabulary`` (or free strings when
        ``vocabulary`` is ``None``).
    required : bool or str
        ``True`` (every row), ``False`` (may be empty), or a role name (``"host"`` or
        ``"visitor"``) when only rows of that role must fill it.
    vocabulary : str or None
        Name of a vocabulary, or one of the special ones ``country``, ``partnership``,
        ``partnership_or_auto``, ``role``, ``mode``, ``decision``.
    minimum, maximum : float or None
        Inclusive numeric range.
    description, example : str
        Text for the documentation.
    """

    name: str
    type: str
    required: bool | str
    description: str
    example: str
    vocabulary: str | None = None
    minimum: float | None = None
    maximum: float | None = None


REGISTRATIONS = (
    Column("org_id", "str", True,
           "Organisation identifier; unique within a role (an organisation registered as both host and visitor has one"
           " row per role, usually with the same id).", "ORG-0001"),
    Column("name", "str", True, "Organisation name (UTF-8, accents welcome).", "Clúster Textil Valencià"),
    Column("role", "code", True,
           "`host` (non-travelling party) or `visitor` (travels to the host).", "visitor", vocabulary="role"),
    Column("org_type", "code", True,
           "Organisation type; `other` registers but is not eligible and is reported as such.",
           "sme", vocabulary="org_type"),
    Column("country", "code", True,
           "ISO 3166-1 alpha-2 code (Kosovo: `XK`, Greece: `GR`) from `countries.csv`.", "ES", vocabulary="country"),
    Column("city", "str", True, "City of the organisation.", "Valencia"),
    Column("latitude", "float", True, "WGS84 latitude in degrees.", "39.4699", minimum=-90, maximum=90),
    Column("longitude", "float", True, "WGS84 longitude in degrees.", "-0.3763", minimum=-180, maximum=180),
    Column("partnership", "code", True,
           "Partnership id from `partnerships.csv`, or `auto` for automatic selection.",
           "CLAMTEX", vocabulary="partnership_or_auto"),
    Column("sectors", "list", True,
           "Sectors / industrial ecosystems, `;`-separated.", "textile;advanced_manufacturing", vocabulary="sector"),
    Column("activities", "list", True,
           "Activities sought (visitor) or offered (host), `;`-separated.",
           "market_research;networking", vocabulary="activity"),
    Column("objectives", "list", True,
           "Objectives of the exchange, `;`-separated.", "new_markets;green_transition", vocabulary="objective"),
    Column("languages", "list", True, "Working languages, ISO 639-1, `;`-separated.", "es;en", vocabulary="language"),
    Column("mode", "code", True,
           "Exchange mode accepted: `physical`, `virtual` or `either`.", "either", vocabulary="mode"),
    Column("available_from", "date", True, "First day the organisation can take part (ISO date).", "2027-03-01"),
    Column("available_to", "date", True,
           "Last day the organisation can take part (ISO date, not before `available_from`).", "2027-06-30"),
    Column("min_days", "int", True, "Shortest acceptable stay in working days (3 to 22).", "5", minimum=3, maximum=22),
    Column("max_days", "int", True,
           "Longest acceptable stay in working days (3 to 22, not below `min_days`).", "10", minimum=3, maximum=22),
    Column("capacity", "int", "host",
           "Host: most visitors at the same time (1 unless `grouped`).", "3", minimum=1, maximum=50),
    Column("max_visitors", "int", "host", "Host: most visitors in the whole round.", "4", minimum=1, maximum=200),
    Column("grouped", "bool", "host", "Host: accepts grouped visits (several visitors at once).", "true"),
    Column("already_visited", "bool", "visitor",
           "Visitor: already took part in a physical exchange of the scheme.", "false"),
    Column("preferred_countries", "list", False,
           "Optional: countries the organisation prefers for its counterpart.", "PT;FR", vocabulary="country"),
    Column("max_distance_km", "float", False,
           "Optional: preferred largest distance to the counterpart, km.", "1500", minimum=0, maximum=20000),
    Column("description", "str", False,
           "Free text: motivation, offer, what the organisation seeks.", "We look for partners in recycled fibres..."),
)

PARTNERSHIPS = (
    Column("partnership_id", "str", True, "Partnership identifier used in `registrations.partnership`.", "CLAMTEX"),
    Column("name", "str", True, "Partnership name.", "CLAMTEX"),
    Column("sectors", "list", True,
           "Sectors the partnership covers, `;`-separated.", "textile;advanced_manufacturing", vocabulary="sector"),
    Column("member_countries", "list", True,
           "Countries of its member clusters, `;`-separated.", "ES;PT;FR", vocabulary="country"),
    Column("budget_eur", "float", True,
           "Budget for visitors' lump sums in this round, EUR (remaining after earlier rounds are counted by the "
           "ledger).", "60000", minimum=0, maximum=MAX_EUR),
)

COUNTRIES = (
    Column("country", "str", True, "ISO 3166-1 alpha-2 code.", "PT"),
    Column("name", "str", True, "Country name.", "Portugal"),
    Column("cosme", "bool", True, "Takes part in COSME (both parties of an exchange must).", "true"),
    Column("lump_sum_eur", "float", "cosme",
           "Lump-sum threshold for a host in this country, EUR (required when `cosme`).", "780", minimum=0,
           maximum=MAX_EUR),
)

DECISIONS = (
    Column("visitor_id", "str", True, "`org_id` of a visitor registration.", "ORG-0001"),
    Column("host_id", "str", True, "`org_id` of a host registration.", "ORG-0420"),
    Column("decision", "code", True,
           "`lock`: the pair must be proposed (prior agreement); `forbid`: never propose it.",
           "lock", vocabulary="decision"),
    Column("comment", "str", False, "Free text.", "Prior agreement signed 2027-01-10"),
)

#: Prefix of the per-criterion score columns (``score_<criterion>``) of the pairs and the proposals.
#: The proposals' own columns are :data:`matchmaker.proposals.spec.PROPOSALS`.
SCORE_PREFIX = "score_"

#: Codes of a proposal's ``mode`` (a pair has one mode, never ``either``).
EXCHANGE_MODES = ("physical", "virtual")

#: Fixed small vocabularies that are part of the file formats rather than reference data.
FIXED_VOCABULARIES = {
    "role": ("host", "visitor"),
    "mode": ("physical", "virtual", "either"),
    "decision": ("lock", "forbid"),
}

#: Organisation types eligible for the scheme (``other`` is registered but refused).
ELIGIBLE_ORG_TYPES = ("cluster_organisation", "scaleup_support", "sme")

FILES = {
    "registrations": REGISTRATIONS,
    "partnerships": PARTNERSHIPS,
    "countries": COUNTRIES,
    "decisions": DECISIONS,
}


def column_names(spec: tuple[Column, ...]) -> list[str]:
    """Header names of a file spec, in documented order."""
    return [c.name for c in spec]
