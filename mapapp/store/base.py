"""The store contract every backend implements.

A store holds the registered layers as features with an ``id`` (text, unique in its
layer), the layer's fields, a geometry in WGS84 and a ``version`` (an integer that
grows by one on each change of that feature). The store as a whole has a *data
version*, an integer that grows on every successful write, so caches and ETags can
key on it.

Every write is one transaction: it happens entirely or not at all, and is validated
against the layer's spec first, so a bad feature changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

Bbox = tuple[float, float, float, float]


class Store(ABC):
    """Abstract store; see the module docstring for the data model."""

    area: Bbox

    @abstractmethod
    def exists(self) -> bool:
        """True when the store has been initialised (holds the layer tables)."""

    @abstractmethod
    def layer_names(self) -> list[str]:
        """Names of the layers the store holds."""

    @abstractmethod
    def read(
        self,
        layer: str,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        published_only: bool = False,
        columns: list[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a layer as a GeoDataFrame (EPSG:4326, columns: fields + ``version``).

        ``columns`` limits the fields read (``id`` always comes), for speed.
        ``bbox`` (min_lon, min_lat, max_lon, max_lat) keeps features whose envelope
        meets it; ``filters`` maps field names to required values (equality);
        ``published_only`` drops features of publishable layers not marked published.
        Unknown layers raise NotFound, unknown filter fields BadRequest.
        """

    @abstractmethod
    def count(self, layer: str, published_only: bool = False) -> int:
        """Number of features of a layer (published ones only, if asked)."""

    @abstractmethod
    def get(self, layer: str, fid: str) -> dict:
        """One feature as ``{"id", "properties", "geometry", "version"}``; NotFound."""

    @abstractmethod
    def add(self, layer: str, properties: dict, geometry: BaseGeometry) -> dict:
        """Validate and insert one feature; return it as :meth:`get` would."""

    @abstractmethod
    def update(
        self,
        layer: str,
        fid: str,
        properties: dict | None = None,
        geometry: BaseGeometry | None = None,
        expected_version: int | None = None,
    ) -> dict:
        """Change some fields and/or the geometry of one feature.

        With ``expected_version``, raise Conflict when the stored version differs
        (someone else saved first). Return the feature as saved.
        """

    @abstractmethod
    def delete(self, layer: str, fid: str, expected_version: int | None = None) -> None:
        """Remove one feature (Conflict on a stale ``expected_version``)."""

    @abstractmethod
    def create(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Build the store anew from validated layers; return the new data version.

        An existing store is replaced only once the new one is complete: a failure
        leaves it as it was. The data version continues from the old store's.
        """

    @abstractmethod
    def replace_layers(self, layers: dict[str, gpd.GeoDataFrame]) -> int:
        """Replace whole layers in one transaction; return the new data version."""

    @abstractmethod
    def data_version(self) -> int:
        """The current data version (0 for a store never written)."""

    @abstractmethod
    def check(self) -> list[str]:
        """Integrity check: an empty list when sound, else what is wrong."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release connections."""
