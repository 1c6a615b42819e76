"""The running site without Flask: the store, layer snapshots and analysis inputs.

A :class:`Site` is built from :class:`~mapapp.config.Settings` and shared by the web
views and every CLI command (datasette's ``Datasette`` object). It owns the store
and the caches, all :class:`~mapapp.cache.BoundedCache` keyed on the data version,
so a write shows everywhere at once and nothing a visitor asks for grows memory
without bound.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Hashable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .analysis import COMMUNE_LEVEL, COMPANY_FIELDS, Prepared
from .analysis.catchments import (
    analysis_shape,
    catchment,
    catchment_area,
    to_metric,
)
from .analysis.columns import Points, filter_points
from .analysis.dossier import Scope, dossier
from .analysis.filters import apply_filters, filter_query
from .analysis.indicators import key_figures
from .analysis.places import distinguish, name_cells
from .analysis.scenarios import scenario_rows
from .analysis.suitability import score_grid, top_areas
from .analysis.timeline import ecosystem
from .cache import BoundedCache, DiskBodies, Gate, Payload, StoredBody, frame_bytes
from .config import Settings
from .errors import NotFound
from .exports import MetadataTally, feature_licences, layer_metadata
from .layers import REGISTRY, LayerSpec, get_spec, tr
from .listing import ListIndex, index_columns
from .maps.compact import PointTiles
from .maps.tiles import TileConfig, resolve_tiles
from .packing import frame_arrays, frame_of, json_array, json_of
from .places import (
    ANSWER_LISTS,
    Zone,
    address_hit,
    answer,
    search_zones,
    zone_index,
    zone_of,
)
from .snapshots import (
    PACKED,
    FileKind,
    PackedSnapshot,
    Snapshot,
    SnapshotFiles,
    build_packed,
    build_snapshot,
    map_columns,
    snapshot_label,
)
from .store import Store, init_store, open_store
from .store.filters import In
from .territory import View, view_of
from .workers import Workers

log = logging.getLogger(__name__)
ANALYSIS_LAYERS = ("companies", "schools", "coworking", "fibre", "context")
# how long the request that finds a layer changed waits for its new snapshot
# before it is served the previous one (the new one goes on building in the
# background; other requests get the previous one meanwhile): small layers are
# built within it, and always served fresh
FRESH_WAIT = 0.5
MB = 1024 * 1024


class Site:
    """The store and the caches of one running site (see the module docstring)."""

    def __init__(
        self, settings: Settings, store: Store | None = None, in_worker: bool = False
    ):
        self.settings = settings
        self.territory = settings.territory
        self.area = settings.study_area
        self.tiles: TileConfig = resolve_tiles(
            str(settings["TILES"]), str(settings["TILES_ATTRIBUTION"])
        )
        self.store = store or open_store(settings.store_url, self.area)
        self.heavy = Gate(
            int(settings.values.get("HEAVY_AT_ONCE", 2)),
            int(settings.values.get("HEAVY_QUEUE", 4)),
            float(settings.values.get("HEAVY_WAIT_SECONDS", 60)),
        )
        self.bodies = DiskBodies(settings.cache_dir)
        self.snapshot_files = SnapshotFiles(settings.cache_dir / "snapshots")
        # the builds of large layers run in worker processes (mapapp.workers); a
        # worker's own site builds in its thread
        self.workers = None if in_worker else Workers(settings, self.heavy.at_once)
        self._versions: dict[str, int] | None = None
        self._files = BoundedCache(max_entries=512, max_bytes=MB)
        self.pages = BoundedCache(max_entries=1024, max_bytes=128 * MB)
        self._snapshots = BoundedCache(max_entries=32, max_bytes=512 * MB)
        self._point_tiles = BoundedCache(max_entries=8, max_bytes=256 * MB)
        self._columns = BoundedCache(max_entries=2, max_bytes=512 * MB)
        self._prepared = BoundedCache(max_entries=8, max_bytes=512 * MB)
        self._grids = BoundedCache(max_entries=32, max_bytes=256 * MB)
        self._facts = BoundedCache(max_entries=64, max_bytes=16 * MB)
        self._areas = BoundedCache(max_entries=512, max_bytes=32 * MB)

    @property
    def view(self) -> View:
        """Where maps open: the territory's initial view, or a view fitting the study
        area when it is a part of the territory or a box."""
        if self.area.geometry is self.territory.contour:
            return self.territory.view
        return view_of(self.area.geometry)

    def init_store(self, force: bool = False, seed=None) -> int | None:
        """Build the store from the seed (first start only, unless ``force``); return
        the new data version, or None when an existing store was kept."""
        return init_store(self.store, seed or self.settings.seed_dir, force=force)

    def data_version(self) -> int:
        """The store's data version (caches and ETags key on it)."""
        return self.store.data_version()

    def layer_versions(self) -> dict[str, int]:
        """Every layer's version (store.layer_versions), read again only when
        the data version has changed."""
        known = self._versions
        if known is not None and known[""] == self.data_version():
            return known
        self._versions = self.store.layer_versions()
        return self._versions

    def layer_version(self, name: str) -> int:
        """The version of one layer: the data version of its last change (what
        caches of that layer alone key on, so a write elsewhere keeps them)."""
        versions = self.layer_versions()
        return versions.get(name, versions[""])

    def built(self, features: int, job, *args):
        """``job(self, *args)``: in a worker process for a layer of ``features``
        features or more (mapapp.workers), else here."""
        if self.workers is not None and self.workers.wanted(features):
            return self.workers.run(job, *args)
        return job(self, *args)

    def close(self) -> None:
        """Release the store's connections and end the worker processes."""
        if self.workers is not None:
            self.workers.close()
        self.store.close()

    # --- public data ------------------------------------------------------------

    def public_layers(self) -> list[str]:
        """The names of the public layers, in registry order."""
        return [name for name, spec in REGISTRY.items() if spec.public]

    def snapshot(self, name: str, full: bool = False) -> Snapshot | PackedSnapshot:
        """The published snapshot of a layer (built on first use, one build at a
        time): the current one, or while a newer one is being built in the
        background, the previous one (its ``version`` says which).

        By default only what the map needs is read (id, label, category, geometry);
        ``full`` reads every field. A large point layer's map snapshot is built in
        a worker process and held packed (mapapp.snapshots).
        """
        spec = get_spec(name)
        version = self.layer_version(name)
        inline_max = int(self.settings.values.get("INLINE_MAX_FEATURES", 2000))
        overview_min = int(self.settings.values.get("OVERVIEW_MIN_FEATURES", 200_000))

        def make() -> Snapshot | PackedSnapshot:
            if full:
                return build_snapshot(self, name)
            count = self.published_count(name)
            if spec.geometry == "Point" and count > inline_max:
                if self.workers is not None and self.workers.wanted(count):
                    return self.packed_snapshot(name, overview_min)
                return build_snapshot(
                    self, name, map_columns(spec), inline_max, overview_min
                )
            return build_snapshot(self, name, map_columns(spec))

        return self._snapshots.get_or_make(
            (name, version, full),
            make,
            lambda s: s.nbytes,
            family=(name, full),
            stale=FRESH_WAIT,
            gate=self.heavy,
        )

    def packed_snapshot(self, name: str, overview_min: int) -> PackedSnapshot:
        """A large point layer's map snapshot: read from the file kept for the
        layer's current version (a restarted server loads a million companies'
        in a fraction of a second instead of building them for seconds), else
        built in a worker process and kept in one."""
        what = {"overview_min": overview_min}
        return self.kept(name, PACKED, what, build_packed, name, overview_min)

    def kept(self, name: str, kind: FileKind, what: dict, job, *args):
        """``job(site, *args)`` run in a worker process, what a large layer
        ``name`` takes seconds to build: instead, read from the file of ``kind``
        kept for the layer's current version and ``what`` else decides it
        (snapshots.SnapshotFiles), and kept in one once built (unless the layer
        changed meanwhile: it may then hold either version)."""
        label = self._file_label(name, **what)
        found = self.snapshot_files.find(label, kind) if label else None
        if found is not None:
            return found
        made = self.workers.run(job, *args)
        if label and self._file_label(name, **what) == label:
            try:
                self.snapshot_files.keep(label, made, kind)
            except OSError:  # a full disk: served all the same, built at restart
                log.exception("keeping the %s of %s failed", job.__name__, name)
        return made

    def _file_label(self, name: str, **what) -> dict | None:
        """The label of a file kept of layer ``name`` at its current version
        (snapshots.snapshot_label), or None when the store cannot give its mark
        (nothing is then read or kept)."""
        try:
            version, mark = self.store.layer_mark(name)
        except Exception:  # noqa: BLE001 - a read-only store, say: built each start
            log.warning("no mark for %s: its snapshot is not kept", name, exc_info=1)
            return None
        if not mark:  # a backend that keeps no marks
            return None
        return snapshot_label(get_spec(name), version, mark, **what)

    def snapshot_rows(
        self, snap: Snapshot | PackedSnapshot, positions: list[int]
    ) -> list[tuple[int, pd.Series]]:
        """(position, row with every field) of the features at ``positions`` of a
        snapshot, in that order: from its frame, or for a packed snapshot read from
        the store by id (a feature unpublished since is left out)."""
        if not snap.packed:
            frame = snap.frame
            return [(i, frame.iloc[i]) for i in positions]
        ids = [snap.id_at(i) for i in positions]
        frame = self.store.read(
            snap.spec.name, published_only=True, where=In("id", tuple(ids))
        )
        rows = {str(row["id"]): row for _, row in frame.iterrows()}
        return [(i, rows[f]) for i, f in zip(positions, ids, strict=True) if f in rows]

    def snapshot_feature(self, snap: Snapshot | PackedSnapshot, index: int):
        """The whole feature at ``index`` of a snapshot, as it was at the
        snapshot's version (a one-row frame), or None when it has changed since
        (written, unpublished or deleted): the popups then ask for a reload."""
        name, fid = snap.spec.name, snap.id_at(index)
        if not snap.packed:
            full = self.snapshot(name, full=True)
            if full.version != snap.version:
                return None
            return full.frame[full.frame["id"] == fid]
        row = self.store.read(name, published_only=True, where=In("id", (fid,)))
        # a feature edited since the snapshot is not the one the map shows
        if len(row) != 1 or int(row["version"].iloc[0]) != snap.edits[index]:
            return None
        return row.drop(columns=["published"], errors="ignore")

    def list_index(self, name: str, lang: str) -> ListIndex:
        """The rows of a layer for the list view, prepared once per layer version
        and language (the previous one served while a new one is built; a large
        layer's in a worker process)."""
        version = self.layer_version(name)

        def make() -> ListIndex:
            count = self.published_count(name)
            if self.workers is None or not self.workers.wanted(count):
                return build_list_index(self, name, lang)
            # a large layer's: kept in a file, a restart builds none (seconds)
            what = {"list": lang}
            return self.kept(name, list_files(lang), what, build_list_index, name, lang)

        return self._snapshots.get_or_make(
            ("list", name, version, lang),
            make,
            lambda index: index.nbytes,
            family=("list", name, lang),
            stale=FRESH_WAIT,
            gate=self.heavy,
        )

    def warm_up(self) -> None:
        """Build the map data of the large public point layers now (``mapapp
        serve`` does it in the background at start): the first visitor then finds
        it ready, or waits for the build under way rather than starting one."""
        limit = int(self.settings.values.get("INLINE_MAX_FEATURES", 2000))
        for name in self.public_layers():
            try:
                if get_spec(name).geometry == "Point":
                    if self.published_count(name) > limit:
                        self.snapshot(name)
            except Exception:  # noqa: BLE001 - a request will say what is wrong
                log.exception("warming up %s failed", name)

    def list_rows(self, name: str, ids: list[str]) -> gpd.GeoDataFrame:
        """The published features of ``ids`` (a page of the list view)."""
        return self.store.read(name, published_only=True, where=In("id", tuple(ids)))

    def published_count(self, name: str) -> int:
        """How many published features a layer has (kept per layer version)."""
        key = ("count", name, self.layer_version(name))
        return self._facts.get_or_make(
            key,
            lambda: self.store.count(name, published_only=True),
            lambda n: 64,
            family=("count", name),
            stale=FRESH_WAIT,
        )

    def fact(self, key: Hashable, make: Callable[[], object]) -> object:
        """A small derived value (a few kB) made once per ``key`` (include the data
        version in it)."""
        return self._facts.get_or_make(key, make, lambda v: 4096, gate=self.heavy)

    def payload(
        self, key: Hashable, make: Callable[[], Payload], heavy: bool = False
    ) -> Payload:
        """A response body from the page cache, made once per ``key`` (include the
        data version in keys of data-dependent bodies); ``heavy`` bodies take a
        slot of the heavy-work pool."""
        gate = self.heavy if heavy else None
        return self.pages.get_or_make(key, make, lambda p: p.nbytes, gate=gate)

    def point_tile(
        self, snap: Snapshot | PackedSnapshot, z: int, x: int, y: int
    ) -> Payload:
        """The points of tile ``z/x/y`` of a point layer's snapshot (maps/compact.py:
        PointTiles), cut from its points sorted by tile once per version: what the
        map loads zoomed in on a layer too large to load whole."""
        name = snap.spec.name
        tiles = self._point_tiles.get_or_make(
            (name, snap.version),
            lambda: PointTiles(snap.binary().body),
            lambda t: t.nbytes,
            gate=self.heavy,
        )
        return self.payload(
            ("tile", name, snap.version, z, x, y),
            lambda: Payload.of(tiles.tile(z, x, y)),
        )

    def stored(
        self,
        family: Hashable,
        key: Hashable,
        job: Callable[..., bytes | Iterable[bytes]],
        *args,
        features: int = 0,
    ) -> StoredBody:
        """A large body kept in a file per ``key`` (include the layer version),
        made once by ``job(site, *args)`` (a module-level function) in a slot of
        the heavy-work pool, in a worker process for a body of ``features`` or
        more (WORKER_MIN_FEATURES); the newest per ``family``."""

        def make() -> StoredBody:
            found = self.bodies.find(family, key)  # made before: no worker needed
            if found is not None:
                return found
            return self.built(features, keep_body, family, key, job, args)

        return self._files.get_or_make(key, make, lambda b: 256, gate=self.heavy)

    def search(
        self, query: str, names: list[str], limit: int
    ) -> list[tuple[Snapshot | PackedSnapshot, int]]:
        """Up to ``limit`` (snapshot, index) pairs whose name contains ``query``."""
        hits: list[tuple[Snapshot | PackedSnapshot, int]] = []
        for name in names:
            snap = self.snapshot(name)
            hits += [(snap, i) for i in snap.search(query, limit - len(hits))]
            if len(hits) >= limit:
                break
        return hits

    # --- places: quarters, communes and addresses, without an outside geocoder ------

    def place_index(self) -> list[Zone]:
        """The zones a visitor may search for (fibre quarters, reference zones, the
        communes of the addresses), built once per data version."""

        def make() -> list[Zone]:
            zones = self.store.read(
                "zones", columns=["zone_code", "zone_name", "zone_kind"]
            )
            fibre = self.snapshot("fibre", full=True).frame
            shapes = self.territory.shapes()  # the contours of the area's communes
            wanted = self.area.communes or tuple(shapes)
            communes = {c: shapes[c] for c in wanted if c in shapes}
            return zone_index(
                fibre,
                zones,
                self.store.address_communes(),
                communes,
                self.territory.quarters,
            )

        return self._snapshots.get_or_make(
            ("places", self.data_version()), make, lambda z: 4096 * (len(z) + 1)
        )

    def places(self, query: str, limit: int = 8) -> list[dict]:
        """Quarters, IRIS zones and communes, then addresses, matching ``query``."""
        zones = search_zones(self.place_index(), query, min(4, limit))
        addresses = self.store.search_addresses(query, limit=limit - len(zones))
        return [z.hit() for z in zones] + [address_hit(a) for a in addresses]

    def here(self, lon: float, lat: float, lang: str) -> dict:
        """What a point has around it (places.answer): the fibre coverage there, the
        nearest open coworking and training places (those to come apart), the
        nearest stations, with distances and walking times."""
        return self._answer(lon, lat, None, lang)

    def here_zone(self, kind: str, code: str, lang: str) -> dict:
        """The same answer for a quarter, an IRIS zone or a commune of the place
        search, as a whole; NotFound for a zone the search does not know."""
        zone = zone_of(self.place_index(), kind, code)
        if zone is None:
            raise NotFound(f"no {kind} with code {code!r}")
        return self._answer(zone.lon, zone.lat, zone, lang)

    def _answer(self, lon: float, lat: float, zone: Zone | None, lang: str) -> dict:
        names = ["fibre"] + [rule.layer for rule in ANSWER_LISTS]
        frames = {n: self.snapshot(n, full=True).frame for n in dict.fromkeys(names)}
        labels = {}
        for name in names[1:]:
            spec = get_spec(name)
            labels[name] = {
                key: {k: tr(v, lang) for k, v in (choices or {}).items()}
                for key, choices in (
                    ("status", _choices(spec, "status")),
                    ("kind", _choices(spec, "kind")),
                )
            }
        found = answer(frames, labels, self.place_index(), lon, lat, zone)
        for rule in ANSWER_LISTS:  # positions in the snapshot, for large layers
            snap = self.snapshot(rule.layer)
            for part in found[rule.key].values():
                for item in part:
                    item["index"] = snap.index_of(item["id"])
        return found

    # --- planners' analyses -------------------------------------------------------

    def filtered(self, name: str, filters: dict) -> gpd.GeoDataFrame:
        """A whole layer (published or not: planners see all) with filters applied."""
        return apply_filters(name, self.store.read(name), filters)

    def prepared(self, filters: dict, jobs: str = "register") -> Prepared:
        """The analysis layers for these filters at the current data version;
        ``jobs`` is the basis of the jobs estimate (analysis.JOBS_BASES)."""
        key = (self.data_version(), tuple(sorted(filter_query(filters).items())), jobs)

        def make() -> Prepared:
            layers = {
                n: self.filtered(n, filters) for n in ANALYSIS_LAYERS[1:]
            }  # the companies come as columns, kept per version of their layer
            points, at_commune = self.company_points()
            companies = (
                filter_points(points, filters.get("companies", {})),
                apply_filters("companies", at_commune, filters),
            )
            return Prepared(layers, jobs, self.territory.shapes(), companies=companies)

        return self._prepared.get_or_make(
            key,
            make,
            lambda p: (
                p.companies.nbytes
                + 4 * p.jobs.nbytes
                + sum(frame_bytes(f) for f in p.frames)
            ),
        )

    def company_points(self) -> tuple[Points, gpd.GeoDataFrame]:
        """(the companies located at a place as columns in Lambert-93, those
        located at commune level only as a frame), read once per version of the
        companies layer: an edit of a perimeter reads no company again."""
        names = [f for f in COMPANY_FIELDS if f in get_spec("companies").field_names]

        def make() -> tuple[Points, gpd.GeoDataFrame]:
            count = self.store.count("companies")
            if self.workers is None or not self.workers.wanted(count):
                return company_points(self, names)
            # kept in a file: a restart reads no million companies again
            what = {"columns": names}
            return self.kept("companies", COMPANY_FILES, what, company_points, names)

        key = ("companies", self.store.layer_version("companies"))
        return self._columns.get_or_make(
            key, make, lambda pair: pair[0].nbytes + frame_bytes(pair[1])
        )

    def grid(
        self, filters: dict, weights: dict, cell_m: int, jobs: str = "register"
    ) -> gpd.GeoDataFrame:
        """The scored suitability grid (cached per data version, filters, weights,
        cell size and jobs basis)."""
        data = self.prepared(filters, jobs)
        key = (
            self.data_version(),
            tuple(sorted(filter_query(filters).items())),
            tuple(sorted(weights.items())),
            cell_m,
            jobs,
        )
        return self._grids.get_or_make(
            key, lambda: score_grid(data, weights, cell_m), frame_bytes
        )

    def feature_geometry(self, layer: str, fid: str) -> tuple[BaseGeometry, dict]:
        """(geometry, properties) of one stored feature (NotFound if unknown)."""
        feature = self.store.get(layer, fid)
        return feature["geometry"], feature["properties"]

    def catchment_area(self, place: BaseGeometry, radius_m: float) -> BaseGeometry:
        """The metric area within ``radius_m`` of a WGS84 place, computed once per
        shape and radius (a perimeter's once per version of its outline) and kept:
        a detailed outline's buffer costs a tenth of a second, not each request."""
        key = (hashlib.sha256(place.wkb).hexdigest(), float(radius_m))

        def make() -> BaseGeometry:
            area = catchment_area(to_metric(place), radius_m)
            shapely.prepare(area)  # before threads share it
            return area

        return self._areas.get_or_make(
            key,
            make,
            lambda area: 1024 + 16 * shapely.get_num_coordinates(area),
        )

    def catchment(
        self,
        filters: dict,
        place: BaseGeometry,
        radius_m: float,
        jobs: str = "register",
    ) -> dict:
        """Figures within ``radius_m`` of ``place`` (see analysis.catchments)."""
        area = self.catchment_area(place, radius_m)
        return catchment(self.prepared(filters, jobs), place, radius_m, area)

    def scenarios(
        self,
        filters: dict,
        radius_m: float,
        weights: dict,
        cell_m: int,
        jobs: str = "register",
    ) -> list[dict]:
        """The planned sites and candidate perimeters compared (analysis.scenarios)."""
        sites = self.store.read("coworking")
        return scenario_rows(
            self.prepared(filters, jobs),
            self.grid(filters, weights, cell_m, jobs),
            {"coworking": sites, "perimeters": self.store.read("perimeters")},
            radius_m,
            self.catchment_area,
        )

    def key_figures(
        self, filters: dict, perimeter: str | None = None, jobs: str = "register"
    ) -> dict:
        """Key figures of the whole area, or of one perimeter (``name`` added)."""
        data = self.prepared(filters, jobs)
        if not perimeter:
            return key_figures(data)
        geometry, props = self.feature_geometry("perimeters", perimeter)
        return {
            "id": perimeter,
            "name": props.get("name"),
            **key_figures(data, analysis_shape(geometry)),
        }

    def best_cells(self, cells: gpd.GeoDataFrame, n: int = 5) -> list[dict]:
        """The ``n`` best areas of a grid (neighbouring cells merged), each named by
        its quarter and commune, namesakes told apart by their nearest landmark."""
        zones, fibre = self.store.read("zones"), self.store.read("fibre")
        landmarks = pd.concat(
            [
                self.store.read(name, columns=["name"])
                for name in ("context", "schools", "coworking")
            ],
            ignore_index=True,
        )
        return distinguish(name_cells(top_areas(cells, n), zones, fibre), landmarks)

    def area_of(self, target: tuple[str, str] | None, place, radius_m: float):
        """(metric area, scope) of a timeline: the whole area (None), a perimeter
        (``target`` = ("perimeters", id)) or the catchment of a site or a place."""
        if target is None and place is None:
            return None, {"kind": "area"}
        if target is not None:
            geometry, props = self.feature_geometry(*target)
            if target[0] == "perimeters":
                scope = {
                    "kind": "perimeter",
                    "id": target[1],
                    "name": props.get("name"),
                }
                return analysis_shape(geometry), scope
            place = geometry
            named = {"layer": target[0], "id": target[1], "name": props.get("name")}
        else:
            named = None
        area = self.catchment_area(place, radius_m)
        return area, {"kind": "catchment", "radius_m": radius_m, "target": named}

    def ecosystem(self, filters: dict, area_m=None, first: int | None = None) -> dict:
        """Establishments created, net change and existing per year (timeline)."""
        return ecosystem(self.prepared(filters), area_m, first=first)

    def dossier(
        self,
        filters: dict,
        target: tuple[str, str] | None,
        radius_m: float,
        weights: dict,
        cell_m: int,
        jobs: str = "register",
    ) -> dict:
        """The content of the printable dossier of the whole area (``target`` None),
        a coworking site or a perimeter (analysis.dossier)."""
        scope, own, area = Scope("area"), None, None
        rows = self.scenarios(filters, radius_m, weights, cell_m, jobs)
        if target is not None:
            geometry, props = self.feature_geometry(*target)
            kind = "perimeter" if target[0] == "perimeters" else "site"
            scope = Scope(kind, props.get("name") or target[1], target[1], geometry)
            area = self.catchment_area(geometry, radius_m)
            own = next((r for r in rows if (r["layer"], str(r["id"])) == target), None)
            if own is not None:  # its rank among the compared sites
                scores = [
                    r["suitability"] for r in rows if r["suitability"] is not None
                ]
                if own["suitability"] is not None:
                    own = {
                        **own,
                        "rank": 1 + sum(s > own["suitability"] for s in scores),
                        "compared": len(scores),
                    }
            rows = None
        data = self.prepared(filters, jobs)
        frames = {  # the prepared (metric, filtered) layers: no second read
            **{
                n: self.filtered(n, filters) for n in ("fibre", "perimeters", "context")
            },
            # a row per distinct source (a million companies are never a frame)
            "companies": data.companies_summary(),
            **data.layers_with_commune_level(),
        }
        result = dossier(data, frames, REGISTRY, scope, radius_m, rows, own, area)
        # the suitability criteria the scores leave out for want of data
        grid = self.grid(filters, weights, cell_m, jobs)
        result["left_out"] = list(grid.attrs.get("left_out", []))
        # the licence keys of each layer, from the frames at hand (no second read)
        result["licence_keys"] = {
            name: sorted(set(feature_licences(frame, name)))
            for name, frame in frames.items()
        }
        return result

    def layer_metadata(
        self, name: str, frame: gpd.GeoDataFrame | MetadataTally, lang: str = "fr"
    ):
        """Licences, attribution, edition, download date and counts by precision of
        a layer (exports.layer_metadata), with what ``mapapp update`` recorded."""
        from .refresh.manifest import layer_provenance

        provenance = layer_provenance(self.settings.download_dir).get(name)
        return layer_metadata(frame, name, lang, provenance)

    def layer_facts(self, name: str, lang: str) -> dict:
        """:meth:`layer_metadata` of a layer's published features, read with only
        the fields it needs and kept per layer version (map pages, the open-data
        page and the OGC collections show it), with the ``layer_version`` it
        describes and the features' ``bounds`` (minx, miny, maxx, maxy; None
        without features)."""
        version = self.layer_version(name)

        def make() -> dict:
            count = self.published_count(name)
            if self.workers is None or not self.workers.wanted(count):
                return read_facts(self, name, lang)
            return self.kept_facts(name, lang)

        # the previous facts while a large layer's new ones are read (the page
        # that shows them is then not kept: views/public.py, cached_page)
        return self._facts.get_or_make(
            (name, version, lang),
            make,
            lambda facts: 4096,
            family=(name, lang),
            stale=FRESH_WAIT,
            gate=self.heavy,
        )

    def kept_facts(self, name: str, lang: str) -> dict:
        """A large layer's facts: from the file kept for its current version and
        the download manifest's word on it, else read in a worker process (a
        chunk at a time: 0.35 GB at a million features, for seconds) and kept in
        one."""
        from .refresh.manifest import layer_provenance

        said = layer_provenance(self.settings.download_dir).get(name)
        provenance = hashlib.sha256(
            json.dumps(said, sort_keys=True, default=str).encode()
        ).hexdigest()[:20]
        what = {"facts": lang, "provenance": provenance}
        return self.kept(name, facts_files(lang), what, read_facts, name, lang)

    def clear_caches(self) -> None:
        """Forget every cached page, snapshot, analysis input and fact (the
        benchmarks measure cold work with it)."""
        for cache in (
            self._files,
            self.pages,
            self._snapshots,
            self._point_tiles,
            self._columns,
            self._prepared,
            self._grids,
            self._facts,
            self._areas,
        ):
            cache.clear()
        self.bodies.clear()

    def communes(self) -> list[str]:
        """The commune codes of the companies (the planners' commune filter), from
        their columns (a million companies are not read for a list of codes)."""
        points, at_commune = self.company_points()
        codes, values = points.fields.get("commune_code", (np.zeros(0, int), []))
        used = np.bincount(codes[codes >= 0], minlength=len(values))
        found = {values[i] for i in np.flatnonzero(used)}
        if "commune_code" in at_commune:
            found |= set(at_commune["commune_code"].dropna())
        return sorted(c for c in found if isinstance(c, str) and c)


