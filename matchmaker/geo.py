"""Great-circle distances between organisations (vectorised)."""

from __future__ import annotations

import numpy as np

#: Mean Earth radius in km (IUGG), used for all great-circle distances.
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km; arguments broadcast like NumPy arrays.

    Examples
    --------
    >>> round(float(great_circle_km(48.8566, 2.3522, 52.52, 13.405)))
    877
    """
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
