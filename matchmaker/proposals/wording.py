"""The proposals' values in words: an exchange's dates, countries' names, why a visitor is unmatched.

Used by the writer of ``proposals.csv`` (:func:`matchmaker.proposals.table.proposals_table`: the
``schedule`` and ``*_country_name`` columns), by ``summary.json``'s officer part and the
report (the unmatched reasons in words), and by the notebooks, which can word the
ledger's rows the same way (:func:`schedules`). :func:`phase_words` names the solver's steps in
its progress lines (``matchmaker solve``/``round``/``resolve`` and notebook 01's progress).

A physical stay is ``working_days`` consecutive working days; a virtual exchange is
``working_days`` days, one a week, over as many weeks (docs/decisions.md §2-3), so its
dates span ``7 x working_days`` calendar days.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Why a visitor is unmatched, in words, per ``reason_code`` of ``unmatched.csv``
#: (:mod:`matchmaker.proposals.unmatched`; ``already_accepted`` and ``kept_by_stable_resolve`` come from
#: the ledger's next round and stable re-solve).
REASON_LABELS: dict[str, str] = {
    "ineligible_registration": "the registration itself cannot take part",
    "no_eligible_host": "no host passes every rule of the scheme",
    "pruned": "every possible pair scores too low",
    "budget_spent": "its Partnership's budget is spent",
    "hosts_full": "every possible host is full",
    "not_selected": "not selected (score 0, or the solver stopped at its limit)",
    "already_accepted": "already has an accepted exchange from an earlier round",
    "kept_by_stable_resolve": "left out by a Partnership's re-solve, which keeps the other Partnerships' lists",
}


#: Each rule of the scheme in words (:data:`matchmaker.rules.pieces.RULE_NAMES`), for ``unmatched.csv``'s
#: reasons: "the rule of {words} refuses 3 hosts".
RULE_WORDS: dict[str, str] = {
    "cosme_countries": "countries taking part in COSME",
    "different_countries": "visitor and host in different countries",
    "organisation_types": "eligible organisation types",
    "partnership_known": "a known Partnership",
    "visitor_once": "one physical exchange per visitor",
    "mode_compatible": "a mode both accept (physical or virtual)",
    "duration_range": "stay lengths both sides accept",
    "availability": "dates both sides are available",
    "not_forbidden": "pairs forbidden in decisions.csv",
}


#: The solver's steps (its phases, :mod:`matchmaker.solve.phases`, and ``done``) in words, for progress lines.
PHASE_WORDS: dict[str, str] = {
    "locks": "placing the locked pairs",
    "flow": "a first matching",
    "lp": "a first bound",
    "repair": "first valid proposals",
    "lagrangian": "a tighter bound from the budgets",
    "support-mip": "better proposals",
    "branch-and-price": "searching for the proof",
    "mip": "better proposals from the most promising pairs",
    "cpsat": "better proposals with their dates",
    "more-work": "more work from the best proposals",
    "done": "done",
    "schedule": "dating the stays",  # not a phase: the clock stopped a host's scheduling (Effort.clock_stopped)
}
_OPEN_NODES = re.compile(r"^(?P<phase>.+?) \((?P<open>\d+) nodes? open\)$")


def phase_words(phase: object) -> str:
    """A solver step's name in words (:data:`PHASE_WORDS`); the proof search's "(N nodes open)"
    becomes the nodes still open; an unknown step keeps its name with its hyphens as spaces.

    >>> phase_words("lagrangian"), phase_words("branch-and-price (12 nodes open)")
    ('a tighter bound from the budgets', 'searching for the proof, 12 nodes still open')
    """
    text = str(phase)
    match = _OPEN_NODES.match(text)
    name = match["phase"] if match else text
    words = PHASE_WORDS.get(name, name.replace("-", " ").replace("_", " "))
    if match:
        count = int(match["open"])
        words += f", {count:,} node{'s' if count != 1 else ''} still open"
    return words


#: Seconds within which a progress report with the same step and figures as the last line shown is not shown again.
PROGRESS_QUIET_S = 1.0


def progress_repeats(info: dict, last: dict | None) -> bool:
    """Whether a progress report only repeats ``last`` (the last one shown): the same step (its
    count of nodes still open aside), best, bound and gap, within :data:`PROGRESS_QUIET_S`. So
    a proof search closing its last nodes at once shows one line, not one per node, and a long
    one still shows its nodes still open every second or so.
    """
    if last is None:
        return False
    same = all(info.get(k) == last.get(k) for k in ("best", "bound", "gap"))
    step = [_OPEN_NODES.sub(r"\g<phase>", str(d.get("phase", ""))) for d in (info, last)]
    quiet = float(info.get("elapsed") or 0.0) - float(last.get("elapsed") or 0.0) < PROGRESS_QUIET_S
    return same and step[0] == step[1] and quiet


def rule_words(rule: object) -> str:
    """A rule's name in words (:data:`RULE_WORDS`; an unknown rule with its underscores as spaces)."""
    return RULE_WORDS.get(str(rule), str(rule).replace("_", " "))