def read_facts(site: Site, name: str, lang: str, size: int = 50_000) -> dict:
    """:meth:`Site.layer_facts` of a layer, read from the store with only the
    fields they need (a worker process's job for a large layer)."""
    spec = get_spec(name)
    wanted = ("source", "source_date", "precision", "licence")
    columns = [c for c in wanted if c in spec.field_names]
    version, chunks = site.store.read_versioned_chunks(
        name, published_only=True, columns=columns, size=size
    )
    # counted a chunk at a time (the layer whole, with only these fields, took
    # 1.2 GB at a million features); every read brings the geometry: the extent
    # costs nothing more here
    tally = MetadataTally(name)
    for frame in chunks:
        tally.add(frame)
    bounds = [float(v) for v in tally.bounds] if tally.features else None
    return {
        **site.layer_metadata(name, tally, lang),
        "bounds": bounds,
        "layer_version": version,
    }


def build_list_index(site: Site, name: str, lang: str, size: int = 50_000) -> ListIndex:
    """The list view's index of a layer (a worker process's job for a large one):
    only the fields it searches and sorts by are read, ``size`` features at a
    time; rows are read per page."""
    spec = get_spec(name)
    read_at, chunks = site.store.read_versioned_chunks(
        name, published_only=True, columns=index_columns(spec), size=size
    )
    return ListIndex.of_chunks(chunks, spec, lang, read_at)


