"""Working days: Monday to Friday, less optional public holidays (a setting).

All date arithmetic of the scheme goes through these few functions so that holidays
are handled in one place. Dates are ``numpy.datetime64[D]`` (scalars or arrays).
"""

from __future__ import annotations

import numpy as np


def busdaycal(holidays=()) -> np.busdaycalendar:
    """A NumPy business-day calendar: Monday-Friday working, ``holidays`` excluded."""
    return np.busdaycalendar(weekmask="1111100", holidays=np.asarray(list(holidays), dtype="datetime64[D]"))


def count_working_days(first, last, cal: np.busdaycalendar) -> np.ndarray:
    """Working days in the closed calendar interval ``[first, last]`` (0 if empty)."""
    first = np.asarray(first, dtype="datetime64[D]")
    last = np.asarray(last, dtype="datetime64[D]")
    n = np.busday_count(first, last + np.timedelta64(1, "D"), busdaycal=cal)
    return np.maximum(n, 0)


def first_working_day_on_or_after(day, cal: np.busdaycalendar):
    """The first working day on or after ``day``."""
    return np.busday_offset(np.asarray(day, dtype="datetime64[D]"), 0, roll="forward", busdaycal=cal)


def last_working_day_on_or_before(day, cal: np.busdaycalendar):
    """The last working day on or before ``day``."""
    return np.busday_offset(np.asarray(day, dtype="datetime64[D]"), 0, roll="backward", busdaycal=cal)


def add_working_days(start, n, cal: np.busdaycalendar):
    """The working day ``n`` working days after working day ``start`` (``n`` may be 0)."""
    return np.busday_offset(np.asarray(start, dtype="datetime64[D]"), n, roll="forward", busdaycal=cal)


def stay_end(start, working_days, cal: np.busdaycalendar):
    """Last day of a physical stay of ``working_days`` consecutive working days from ``start``."""
    return add_working_days(start, np.asarray(working_days) - 1, cal)
