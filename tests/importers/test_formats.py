"""Imported files: formats recognised from their content, GDAL restricted, files that
would make GDAL read other files or URLs refused, and no server path in a message."""

from __future__ import annotations

import gzip
import http.server
import json
import socketserver
import sqlite3
import threading
import time
import zipfile

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from mapapp import gdal_, limits
from mapapp.importers import run_import
from mapapp.importers.formats import read_vector, recognise
from mapapp.importers.reading import ImportFileError, RefusedFile, check_unpacked
from mapapp.importers.wizard import WizardProblem, inspect_file


@pytest.fixture(scope="module")
def outside():
    """A web server standing for 'the internet': it records every request."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            hits.append(self.path)
            body = json.dumps({"type": "FeatureCollection", "features": []}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def coworking_frame(n=2, z=False):
    coords = [
        (6.02 + i / 100, 47.24, 310.0) if z else (6.02 + i / 100, 47.24)
        for i in range(n)
    ]
    return gpd.GeoDataFrame(
        {
            "id": [f"site-{i}" for i in range(n)],
            "name": [f"Site {i}" for i in range(n)],
            "kind": ["coworking"] * n,
            "status": ["planned"] * n,
        },
        geometry=[Point(*c) for c in coords],
        crs=4326,
    )


def vrt(source: str, sql: str | None = None) -> str:
    inner = f"<SrcSQL>{sql}</SrcSQL>" if sql else "<SrcLayer>x</SrcLayer>"
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="coworking">'
        f"<SrcDataSource>{source}</SrcDataSource>{inner}"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def test_gdal_is_restricted_to_three_drivers():
    assert gdal_.lock_down()
    assert gdal_.drivers() == sorted(gdal_.ALLOWED_DRIVERS)


@pytest.mark.parametrize(
    "name,content",
    [
        ("store.vrt", "users"),
        ("passwd.vrt", "passwd"),
        ("web.vrt", "web"),
        ("innocent.geojson", "users"),  # the extension says nothing
    ],
)
def test_vrt_uploads_are_refused_before_gdal_sees_them(
    store, tmp_path, outside, name, content
):
    url, hits = outside
    hits.clear()
    sources = {
        "users": vrt(f"{store.path}", "SELECT name, password_hash FROM mapapp_users"),
        "passwd": vrt("CSV:/etc/passwd"),
        "web": vrt(f"/vsicurl/{url}/x.geojson"),
    }
    path = tmp_path / name
    path.write_text(sources[content])
    version = store.data_version()
    with pytest.raises(ImportFileError) as caught:
        run_import(store, "generic", path, layer="coworking")
    assert "XML" in caught.value.message and str(tmp_path) not in caught.value.message
    assert store.data_version() == version and hits == []


def test_gdal_cannot_reach_the_network_even_if_asked(outside, tmp_path):
    url, hits = outside
    hits.clear()
    gdal_.lock_down()
    for source in (f"/vsicurl/{url}/a.geojson", f"{url}/b.geojson"):
        with pytest.raises(Exception):  # noqa: B017 - whatever GDAL says, it is refused
            pyogrio.read_dataframe(source)
    crs_link = tmp_path / "linked.geojson"
    crs_link.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "link", "properties": {"href": f"{url}/crs"}},
                "features": [],
            }
        )
    )
    with pytest.raises(ImportFileError):  # no features: no geometry
        read_vector(crs_link, "test")
    assert hits == []


def test_gdal_never_opens_a_path_that_is_not_its_own_copy(store):
    with pytest.raises(ValueError):
        gdal_.read_frame(store.path)
    with pytest.raises(ValueError):
        gdal_.read_frame(store.private_path)


@pytest.mark.filterwarnings("ignore:The filename extension")
def test_recognised_from_content(tmp_path):
    samples = {
        "a.txt": b'\xef\xbb\xbf  {"type": "FeatureCollection"}',
        "b.json": b"name;longitude;latitude\nx;6;47\n",
    }
    for name, data in samples.items():
        (tmp_path / name).write_bytes(data)
    with zipfile.ZipFile(tmp_path / "c.bin", "w") as z:
        z.writestr("sites.shp", b"")
    with zipfile.ZipFile(tmp_path / "e.zip", "w") as z:
        z.writestr("table.csv", b"a,b\n")
    assert recognise(tmp_path / "a.txt") == "geojson"
    assert recognise(tmp_path / "b.json") == "csv"
    assert recognise(tmp_path / "c.bin") == "shapefile"
    assert recognise(tmp_path / "e.zip") == "csv"
    coworking_frame().to_file(tmp_path / "d.dat", driver="GPKG")
    assert recognise(tmp_path / "d.dat") == "gpkg"


def test_a_plain_sqlite_database_is_refused(store, tmp_path):
    path = tmp_path / "data.gpkg"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ImportFileError, match="not a GeoPackage"):
        run_import(store, "generic", path, layer="coworking")


def test_a_geopackage_imports_with_its_heights_dropped(store, tmp_path):
    path = tmp_path / "sites.gpkg"
    coworking_frame(z=True).to_file(path, driver="GPKG")
    report = run_import(store, "generic", path, layer="coworking", source="Enquête")
    assert report.kept == 2 and any("3-D" in n for n in report.notes)
    saved = store.get("coworking", "site-1")
    assert not saved["geometry"].has_z and saved["properties"]["source"] == "Enquête"
    assert store.check() == []


def test_a_table_without_geometry_is_a_clear_error(store, tmp_path):
    path = tmp_path / "table.gpkg"
    frame = coworking_frame().drop(columns="geometry")
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="t")
    with pytest.raises(ImportFileError, match="no geometry") as caught:
        run_import(store, "generic", path, layer="coworking")
    assert str(tmp_path) not in caught.value.message


def test_a_broken_geopackage_names_the_file_not_the_server_path(store, tmp_path):
    path = tmp_path / "broken.gpkg"
    good = tmp_path / "good.gpkg"
    coworking_frame().to_file(good, driver="GPKG")
    path.write_bytes(good.read_bytes()[:2000])  # header only
    with pytest.raises(ImportFileError) as caught:
        run_import(store, "generic", path, layer="coworking")
    message = caught.value.message
    assert message.startswith("broken.gpkg:") and "/tmp" not in message


def test_a_zipped_shapefile_imports(store, tmp_path):
    shp = tmp_path / "shp"
    shp.mkdir()
    coworking_frame(3).to_file(shp / "sites.shp")
    archive = tmp_path / "sites.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.iterdir():
            # names that try to leave the extraction folder are only names
            z.write(part, f"../../evil/{part.name}")
    report = run_import(store, "generic", archive, layer="coworking")
    assert report.kept == 3
    assert not (tmp_path.parent / "evil").exists()


def test_a_zip_without_a_whole_shapefile_is_refused(store, tmp_path):
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x.shp", b"not really")
    with pytest.raises(ImportFileError, match="one Shapefile"):
        run_import(store, "generic", archive, layer="coworking")


def test_the_store_itself_cannot_be_imported(store):
    with pytest.raises(ImportFileError, match="own store"):
        run_import(store, "generic", store.path, layer="coworking")


def test_a_wide_csv_header_is_refused_before_pandas(store, tmp_path):
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(200_000))
    path.write_text(f"longitude,latitude,{header}\n6,47,{'x,' * 10}\n")
    started = time.perf_counter()
    with pytest.raises(ImportFileError, match="columns|longer"):
        run_import(store, "generic", path, layer="coworking")
    assert time.perf_counter() - started < 2
    path.write_text(
        "longitude,latitude," + ",".join(f"c{i}" for i in range(1500)) + "\n"
    )
    with pytest.raises(ImportFileError, match="1502 columns"):
        run_import(store, "generic", path, layer="coworking")


def test_duplicate_csv_columns_are_refused(store, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("name,longitude,latitude,Name\nA,6.02,47.24,B\n")
    with pytest.raises(ImportFileError, match="appears twice"):
        run_import(store, "generic", path, layer="coworking")


def test_an_unterminated_quote_is_an_import_error(store, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('name,longitude,latitude\n"open,6.02,47.24\nB,6.03,47.24\n')
    with pytest.raises(ImportFileError, match="not a readable CSV") as caught:
        run_import(store, "generic", path, layer="coworking")
    assert caught.value.message.startswith("quote.csv:")
    assert str(tmp_path) not in caught.value.message


def test_cli_import_of_an_unterminated_quote_has_no_traceback(runner, tmp_path):
    from mapapp.cli import main

    path = tmp_path / "quote.csv"
    path.write_text('name,longitude,latitude\n"open,6.02,47.24\n')
    result = runner.invoke(
        main, ["import", "generic", str(path), "--layer", "coworking"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not a readable CSV" in result.output


def test_only_mapapp_gdal_reaches_gdal():
    """Every GDAL read or write goes through mapapp/gdal_.py (restricted, private
    copies only): no other module imports pyogrio or uses geopandas' file I/O."""
    from pathlib import Path

    import mapapp

    package = Path(mapapp.__file__).parent
    found = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "gdal_.py"
        and any(
            word in path.read_text(encoding="utf-8")
            for word in ("pyogrio", "read_file(", "to_file(", "fiona")
        )
    ]
    assert found == []


