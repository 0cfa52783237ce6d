"""Round settings: documented TOML with defaults, checked once at the boundary.

``load_settings`` merges ``matchmaker/defaults/settings.toml`` with the round's
``settings.toml`` and any explicit file or overrides. Unknown keys and values of the
wrong type or range raise :class:`~matchmaker.common.errors.SettingsError` naming the file and
the key; nothing silently falls back to a default.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from matchmaker.common.errors import SettingsError
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


def _defaults() -> dict:
    with open(DEFAULTS_FILE, "rb") as fh:
        return tomllib.load(fh)


def _merge(base: dict, extra: dict, source: str, path: str = "") -> None:
    for key, value in extra.items():
        where = f"{path}{key}"
        if key not in base:
            known = ", ".join(sorted(base)) or "(none)"
            raise SettingsError(f"{source}: unknown setting '{where}' (known here: {known})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise SettingsError(f"{source}: setting '{where}' must be a table, got {value!r}")
            _merge(base[key], value, source, where + ".")
        else:
            base[key] = value


def _check_type(settings: dict, source: str) -> None:
    defaults = _defaults()

    def walk(d: dict, ref: dict, path: str) -> None:
        for key, value in d.items():
            where = f"{path}{key}"
            expected = ref[key]
            if isinstance(expected, dict):
                walk(value, expected, where + ".")
                continue
            if isinstance(expected, bool):
                ok = isinstance(value, bool)
            elif isinstance(expected, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                if ok and not math.isfinite(float(value)):
                    raise SettingsError(f"{source}: setting '{where}' = {value!r} must be a finite number")
                if ok:
                    d[key] = float(value)
            elif isinstance(expected, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(expected, dt.date):
                ok = isinstance(value, dt.date) or value is None
            elif isinstance(expected, list):
                ok = isinstance(value, list)
            else:
                ok = isinstance(value, type(expected))
            if not ok:
                kind = ("true or false (unquoted)" if isinstance(expected, bool)
                        else f"of type {type(expected).__name__}")
                raise SettingsError(f"{source}: setting '{where}' = {value!r} must be {kind}")

    walk(settings, defaults, "")


def _check_ranges(s: dict, source: str) -> None:
    def fail(key: str, value: Any, rule: str) -> None:
        raise SettingsError(f"{source}: setting '{key}' = {value!r}: {rule}")

    r = s["rules"]
    if not 1 <= r["min_working_days"] <= r["max_working_days"]:
        fail("rules.min_working_days", r["min_working_days"], "must be >= 1 and <= rules.max_working_days")
    if r["max_working_days"] > 23:
        fail("rules.max_working_days", r["max_working_days"], "one month has at most 23 working days")
    first, last = (dt.date.fromisoformat(d) for d in DATE_RANGE)
    for h in r["holidays"]:
        if not isinstance(h, dt.date) or isinstance(h, dt.datetime) or not first <= h <= last:
            fail("rules.holidays", h, f"must be a list of ISO dates (unquoted TOML dates) from {first} to {last}")
    ls = s["lump_sum"]
    if not 0 <= ls["reduction_factor"] <= 1:
        fail("lump_sum.reduction_factor", ls["reduction_factor"], "must be between 0 and 1")
    if ls["full_from_km"] < 0 or ls["full_from_working_days"] < 0:
        fail("lump_sum", ls, "thresholds must be >= 0")
    for name, w in s["scoring"]["weights"].items():
        if not 0 <= w <= MAX_WEIGHT:
            fail(f"scoring.weights.{name}", w, f"weights must be >= 0 and <= {MAX_WEIGHT:g}")
    if sum(s["scoring"]["weights"].values()) <= 0:
        fail("scoring.weights", s["scoring"]["weights"], "at least one weight must be > 0")
    o = s["scoring"]["options"]
    if o["top_k"] < 0:
        fail("scoring.options.top_k", o["top_k"], "must be >= 0 (0 keeps all pairs)")
    if o["max_pairs"] < 1:
        fail("scoring.options.max_pairs", o["max_pairs"], "must be >= 1")
    if not 0 <= o["virtual_weight"] <= 1:
        fail("scoring.options.virtual_weight", o["virtual_weight"], "must be between 0 and 1")
    if not 0 <= o["min_score"] <= 100:
        fail("scoring.options.min_score", o["min_score"], "must be between 0 and 100")
    sv = s["solver"]
    if sv["objective"] not in OBJECTIVES:
        fail("solver.objective", sv["objective"], f"must be one of {', '.join(OBJECTIVES)}")
    if not 0 <= sv["fairness_share"] <= 1:
        fail("solver.fairness_share", sv["fairness_share"], "must be between 0 and 1")
    if sv["fairness_by"] not in FAIRNESS_BY:
        fail("solver.fairness_by", sv["fairness_by"], f"must be one of {', '.join(FAIRNESS_BY)}")
    if not 0 <= sv["stability_weight"] <= MAX_STABILITY_WEIGHT:
        fail("solver.stability_weight", sv["stability_weight"],
             f"must be from 0 (off: the total score) to {MAX_STABILITY_WEIGHT:g}")
    if not 0 <= sv["programme_budget_eur"] <= MAX_EUR:
        fail("solver.programme_budget_eur", sv["programme_budget_eur"], f"must be from 0 (no limit) to {MAX_EUR:g}")
    if not 0 <= sv["time_limit_s"] <= MAX_SECONDS:
        fail("solver.time_limit_s", sv["time_limit_s"],
             f"must be from 0 (derived from the work limit) to {MAX_SECONDS:g} seconds")
    if not 0 <= sv["work_limit"] <= MAX_SECONDS:
        fail("solver.work_limit", sv["work_limit"], f"must be from 0 (the default) to {MAX_SECONDS:g} work units")
    if not 0 <= sv["seed"] <= MAX_SEED:
        fail("solver.seed", sv["seed"], f"must be a whole number from 0 to {MAX_SEED}")
    if not 0 <= sv["relative_gap"] < 1:
        fail("solver.relative_gap", sv["relative_gap"], "must be in [0, 1)")
    if s["quality"]["stable_matching_max_pairs"] < 0:
        fail("quality.stable_matching_max_pairs", s["quality"]["stable_matching_max_pairs"],
             "must be >= 0 (0: stable matching is never skipped)")


def load_settings(*files: str | Path | None, overrides: dict | None = None) -> dict:
    """Defaults, then each existing TOML file in order, then ``overrides``.

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
    """
    settings = _defaults()
    for f in files:
        if f is None:
            continue
        f = Path(f)
        if not f.is_file():
            raise SettingsError(f"{f}: settings file not found" + (" (it is a folder, not a file)" if f.is_dir()
                                                                   else ""))
        try:
            with open(f, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{f}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise SettingsError(f"{f}: is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at position "
                                f"{exc.start}): save it as UTF-8") from exc
        _merge(settings, data, str(f))
    if overrides:
        _merge(settings, copy.deepcopy(overrides), "overrides")
    source = ", ".join(str(f) for f in files if f) or "settings"
    _check_type(settings, source)
    _check_ranges(settings, source)
    return settings


def settings_json(settings: dict) -> str:
    """Canonical JSON text of settings (dates as ISO strings), for records and hashes."""
    return json.dumps(settings, sort_keys=True, default=lambda o: o.isoformat())
