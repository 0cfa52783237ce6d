"""The scheme's recommended activities (FAQ question 10) and the draft action plan built from them.

The FAQ: "a framework has been set up to help participants select the activities that
would best assist them [...]. Some of the recommended activities include" the seven of
:data:`RECOMMENDED`. Each activity code of the registrations' vocabulary
(``data/reference/vocabularies.csv``, ``activity``) is tied to the recommended activities
that carry it out (:data:`FOR_ACTIVITY`); a virtual exchange gets the online form of each
(the FAQ: the action plan "can be tailored to virtually feasible activities").
:func:`plan_rows` spreads the activities both sides chose over the exchange's days;
:data:`OUTCOMES` words the expected outcome of each objective of the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: FAQ question 10, "Some of the recommended activities include", word for word: key -> (physical, online form).
RECOMMENDED: dict[str, tuple[str, str]] = {
    "shadowing": ("Visitors can shadow the hosts as a capacity building activity during working hours",
                  "the visitor follows the host's work online (team meetings, shared screens) during working hours"),
    "market_research": ("Conducting market research with experienced professionals in the field",
                        "market research with the host's professionals in video calls and shared documents"),
    "pm_finance": ("Project management and SME finance training",
                   "project management and SME finance training given online"),
    "best_practice": ("Business operation and management best practice exercises",
                      "best practice exercises on business operation and management, in online workshops"),
    "marketing": ("Branding, sales and marketing of clusters or companies",
                  "branding, sales and marketing sessions online"),
    "team_work": ("Team work and group training", "team work and group training in online sessions"),
    "networking": ("Networking and new market entrance teachings",
                   "online networking meetings with the host's contacts and new market entrance teachings"),
}

#: Activity code of the registrations -> the recommended activities (keys of :data:`RECOMMENDED`) that carry it out.
FOR_ACTIVITY: dict[str, tuple[str, ...]] = {
    "capacity_building": ("shadowing", "team_work"),
    "knowledge_sharing": ("best_practice",),
    "project_development": ("pm_finance",),
    "market_research": ("market_research",),
    "networking": ("networking",),
    "shadowing": ("shadowing",),
    "training": ("pm_finance", "team_work"),
    "best_practice": ("best_practice",),
    "marketing": ("marketing",),
    "market_entry": ("networking", "market_research"),
}

#: Objective code of the registrations -> the expected outcome in words.
OUTCOMES: dict[str, str] = {
    "learn_from_cluster": "practices of the host's cluster that the visitor can apply at home, and what the host "
                          "learnt from the visitor's cluster",
    "new_markets": "a view of the growth opportunities in the other's market, and contacts to enter it",
    "new_technologies": "new technologies or digital solutions identified for uptake, with the next steps",
    "green_transition": "green and low-carbon solutions identified for the participants' organisations",
    "interregional_collaboration": "the basis of a lasting interregional collaboration: contacts, a follow-up "
                                   "meeting or a joint project idea",
}

#: The first and the last day of every plan.
OPENING = "Welcome, introduction to the host's organisation and team, agreement on the detailed plan"
CLOSING = "Review of the results against the objectives, and the follow-up both sides agree on"


def recommended_for(activity: str, virtual: bool) -> list[str]:
    """The recommended activities (FAQ q.10) that carry out ``activity``, in their online form when ``virtual``."""
    keys = FOR_ACTIVITY.get(str(activity), ())
    return [RECOMMENDED[k][1 if virtual else 0] for k in keys]


def _day_ranges(n_days: int, n_items: int) -> list[tuple[int, int]]:
    """Split days ``2 .. n_days-1`` among ``n_items`` in order: ``(first, last)`` day numbers per item.

    When there are more items than days, items share days (several items get the same range).
    """
    middle = np.arange(2, n_days)  # day 1 opens, the last day closes
    if n_items == 0:
        return []
    if n_items <= len(middle):
        return [(int(c[0]), int(c[-1])) for c in np.array_split(middle, n_items)]
    groups = np.array_split(np.arange(n_items), max(len(middle), 1))
    day_of = {int(i): int(middle[g]) if len(middle) else 1 for g, items in enumerate(groups) for i in items}
    return [(day_of[i], day_of[i]) for i in range(n_items)]


def plan_rows(activities: Sequence[str], n_days: int) -> list[tuple[int, int, str | None]]:
    """The action plan's rows: ``(first day, last day, activity code)``, opening and closing days as ``None``.

    >>> plan_rows(["networking", "marketing"], 5)
    [(1, 1, None), (2, 3, 'networking'), (4, 4, 'marketing'), (5, 5, None)]
    """
    n = max(int(n_days), 2)
    rows: list[tuple[int, int, str | None]] = [(1, 1, None)]
    rows += [(a, b, act) for (a, b), act in zip(_day_ranges(n, len(activities)), activities)]
    rows.append((n, n, None))
    return rows


def day_label(first: int, last: int, virtual: bool) -> str:
    """``day 2``, ``days 2-3``; ``week 2``, ``weeks 2-3`` for a virtual exchange (one day a week)."""
    unit = "week" if virtual else "day"
    return f"{unit} {first}" if first == last else f"{unit}s {first}-{last}"


__all__ = ["CLOSING", "FOR_ACTIVITY", "OPENING", "OUTCOMES", "RECOMMENDED", "day_label", "plan_rows",
           "recommended_for"]
