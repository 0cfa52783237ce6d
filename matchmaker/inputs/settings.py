"""Round settings: documented TOML with defaults, checked once at the boundary.

``load_settings`` merges ``matchmaker/defaults/settings.toml`` with the round's
``settings.toml`` and any explicit file or overrides. Unknown keys and values of the
wrong type or range raise one :class:`~matchmaker.common.errors.SettingsError` listing every
problem at once, each naming the file, the key, the value and the rule; nothing silently falls
back to a default.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from matchmaker.common.errors import Problem, SettingsError
from matchmaker.common.schema import DATE_RANGE, MAX_EUR

DEFAULTS_FILE = Path(__file__).resolve().parents[1] / "defaults" / "settings.toml"

OBJECTIVES = ("score", "exchanges_then_score")
#: The fairness groups of ``solver.fairness_by`` (docs/decisions.md §38).
FAIRNESS_BY = ("partnership", "country")
#: Largest ``solver.stability_weight`` (the exponent of score / 100 in the stability option).
MAX_STABILITY_WEIGHT = 10.0

#: Largest solver seed (HiGHS and CP-SAT take 32-bit seeds).
MAX_SEED = 2**31 - 1
#: Largest criterion weight (only their ratios matter; their sum must stay a finite number).
MAX_WEIGHT = 1e6
#: Longest time limit, seconds (a year), and the largest work limit, work units.
MAX_SECONDS = 3.2e7


#: The simple rules, each on one key: (key, test of its value, the rule in words).
BOUNDS = (
    ("rules.max_working_days", lambda v: v <= 23, "one month has at most 23 working days"),
    ("lump_sum.reduction_factor", lambda v: 0 <= v <= 1, "must be between 0 and 1"),
    ("scoring.options.top_k", lambda v: v >= 0, "must be >= 0 (0 keeps all pairs)"),
    ("scoring.options.max_pairs", lambda v: v >= 1, "must be >= 1"),
    ("scoring.options.virtual_weight", lambda v: 0 <= v <= 1, "must be between 0 and 1"),
    ("scoring.options.min_score", lambda v: 0 <= v <= 100, "must be between 0 and 100"),
    ("solver.objective", lambda v: v in OBJECTIVES, f"must be one of {', '.join(OBJECTIVES)}"),
    ("solver.fairness_share", lambda v: 0 <= v <= 1, "must be between 0 and 1"),
    ("solver.fairness_by", lambda v: v in FAIRNESS_BY, f"must be one of {', '.join(FAIRNESS_BY)}"),
    ("solver.stability_weight", lambda v: 0 <= v <= MAX_STABILITY_WEIGHT,
     f"must be from 0 (off: the total score) to {MAX_STABILITY_WEIGHT:g}"),
    ("solver.programme_budget_eur", lambda v: 0 <= v <= MAX_EUR, f"must be from 0 (no limit) to {MAX_EUR:g}"),
    ("solver.time_limit_s", lambda v: 0 <= v <= MAX_SECONDS,
     f"must be from 0 (derived from the work limit) to {MAX_SECONDS:g} seconds"),
    ("solver.work_limit", lambda v: 0 <= v <= MAX_SECONDS,
     f"must be from 0 (the default) to {MAX_SECONDS:g} work units"),
    ("solver.seed", lambda v: 0 <= v <= MAX_SEED, f"must be a whole number from 0 to {MAX_SEED}"),
    ("solver.relative_gap", lambda v: 0 <= v < 1, "must be in [0, 1)"),
    ("quality.stable_matching_max_pairs", lambda v: v >= 0, "must be >= 0 (0: stable matching is never skipped)"),
)


class _Found:
    """Every problem found so far, where each setting came from, and the settings already refused."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.origin: dict[str, str] = {}  # dotted key -> the file (or "overrides") that set it last
        self.bad: set[str] = set()

    def add(self, sources: list[str], message: str, key: str | None = None) -> None:
        """One problem of ``sources`` (paths or ``overrides``), its whole message; ``key`` is refused."""
        names = ", ".join(dict.fromkeys(Path(s).name if s != "overrides" else s for s in sources))
        self.problems.append(Problem(names or "settings", None, None, "", message))
        if key is not None:
            self.bad.add(key)

    def sources(self, *keys: str) -> list[str]:
        """The files that set ``keys`` (or a setting below them), in order; ["settings"] for defaults only."""
        found = [src for key, src in self.origin.items() for k in keys if key == k or key.startswith(k + ".")]
        return list(dict.fromkeys(found)) or ["settings"]

    def fail(self, key: str, value: Any, rule: str, *others: str) -> None:
        """``key`` = ``value`` breaks ``rule`` (the existing wording), naming the files that set it."""
        where = self.sources(key, *others)
        self.add(where, f"{', '.join(where)}: setting '{key}' = {value!r}: {rule}", key)

    def usable(self, *keys: str) -> bool:
        """Whether none of ``keys`` was already refused (its rules would only repeat that problem)."""
        return not any(k == b or b.startswith(k + ".") for k in keys for b in self.bad)


def _defaults() -> dict:
    with open(DEFAULTS_FILE, "rb") as fh:
        return tomllib.load(fh)