def partnership_labels(partnerships: pd.DataFrame) -> dict[str, str]:
    """Each Partnership's id -> its name, as users know it (``Round.partnerships``: index the id,
    column ``name``); a name two Partnerships share, or an empty one, keeps the id in brackets.

    >>> partnership_labels(pd.DataFrame({"name": ["Safe Smart Food", "BLUES", "BLUES"]}, index=["SSF", "B1", "B2"]))
    {'SSF': 'Safe Smart Food', 'B1': 'BLUES (B1)', 'B2': 'BLUES (B2)'}
    """
    if "name" in partnerships.columns:
        names = partnerships["name"].fillna("").astype(str).str.strip()
    else:
        names = pd.Series("", index=partnerships.index)
    shared = set(names[names.duplicated(keep=False)])
    return {str(k): str(k) if not n else f"{n} ({k})" if n in shared else n for k, n in names.items()}


def percent_text(share: object) -> str:
    """A share (0.999) in percent with one decimal (``99.9%``), never rounded up to 100% (nor down to 0%)
    unless it is exactly that; empty for a missing share.

    >>> percent_text(0.9999), percent_text(1.0), percent_text(0.00001), percent_text(None)
    ('99.9%', '100.0%', '0.1%', '')
    """
    if share is None or (isinstance(share, float) and np.isnan(share)) or pd.isna(share):
        return ""
    value = round(float(share) * 100, 1)
    if value >= 100 and float(share) < 1:
        value = 99.9
    elif value <= 0 < float(share):
        value = 0.1
    return f"{value:.1f}%"


def reason_label(code: object) -> str:
    """A ``reason_code`` in words (an unknown code with its underscores as spaces)."""
    text = "" if code is None or (isinstance(code, float) and np.isnan(code)) else str(code)
    return REASON_LABELS.get(text, text.replace("_", " "))


def _day(value: object) -> str:
    """A date as ``5 Aug 2027``."""
    d = pd.Timestamp(value)
    return f"{d.day} {d:%b %Y}"


def schedule_text(mode: str, start: object, end: object, working_days: int) -> str:
    """An exchange's dates in words.

    >>> schedule_text("virtual", "2027-08-05", "2027-09-08", 5)
    '5 days online, one a week for 5 weeks, 5 Aug 2027 to 8 Sep 2027'
    >>> schedule_text("physical", "2027-03-01", "2027-03-12", 10)
    '10 working days in a row on site, 1 Mar 2027 to 12 Mar 2027'
    """
    n = int(working_days)
    days = "1 day" if n == 1 else f"{n} days"
    dates = f"{_day(start)} to {_day(end)}"
    if str(mode) == "virtual":
        weeks = "1 week" if n == 1 else f"{n} weeks"
        return f"{days} online, one a week for {weeks}, {dates}"
    return f"{'1 working day' if n == 1 else f'{n} working days'} in a row on site, {dates}"


def schedules(proposals: pd.DataFrame) -> pd.Series:
    """:func:`schedule_text` of every row of a proposals table (``mode``, ``start_date``, ``end_date``,
    ``working_days``), indexed like it."""
    cols = ("mode", "start_date", "end_date", "working_days")
    texts = [schedule_text(*row) for row in zip(*(proposals[c] for c in cols))]
    return pd.Series(texts, index=proposals.index, dtype=object)


def country_names(codes: object, countries: pd.DataFrame) -> np.ndarray:
    """The names of country ``codes`` from a countries table (index ``country``, column ``name``;
    ``Round.countries``); an unknown code keeps its code."""
    codes = pd.Series(np.asarray(codes, dtype=object))
    names = countries["name"].astype(object) if "name" in countries.columns else pd.Series(dtype=object)
    found = codes.map(names.to_dict())
    return found.where(found.notna(), codes).to_numpy(object)

