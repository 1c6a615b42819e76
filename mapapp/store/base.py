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

import json
import math
from abc import ABC, abstractmethod

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from ..errors import BadRequest, Conflict, NotFound, ValidationError
from ..layers import LayerSpec, validate_records
from ..text import slug
from .filters import Filter

Bbox = tuple[float, float, float, float]


def plain_value(value: object) -> object:
    """A value a database driver accepts: numpy scalars to Python, NaN/NA to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def history_state(feature: dict | None) -> str | None:
    """A feature (as :meth:`Store.get` returns it) as JSON for the history."""
    if feature is None:
        return None
    return json.dumps(
        {
            "properties": {k: plain_value(v) for k, v in feature["properties"].items()},
            "geometry": mapping(feature["geometry"]),
            "version": feature["version"],
        },
        ensure_ascii=False,
    )


class Store(ABC):
    """Abstract store; see the module docstring for the data model.

    The concrete helpers below (validation, version checks, column choice) are shared
    by every backend, so they all refuse the same things with the same messages.
    """

    area: Bbox

    def _validate(
        self, spec: LayerSpec, props: dict, geom: BaseGeometry, source: str
    ) -> None:
        problems = validate_records(
            [{"properties": props, "geometry": geom}], spec, self.area, source
        )
        if problems:
            raise ValidationError(problems)

    @staticmethod
    def _check_version(current: dict, expected: int | None) -> None:
        if expected is not None and current["version"] != expected:
            raise Conflict(
                f"feature {current['id']!r} is at version {current['version']}, "
                f"not {expected}: someone saved it first",
                current=current,
            )

    @staticmethod
    def _columns(spec: LayerSpec, columns: list[str] | None) -> list[str]:
        """The columns a read returns: every field and the version, or ``id`` and the
        asked ones (BadRequest for an unknown one)."""
        if columns is None:
            return spec.field_names + ["version"]
        unknown = set(columns) - set(spec.field_names) - {"version"}
        if unknown:
            raise BadRequest(f"unknown field(s) {sorted(unknown)} in {spec.name!r}")
        return ["id"] + [c for c in columns if c != "id"]

    def new_id(self, layer: str, name: object) -> str:
        """A readable unused id made from a feature's name (``le-numerique``, then
        ``le-numerique-2`` when taken); the layer's name when there is none."""
        base = slug(name) or layer
        candidate, n = base, 1
        while True:
            try:
                self.get(layer, candidate)
            except NotFound:
                return candidate
            n += 1
            candidate = f"{base}-{n}"

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
        where: Filter | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> gpd.GeoDataFrame:
        """Read a layer as a GeoDataFrame (EPSG:4326, columns: fields + ``version``).

        Types are the layer's: integer fields are pandas ``Int64`` (missing values
        do not turn them into floats), booleans are ``True``/``False``/``None``, text
        stays text (``"01"`` keeps its zero).

        ``columns`` limits the fields read (``id`` always comes), for speed.
        ``bbox`` (min_lon, min_lat, max_lon, max_lat) keeps features whose envelope
        meets it; ``filters`` maps field names to required values (equality);
        ``where`` is a filter expression (:mod:`.filters`) evaluated by the
        database, with SQL's null semantics; ``published_only`` drops features of
        publishable layers not marked published. Features come in insertion order;
        ``limit`` and ``offset`` take one page of them.
        Unknown layers raise NotFound; unknown fields, and values of the wrong type
        in ``where``, BadRequest.
        """

    @abstractmethod
    def count(
        self,
        layer: str,
        published_only: bool = False,
        bbox: Bbox | None = None,
        filters: dict[str, object] | None = None,
        where: Filter | None = None,
    ) -> int:
        """Number of features of a layer matching the same arguments as :meth:`read`."""

    @abstractmethod
    def get(self, layer: str, fid: str) -> dict:
        """One feature as ``{"id", "properties", "geometry", "version"}``; NotFound."""

    @abstractmethod
    def add(
        self,
        layer: str,
        properties: dict,
        geometry: BaseGeometry,
        author: str | None = None,
    ) -> dict:
        """Validate and insert one feature; return it as :meth:`get` would.

        Every change (add, update, delete, restore) is recorded in the history, with
        ``author`` and the state before and after, in the same transaction.
        """

    @abstractmethod
    def update(
        self,
        layer: str,
        fid: str,
        properties: dict | None = None,
        geometry: BaseGeometry | None = None,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> dict:
        """Change some fields and/or the geometry of one feature.

        With ``expected_version``, raise Conflict when the stored version differs
        (someone else saved first). Return the feature as saved.
        """

    @abstractmethod
    def delete(
        self,
        layer: str,
        fid: str,
        expected_version: int | None = None,
        author: str | None = None,
    ) -> None:
        """Remove one feature (Conflict on a stale ``expected_version``).

        Recoverable: the history keeps its last state (see :meth:`restore`).
        """

    @abstractmethod
    def history(self, layer: str, fid: str) -> list[dict]:
        """The changes of one feature, newest first: ``{"id", "version", "action",
        "author", "at", "before", "after"}`` (states as GeoJSON-like dicts)."""

    @abstractmethod
    def deleted(self, layer: str) -> list[dict]:
        """Features of a layer whose last change is a deletion (to recover them)."""

    @abstractmethod
    def restore(
        self,
        layer: str,
        fid: str,
        history_id: int,
        author: str | None = None,
        expected_version: int | None = None,
    ) -> dict:
        """Bring a feature back to the state of one history entry (re-adding it when
        deleted); recorded as a change of its own."""

    # --- accounts: users, API tokens, failed sign-in attempts ----------------------

    @abstractmethod
    def add_user(self, name: str, role: str, password_hash: str) -> None:
        """Create a user (Conflict if the name is taken)."""

    @abstractmethod
    def get_user(self, name: str) -> dict | None:
        """``{"name", "role", "password_hash", "created"}`` or None."""

    @abstractmethod
    def list_users(self) -> list[dict]:
        """Every user as ``{"name", "role", "created"}``, by name."""

    @abstractmethod
    def remove_user(self, name: str) -> None:
        """Delete a user and their tokens (NotFound if unknown)."""

    @abstractmethod
    def set_password(self, name: str, password_hash: str) -> None:
        """Change a user's password hash (NotFound if unknown)."""

    @abstractmethod
    def add_token(self, name: str, token_hash: str) -> None:
        """Store the hash of a new API token of a user."""

    @abstractmethod
    def user_for_token(self, token_hash: str) -> dict | None:
        """``{"name", "role"}`` of the token's user, or None."""

    @abstractmethod
    def note_failure(self, key: str, at: float) -> None:
        """Record a failed sign-in for ``key`` (an account or an address)."""

    @abstractmethod
    def failures_since(self, key: str, since: float) -> int:
        """Failed sign-ins recorded for ``key`` since the time ``since``."""

    @abstractmethod
    def clear_failures(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful sign-in)."""

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
