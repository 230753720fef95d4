"""A small map of where an image was taken, drawn on the server as SVG: no tiles, no CDN.

A latitude/longitude plot (equirectangular: x is longitude, y latitude) with a graticule every
30 degrees, the equator and the prime meridian, and a marker. It needs no map data and no
projection to fit, so the marker is exactly where the file says. Only presentation attributes
are used (the console's CSP forbids inline styles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 360, 180  # one unit a degree


@dataclass(frozen=True)
class PlaceMap:
    """What the template draws: the marker in SVG units and the graticule lines."""

    latitude: float
    longitude: float
    x: float
    y: float
    meridians: tuple[int, ...]
    parallels: tuple[int, ...]

    @property
    def label(self) -> str:
        ns = "N" if self.latitude >= 0 else "S"
        ew = "E" if self.longitude >= 0 else "W"
        return f"{abs(self.latitude):.4f}° {ns}, {abs(self.longitude):.4f}° {ew}"


def place_map(latitude: float | None, longitude: float | None) -> PlaceMap | None:
    """The map of one place, or None when the file gave no place (or one not on Earth)."""
    if latitude is None or longitude is None:
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90
            and -180 <= longitude <= 180):
        return None
    return PlaceMap(latitude, longitude, round(longitude + 180, 3), round(90 - latitude, 3),
                    tuple(range(0, WIDTH + 1, 30)), tuple(range(0, HEIGHT + 1, 30)))