def _merge(base: dict, extra: dict, source: str, found: _Found, path: str = "") -> None:
    for key, value in extra.items():
        where = f"{path}{key}"
        if key not in base:
            known = ", ".join(sorted(base)) or "(none)"
            found.add([source], f"{source}: unknown setting '{where}' (known here: {known})")
        elif isinstance(base[key], dict):
            if not isinstance(value, dict):
                found.add([source], f"{source}: setting '{where}' must be a table, got {value!r}")
                continue
            _merge(base[key], value, source, found, where + ".")
        else:
            base[key] = value
            found.origin[where] = source


def _type_rule(expected: Any, value: Any) -> str | None:
    """What is wrong with ``value`` for a setting whose default is ``expected``, or ``None``."""
    if isinstance(expected, bool):
        return None if isinstance(value, bool) else "true or false (unquoted)"
    if isinstance(expected, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "of type float"
        return None if math.isfinite(float(value)) else "a finite number"
    if isinstance(expected, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "of type int"
    if isinstance(expected, dt.date):
        return None if isinstance(value, dt.date) or value is None else "of type date"
    return None if isinstance(value, type(expected)) else f"of type {type(expected).__name__}"


def _check_types(d: dict, ref: dict, found: _Found, path: str = "") -> None:
    for key, value in d.items():
        where = f"{path}{key}"
        if isinstance(ref[key], dict):
            _check_types(value, ref[key], found, where + ".")
            continue
        rule = _type_rule(ref[key], value)
        if rule is not None:
            source = ", ".join(found.sources(where))
            found.add(found.sources(where), f"{source}: setting '{where}' = {value!r} must be {rule}", where)
        elif isinstance(ref[key], float):
            d[key] = float(value)


def _get(s: dict, key: str) -> Any:
    for part in key.split("."):
        s = s[part]
    return s


def _check_ranges(s: dict, found: _Found) -> None:
    for key, ok, rule in BOUNDS:
        if found.usable(key) and not ok(_get(s, key)):
            found.fail(key, _get(s, key), rule)
    r = s["rules"]
    if found.usable("rules.min_working_days", "rules.max_working_days") and \
            not 1 <= r["min_working_days"] <= r["max_working_days"]:
        found.fail("rules.min_working_days", r["min_working_days"], "must be >= 1 and <= rules.max_working_days",
                   "rules.max_working_days")
    first, last = (dt.date.fromisoformat(d) for d in DATE_RANGE)
    for h in r["holidays"] if found.usable("rules.holidays") else []:
        if not isinstance(h, dt.date) or isinstance(h, dt.datetime) or not first <= h <= last:
            found.fail("rules.holidays", h, f"must be a list of ISO dates (unquoted TOML dates) from {first} to {last}")
    ls = s["lump_sum"]
    if found.usable("lump_sum.full_from_km", "lump_sum.full_from_working_days") and \
            (ls["full_from_km"] < 0 or ls["full_from_working_days"] < 0):
        found.fail("lump_sum", ls, "thresholds must be >= 0")
    weights = s["scoring"]["weights"]
    for name, w in weights.items():
        if found.usable(f"scoring.weights.{name}") and not 0 <= w <= MAX_WEIGHT:
            found.fail(f"scoring.weights.{name}", w, f"weights must be >= 0 and <= {MAX_WEIGHT:g}")
    if found.usable("scoring.weights") and sum(weights.values()) <= 0:
        found.fail("scoring.weights", weights, "at least one weight must be > 0")


def _read(f: Path, found: _Found) -> dict:
    """The TOML table of settings file ``f``; ``{}`` with a problem when it cannot be read."""
    if not f.is_file():
        found.add([str(f)], f"{f}: settings file not found" + (" (it is a folder, not a file)" if f.is_dir() else ""))
        return {}
    try:
        with open(f, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        found.add([str(f)], f"{f}: not valid TOML: {exc}")
    except UnicodeDecodeError as exc:
        found.add([str(f)], f"{f}: is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at position "
                            f"{exc.start}): save it as UTF-8")
    return {}


def load_settings(*files: str | Path | None, overrides: dict | None = None) -> dict:
    """Defaults, then each existing TOML file in order, then ``overrides``; every problem at once.

    Parameters
    ----------
    *files : path-like or None
        TOML files; ``None`` entries are skipped, a named file that does not exist is
        an error.
    overrides : dict, optional
        Nested dict of settings (for example from notebook widgets).

    Returns
    -------
    dict
        The complete, checked settings.

    Raises
    ------
    SettingsError
        Listing every problem found (files that cannot be read, unknown keys, wrong types,
        values out of range, unknown choices, rules between keys), each naming the file that
        set the key, the key, the value and the rule; ``problems`` holds one per problem.
    """
    settings, found = _defaults(), _Found()
    for f in files:
        if f is not None:
            _merge(settings, _read(Path(f), found), str(f), found)
    if overrides:
        _merge(settings, copy.deepcopy(overrides), "overrides", found)
    _check_types(settings, _defaults(), found)
    _check_ranges(settings, found)
    if found.problems:
        raise SettingsError(problems=found.problems)
    return settings


def settings_json(settings: dict) -> str:
    """Canonical JSON text of settings (dates as ISO strings), for records and hashes."""
    return json.dumps(settings, sort_keys=True, default=lambda o: o.isoformat())