def test_a_title_line_above_the_header_is_named(store, tmp_path):
    # the first lines of ARCEP's observatory export "Déploiement par Commune" as a
    # spreadsheet saves it (public copy: NJacq/laravel, storage/app/public/
    # ftthCommunes.csv): two title lines and two empty ones above the header
    path = tmp_path / "ftthCommunes.csv"
    path.write_text(
        "Réseaux en fibre optique jusqu'à l'abonné (FttH),,,,\n"
        "Déploiement par Commune,,,,\n,,,,\n,,,,\n"
        "Code commune,Champ,T3 2017,T4 2017,T1 2018\n"
        "01004,Locaux Raccordables,1460,1793,2248\n",
        encoding="utf-8",
    )
    version = store.data_version()
    with pytest.raises(ImportFileError) as refused:
        run_import(store, "fibre", path)
    assert refused.value.message == (
        "ftthCommunes.csv: line 1 has 4 columns without a name (it begins "
        "\"Réseaux en fibre optique jusqu'à l'abonné (FttH)\"): is it a title above "
        "the header? The header must be line 1"
    )
    assert store.data_version() == version


# --- bounded uploads (issue 21, item 10) ----------------------------------------------


def test_a_geopackage_holding_a_recursive_view_is_refused_at_once(store, tmp_path):
    """A 100 kB GeoPackage whose layer is an endless view used to pin a worker."""
    path = tmp_path / "view.gpkg"
    coworking_frame().to_file(path, driver="GPKG", layer="sites")
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIEW endless AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
        "SELECT x + 1 FROM c) SELECT x AS fid, NULL AS geom FROM c"
    )
    conn.commit()
    conn.close()
    started = time.monotonic()
    with pytest.raises(RefusedFile, match="holds a view"):
        read_vector(path, "sites")
    assert time.monotonic() - started < 5


