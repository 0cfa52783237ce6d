"""Great-circle distances between organisations (vectorised)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Mean Earth radius in km (IUGG), used for all great-circle distances.
EARTH_RADIUS_KM = 6371.0088

#: Points on the unit sphere as three arrays ``(x, y, z)`` (see :func:`unit_vectors`).
UnitVectors = tuple[np.ndarray, np.ndarray, np.ndarray]


def great_circle_km(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike) -> np.ndarray:
    """Haversine distance in km; arguments broadcast like NumPy arrays.

    Examples
    --------
    >>> round(float(great_circle_km(48.8566, 2.3522, 52.52, 13.405)))
    877
    """
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> UnitVectors:
    """Points on the unit sphere (x, y, z) of latitudes/longitudes in degrees."""
    phi, lam = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)


def great_circle_km_from_unit(a: UnitVectors, b: UnitVectors) -> np.ndarray:
    """:func:`great_circle_km` of points given by :func:`unit_vectors` ``a`` and ``b``.

    The haversine equals (chord / 2)^2, so this is the same distance (to about 1e-9 km)
    at the price of a square root and an arcsine per pair instead of six trigonometric
    functions: the form for millions of pairs of points converted once.

    Examples
    --------
    >>> paris, berlin = unit_vectors(48.8566, 2.3522), unit_vectors(52.52, 13.405)
    >>> round(float(great_circle_km_from_unit(paris, berlin)))
    877
    """
    chord2 = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(np.sqrt(chord2) / 2.0, 1.0))
