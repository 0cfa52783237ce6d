"""The lump-sum rule (docs/decisions.md §8).

A visitor gets a lump sum for travel and accommodation, paid by its partnership:

* the **threshold of the host country** (``countries.csv``, ``lump_sum_eur``),
* times ``lump_sum.reduction_factor`` (0.5) when the stay is shorter than
  ``lump_sum.full_from_working_days`` (5) working days **or** the great-circle distance
  is under ``lump_sum.full_from_km`` (200 km),
* zero for a virtual exchange,
* rounded to cents (half a cent rounds up).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matchmaker.common.schema import EXCHANGE_MODES

#: Exchange modes a pair can have.
MODES = EXCHANGE_MODES


def _params(settings: dict) -> tuple[float, float, float]:
    try:
        ls = settings["lump_sum"]
        return float(ls["full_from_working_days"]), float(ls["full_from_km"]), float(ls["reduction_factor"])
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"settings: missing [lump_sum] key {exc}; pass the dict from matchmaker.inputs.settings.load_settings"
        ) from exc


def _is_virtual(mode: npt.ArrayLike) -> np.ndarray:
    mode = np.asarray(mode)
    if mode.dtype == bool:  # already 'is virtual'
        return mode
    mode = mode.astype(str)
    bad = ~np.isin(mode, MODES)
    if bad.any():
        raise ValueError(f"lump sum: mode '{mode[bad].flat[0]}' is not one of {', '.join(MODES)}")
    return mode == "virtual"


def round_cents(amount: npt.ArrayLike) -> np.ndarray:
    """Round EUR amounts to cents, half a cent up (commercial rounding)."""
    return np.floor(np.asarray(amount, dtype=float) * 100.0 + 0.5 + 1e-9) / 100.0


def is_reduced(working_days: npt.ArrayLike, distance_km: npt.ArrayLike, settings: dict) -> np.ndarray:
    """True where the lump sum is reduced: stay too short or organisations too close."""
    full_days, full_km, _ = _params(settings)
    return (np.asarray(working_days) < full_days) | (np.asarray(distance_km, dtype=float) < full_km)


def lump_sum_eur(threshold_eur: npt.ArrayLike, working_days: npt.ArrayLike, distance_km: npt.ArrayLike,
                 mode: npt.ArrayLike, settings: dict) -> np.ndarray:
    """Lump sum of exchanges; all array arguments broadcast like NumPy arrays.

    Parameters
    ----------
    threshold_eur : array_like of float
        Threshold of the **host** country (``countries.lump_sum_eur``).
    working_days : array_like of int
        Length of the stay in working days.
    distance_km : array_like of float
        Great-circle distance between visitor and host.
    mode : array_like of str or bool
        ``'physical'`` / ``'virtual'`` (or a boolean array meaning "is virtual").
    settings : dict
        Checked settings; uses the ``[lump_sum]`` table.

    Returns
    -------
    ndarray of float
        EUR, rounded to cents; 0 for virtual exchanges.

    Examples
    --------
    >>> from matchmaker.inputs.settings import load_settings
    >>> s = load_settings()
    >>> lump_sum_eur([780, 780, 780], [5, 4, 10], [350.0, 350.0, 150.0], "physical", s).tolist()
    [780.0, 390.0, 390.0]
    >>> lump_sum_eur(780, 10, 350.0, "virtual", s).tolist()
    0.0
    """
    _, _, factor = _params(settings)
    threshold = np.asarray(threshold_eur, dtype=float)
    if np.any(threshold < 0):
        raise ValueError("lump sum: a host-country threshold is negative; check countries.csv, column 'lump_sum_eur'")
    virtual = _is_virtual(mode)
    amount = threshold * np.where(is_reduced(working_days, distance_km, settings), factor, 1.0)
    return round_cents(np.where(virtual, 0.0, amount))


def lump_sum_reason(threshold_eur: float, working_days: int, distance_km: float, mode: str,
                    settings: dict, host_country: str = "host country") -> str:
    """One sentence saying how the lump sum of one exchange is obtained.

    Examples
    --------
    >>> from matchmaker.inputs.settings import load_settings
    >>> lump_sum_reason(780, 4, 500.0, "physical", load_settings(), "PT")
    'EUR 390.00: PT threshold EUR 780.00 x 0.5 because the stay is 4 working days (under 5)'
    """
    full_days, full_km, factor = _params(settings)
    amount = float(lump_sum_eur(threshold_eur, working_days, distance_km, mode, settings))
    if bool(_is_virtual(mode)):
        return f"EUR {amount:.2f}: no lump sum for a virtual exchange"
    why = []
    if working_days < full_days:
        why.append(f"the stay is {working_days} working days (under {full_days:g})")
    if distance_km < full_km:
        why.append(f"the distance is {distance_km:.1f} km (under {full_km:g})")
    base = f"EUR {amount:.2f}: {host_country} threshold EUR {float(threshold_eur):.2f}"
    if why:
        return f"{base} x {factor:g} because {' and '.join(why)}"
    return (f"{base} in full (stay {working_days} working days, at least {full_days:g}; "
            f"distance {distance_km:.1f} km, at least {full_km:g})")