def test_a_geopackage_with_a_trigger_of_its_own_is_refused(store, tmp_path):
    path = tmp_path / "trigger.gpkg"
    coworking_frame().to_file(path, driver="GPKG", layer="sites")
    assert len(read_vector(path, "sites")) == 2  # GDAL's own triggers are fine
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TRIGGER spy AFTER INSERT ON sites BEGIN DELETE FROM sites; END"
    )
    conn.commit()
    conn.close()
    with pytest.raises(RefusedFile, match=r"trigger \(spy\)"):
        read_vector(path, "sites")


def _wide_geojson(path, n: int) -> None:
    props = {f"p{i}": i for i in range(n)}
    feature = {"type": "Feature", "properties": props, "geometry": None}
    feature["geometry"] = {"type": "Point", "coordinates": [6.02, 47.24]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))


def test_a_geojson_with_20000_properties_is_refused_quickly(tmp_path):
    path = tmp_path / "wide.geojson"
    _wide_geojson(path, 20_000)
    started = time.monotonic()
    with pytest.raises(RefusedFile, match="20000 properties.*MAX_FIELDS"):
        read_vector(path, "sites")
    assert time.monotonic() - started < 5


def test_a_geojson_with_1000_properties_is_previewed_quickly(tmp_path):
    path = tmp_path / "wide.geojson"
    _wide_geojson(path, 1000)
    started = time.monotonic()
    summary = inspect_file(path)
    assert len(summary.columns) == 1000 and summary.preview[0]["p999"] == "999"
    assert time.monotonic() - started < 10


def _gzip_bomb(path, megabytes: int) -> None:
    line = b"siret;nom;x;y\n" + b"12345678901234;nom;6.02;47.24\n" * 30_000
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(line)
        block = b"12345678901234;nom;6.02;47.24\n" * 35_000  # about 1 MB
        for _ in range(megabytes):
            out.write(block)


def test_a_gzip_bomb_upload_is_refused_past_its_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "UNPACK_FLOOR", 1024**2)
    path = tmp_path / "bomb.csv.gz"
    _gzip_bomb(path, 30)  # 30 MB in about 30 kB
    assert path.stat().st_size * limits.MAX_UNPACK_RATIO < 30 * 1024**2
    with pytest.raises(RefusedFile, match="MAX_UNPACK_RATIO"):
        check_unpacked(path)
    with pytest.raises(WizardProblem) as caught:
        inspect_file(path)
    assert "MAX_UNPACK_RATIO" in caught.value.params["detail"]


def test_a_zip_member_stating_too_much_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "UNPACK_FLOOR", 1024**2)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("table.csv", b"a;b\n" + b"1;2\n" * 2_000_000)
    with pytest.raises(RefusedFile, match="MAX_UNPACK_RATIO"):
        check_unpacked(path)
