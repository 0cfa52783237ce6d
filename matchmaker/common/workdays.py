"""Working days: Monday to Friday, less optional public holidays (a setting).

All date arithmetic of the scheme goes through these few functions so that holidays
are handled in one place. Dates are ``numpy.datetime64[D]`` (scalars or arrays).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt


def busdaycal(holidays: Iterable[object] = ()) -> np.busdaycalendar:
    """A NumPy business-day calendar: Monday-Friday working, ``holidays`` excluded."""
    return np.busdaycalendar(weekmask="1111100", holidays=np.asarray(list(holidays), dtype="datetime64[D]"))


def count_working_days(first: npt.ArrayLike, last: npt.ArrayLike, cal: np.busdaycalendar) -> np.ndarray:
    """Working days in the closed calendar interval ``[first, last]`` (0 if empty)."""
    first = np.asarray(first, dtype="datetime64[D]")
    last = np.asarray(last, dtype="datetime64[D]")
    n = np.busday_count(first, last + np.timedelta64(1, "D"), busdaycal=cal)
    return np.maximum(n, 0)


def add_working_days(start: npt.ArrayLike, n: npt.ArrayLike, cal: np.busdaycalendar) -> np.ndarray:
    """The working day ``n`` working days after working day ``start`` (``n`` may be 0)."""
    return np.busday_offset(np.asarray(start, dtype="datetime64[D]"), n, roll="forward", busdaycal=cal)


def stay_end(start: npt.ArrayLike, working_days: npt.ArrayLike, cal: np.busdaycalendar) -> np.ndarray:
    """Last day of a physical stay of ``working_days`` consecutive working days from ``start``."""
    return add_working_days(start, np.asarray(working_days) - 1, cal)
