"""GeoPackage specifics: a real GeoPackage that GDAL (QGIS's reader) opens."""

from __future__ import annotations

import sqlite3

import pytest

from mapapp.store.geopackage import GeoPackageStore, decode_geometries, encode_geometry
from tests.shipped import GRAND_BESANCON_BBOX as AREA


@pytest.fixture
def gpkg(tmp_path, seed_layers):
    store = GeoPackageStore(tmp_path / "s.gpkg", AREA)
    store.create(seed_layers)
    yield store
    store.close()


def test_geopackage_is_read_by_gdal(gpkg, seed_layers):
    from tests.gdal_client import gdal

    gpkg.close()
    found = gdal(
        """
        frame = pyogrio.read_dataframe(args[0], layer="schools")
        result = {"layers": dict(pyogrio.list_layers(args[0])),
                  "epsg": frame.crs.to_epsg(), "ids": list(frame["id"])}
        """,
        str(gpkg.path),
    )
    assert found["layers"]["companies"] == "Point"
    assert found["layers"]["fibre"] == "MultiPolygon"
    assert found["epsg"] == 4326
    assert sorted(found["ids"]) == sorted(seed_layers["schools"]["id"])


def test_geopackage_header_and_application_id(gpkg):
    conn = sqlite3.connect(gpkg.path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert conn.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0] == 7
    conn.close()


def test_geopackage_edit_seen_by_gdal(gpkg):
    from tests.gdal_client import gdal

    gpkg.update("coworking", "le-numerique", {"desks": 150})
    # GDAL in a process of its own, as QGIS would be: in this one, GDAL's SQLite
    # closing the file would drop the store's locks and its WAL
    desks = gdal(
        "result = int(pyogrio.read_dataframe(args[0], layer='coworking', "
        "where=\"id = 'le-numerique'\")['desks'].iloc[0])",
        str(gpkg.path),
    )
    assert desks == 150


def test_geometry_blob_round_trip(seed_layers):
    geoms = list(seed_layers["fibre"].geometry[:3]) + [None]
    back = decode_geometries([encode_geometry(g) for g in geoms])
    assert back[3] is None
    assert all(a.equals(b) for a, b in zip(geoms[:3], back[:3], strict=True))


def test_failed_create_keeps_the_existing_store(gpkg, seed_layers, monkeypatch):
    version = gpkg.data_version()

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(GeoPackageStore, "_insert_frame", boom)
    with pytest.raises(RuntimeError):
        gpkg.create(seed_layers)
    assert gpkg.data_version() == version
    assert gpkg.count("companies") == len(seed_layers["companies"])
    assert list(gpkg.path.parent.glob(".mapapp-*")) == []


def _extent(path, layer):
    conn = sqlite3.connect(path)
    row = conn.execute(
        "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
        (layer,),
    ).fetchone()
    conn.close()
    return row


def test_geopackage_contents_carry_real_extents(gpkg):
    minx, miny, maxx, maxy = _extent(gpkg.path, "companies")
    frame = gpkg.read("companies")
    assert (minx, miny, maxx, maxy) == pytest.approx(tuple(frame.total_bounds))
    assert AREA[0] <= minx < maxx <= AREA[2] and AREA[1] <= miny < maxy <= AREA[3]
    assert _extent(gpkg.path, "zones") == (None, None, None, None)  # empty layer


def test_geopackage_extents_follow_edits_and_imports(gpkg, seed_layers):
    from shapely.geometry import Point

    before = _extent(gpkg.path, "coworking")
    east = before[2] + 0.01
    gpkg.update("coworking", "le-numerique", geometry=Point(east, 47.25))
    assert _extent(gpkg.path, "coworking")[2] == pytest.approx(east)
    schools = seed_layers["schools"].iloc[:2]
    gpkg.replace_layers({"schools": schools})
    assert _extent(gpkg.path, "schools") == pytest.approx(tuple(schools.total_bounds))


@pytest.mark.desktop
def test_geopackage_store_passes_gdal_validator(gpkg):
    from tests.desktop_gis import validate_gpkg

    gpkg.update("coworking", "le-numerique", {"desks": 150})
    gpkg.close()
    assert validate_gpkg(gpkg.path) == ""


def test_geopackage_types_seen_by_gdal(gpkg):
    from tests.gdal_client import gdal

    gpkg.close()
    info = gdal(  # in a process of its own, as a desktop GIS would be
        """
        result = {}
        for layer in args[1:]:
            i = pyogrio.read_info(args[0], layer=layer)
            result[layer] = {
                "types": dict(zip(i["fields"], i["ogr_types"])),
                "subtypes": dict(zip(i["fields"], i["ogr_subtypes"])),
            }
        """,
        str(gpkg.path),
        "coworking",
        "companies",
    )
    types, subtypes = info["coworking"]["types"], info["coworking"]["subtypes"]
    assert types["desks"] in ("OFTInteger", "OFTInteger64")
    assert (types["published"], subtypes["published"]) == ("OFTInteger", "OFSTBoolean")
    types = info["companies"]["types"]
    assert types["siren"] == types["headcount_class"] == "OFTString"


def test_a_store_of_an_earlier_release_is_brought_up_to_date(gpkg):
    """Fields added since (headcount_source…) become columns; the former precision
    ``address`` reads ``exact``; the data version does not move."""
    path, version = gpkg.path, gpkg.data_version()
    with gpkg._write() as conn:  # as the earlier release left it
        conn.execute("ALTER TABLE companies DROP COLUMN headcount_source")
        conn.execute("UPDATE companies SET precision = 'address' WHERE id = 'maty'")
    gpkg.close()
    store = GeoPackageStore(path, AREA)
    companies = store.read("companies").set_index("id")
    assert companies.loc["maty", "precision"] == "exact"
    assert "headcount_source" in companies.columns
    assert companies["headcount_source"].isna().all()
    assert store.data_version() == version
    store.close()