def list_files(lang: str) -> FileKind:
    """How a large layer's list index in ``lang`` is kept (Site.kept)."""

    def of_arrays(arrays: dict[str, np.ndarray], label: dict) -> ListIndex:
        return ListIndex.of_arrays(arrays, get_spec(label["layer"]))

    return FileKind(("list", lang), ListIndex.to_arrays, of_arrays)


def facts_files(lang: str) -> FileKind:
    """How a large layer's facts in ``lang`` are kept (Site.kept): a few kB of
    JSON, in their own order (the pages show them in it)."""
    return FileKind(
        ("facts", lang),
        lambda facts: {"facts": json_array(facts)},
        lambda arrays, label: json_of(arrays["facts"]),
    )


def keep_body(site: Site, family, key, job, args) -> StoredBody:
    """``job(site, *args)`` written to the file of ``key`` (DiskBodies.keep)."""
    return site.bodies.keep(family, key, lambda: job(site, *args))


def company_points(site: Site, names: list[str]) -> tuple[Points, gpd.GeoDataFrame]:
    """(the companies located at a place as columns in Lambert-93, those located
    at commune level only as a frame): the analyses' companies."""
    xy, fields = site.store.read_arrays("companies", names)
    codes, values = fields["precision"]
    commune = np.array([v == COMMUNE_LEVEL for v in values] + [False])[codes]
    placed = {k: (c[~commune], v) for k, (c, v) in fields.items()}
    points = Points.from_wgs84(xy[~commune], placed)
    at_commune = site.store.read("companies", filters={"precision": COMMUNE_LEVEL})
    return points, at_commune


def _company_arrays(pair: tuple[Points, gpd.GeoDataFrame]) -> dict[str, np.ndarray]:
    points, at_commune = pair
    return points.to_arrays() | frame_arrays(at_commune)


def _company_of_arrays(arrays: dict[str, np.ndarray], label: dict):
    return Points.of_arrays(arrays), frame_of(arrays)


# how the analyses' companies (company_points) are kept (Site.kept)
COMPANY_FILES = FileKind(("columns",), _company_arrays, _company_of_arrays)


def _choices(spec: LayerSpec, name: str) -> dict | None:
    """The labelled values of a field of ``spec``, or None without that field."""
    return spec.field(name).choices if name in spec.field_names else None


def require_public(name: str) -> LayerSpec:
    """The spec of a public layer, or NotFound."""
    spec = get_spec(name)
    if not spec.public:
        raise NotFound(f"unknown layer {name!r}")
    return spec
