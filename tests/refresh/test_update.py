"""`mapapp fetch` and `mapapp update` against a local server in the publishers'
layouts: every source imported, nothing rewritten when nothing changed, 404,
truncated and resumed downloads, a changed file, one source failing."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from pathlib import Path

import pytest

from mapapp import limits
from mapapp.cli import main
from mapapp.config import load_settings
from mapapp.refresh import catalogue, manifest
from mapapp.refresh.update import fetch, fetch_one, update
from mapapp.site import Site
from tests.refresh import official
from tests.refresh.mirror import Mirror


@pytest.fixture
def mirror():
    server = Mirror()
    yield server
    server.close()


@pytest.fixture
def refresh_site(tmp_path, seed_store, mirror):
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(seed_store, instance / "mapapp.gpkg")
    settings = load_settings(
        environ={},
        overrides={
            "INSTANCE_PATH": str(instance),
            "TILES": "none",
            "SOURCE_URLS": f"*={mirror.url}",
        },
    )
    site = Site(settings)
    yield site
    site.close()


def test_update_imports_every_source_then_writes_nothing(
    refresh_site, mirror, tmp_path
):
    official.publish(mirror, tmp_path)
    first = update(refresh_site)
    text = "\n".join(first.lines())
    assert first.ok, text
    assert "8 of 8 sources ok" in text
    companies = refresh_site.store.read("companies").set_index("id")
    # the three digital establishments of the metropolis, from géo-SIRENE
    assert {"90000000100011", "90000000200019", "90000000300017"} <= set(
        companies.index
    )
    assert "90000000500012" not in companies.index  # Montbéliard: not a member
    assert companies.loc["90000000200019", "precision"] == "commune"
    assert companies.loc["90000000100011", "source_date"] == "2026-10"  # edition
    schools = refresh_site.store.read("schools").set_index("id")
    assert {"0250011B", "0251215K"} <= set(schools.index)  # Annuaire + ONISEP merged
    fibre = refresh_site.store.read("fibre").set_index("zone_code")
    assert fibre.loc["250560101", "premises"] == 20
    assert fibre.loc["250560101", "ftth_premises"] == 12
    assert "as in the territory profile" in text  # INSEE's EPCI composition checked
    found = refresh_site.store.search_addresses("12 rue de la republique")
    assert found and found[0]["code_insee"] == "25056"  # the BAN feeds the search
    entries = manifest.read(refresh_site.settings.download_dir)
    assert entries["sirene"]["sha256"] and entries["sirene"]["size"] > 0
    assert entries["sirene"]["url"].endswith("/geo_siret_25.csv.gz")
    version = refresh_site.data_version()
    again = update(refresh_site)
    assert again.ok and refresh_site.data_version() == version
    assert f"data version {version}: unchanged" in "\n".join(again.lines())
    assert all("If-None-Match" in h for _p, h in mirror.requests[-8:])


def test_a_failing_source_is_reported_while_the_others_import(
    refresh_site, mirror, tmp_path
):
    paths = official.publish(mirror, tmp_path)
    del mirror.files[paths["onisep"]]
    report = update(refresh_site)
    text = "\n".join(report.lines())
    assert not report.ok
    assert "onisep: FAILED" in text and "HTTP 404" in text
    assert "7 of 8 sources ok; failed: onisep" in text
    assert "0250011B" in set(refresh_site.store.read("schools")["id"])


def test_a_truncated_download_is_resumed(refresh_site, mirror, tmp_path):
    paths = official.publish(mirror, tmp_path)
    body = mirror.files[paths["ban"]]
    mirror.cut[paths["ban"]] = len(body) // 2
    first = fetch(refresh_site.settings, ["ban"])[0]
    assert not first.ok and "truncated" in first.error
    folder = refresh_site.settings.download_dir
    assert (folder / "adresses-25.csv.gz.part").stat().st_size == len(body) // 2
    assert not (folder / "adresses-25.csv.gz").exists()
    second = fetch(refresh_site.settings, ["ban"])[0]
    assert second.ok and second.downloaded.resumed_from == len(body) // 2
    assert (folder / "adresses-25.csv.gz").read_bytes() == body
    assert mirror.requests[-1][1]["Range"] == f"bytes={len(body) // 2}-"


def test_a_changed_file_is_downloaded_and_imported_again(
    refresh_site, mirror, tmp_path
):
    paths = official.publish(mirror, tmp_path)
    update(refresh_site, ["sirene"])
    before = manifest.read(refresh_site.settings.download_dir)["sirene"]["sha256"]
    version = refresh_site.data_version()
    mirror.files[paths["sirene"]] = official.geo_sirene(extra_name=" SAS")
    report = update(refresh_site, ["sirene"])
    after = manifest.read(refresh_site.settings.download_dir)["sirene"]["sha256"]
    assert report.ok and after != before
    assert refresh_site.data_version() > version
    names = set(refresh_site.store.read("companies")["name"])
    assert "ENTREPRISE A SAS" in names


def test_a_file_over_the_size_cap_is_refused(refresh_site, mirror, tmp_path):
    official.publish(mirror, tmp_path)
    ban = next(
        s for s in catalogue.sources(base_urls=f"*={mirror.url}") if s.id == "ban"
    )
    capped = dataclasses.replace(ban, max_bytes=100)
    result = fetch_one(capped, refresh_site.settings.download_dir)
    assert not result.ok and "more than the 100 bytes" in result.error
    assert not (refresh_site.settings.download_dir / ban.file).exists()


def test_unknown_source_and_bad_base_url(refresh_site):
    from mapapp.errors import BadRequest

    with pytest.raises(BadRequest, match="unknown source"):
        fetch(refresh_site.settings, ["cadastre"])
    settings = load_settings(environ={}, overrides={"SOURCE_URLS": "sirene=ftp://x"})
    with pytest.raises(BadRequest, match="not an http"):
        fetch(settings)


def test_cli_fetch_and_update(runner, mirror, tmp_path, monkeypatch):
    official.publish(mirror, tmp_path)
    monkeypatch.setenv("MAPAPP_SOURCE_URLS", f"*={mirror.url}")
    fetched = runner.invoke(main, ["fetch", "ban", "iris"])
    assert fetched.exit_code == 0, fetched.output
    assert "ban: downloaded" in fetched.output and "2 of 2 sources ok" in fetched.output
    updated = runner.invoke(main, ["update"])
    assert updated.exit_code == 0, updated.output
    assert "8 of 8 sources ok" in updated.output
    mirror.files.clear()
    failed = runner.invoke(main, ["update", "sirene"])
    assert failed.exit_code == 1 and "HTTP 404" in failed.output


def _ban(mirror):
    return next(
        s for s in catalogue.sources(base_urls=f"*={mirror.url}") if s.id == "ban"
    )


@pytest.mark.parametrize(
    "target",
    [
        "ftp://127.0.0.1/adresses-25.csv.gz",
        "file:///etc/passwd",
        # another host (an internal service): the same machine on another name
        "http://localhost:{port}/elsewhere.csv.gz",
        "http://127.0.0.1:9/adresses-25.csv.gz",
    ],
)
def test_a_redirect_leaves_only_to_the_sources_host(
    refresh_site, mirror, tmp_path, target
):
    official.publish(mirror, tmp_path)
    ban = _ban(mirror)
    path = ban.url.removeprefix(mirror.url)
    port = mirror.server.server_address[1]
    mirror.files["/elsewhere.csv.gz"] = b"secret"
    mirror.redirects[path] = target.format(port=port)
    result = fetch_one(ban, refresh_site.settings.download_dir)
    assert not result.ok and "redirected to" in result.error, result.error
    assert "redirect_hosts" in result.error
    assert not (refresh_site.settings.download_dir / ban.file).exists()
    assert [p for p, _ in mirror.requests] == [path]  # nothing else was asked


def test_a_redirect_to_the_same_host_or_a_listed_one_is_followed(
    refresh_site, mirror, tmp_path
):
    official.publish(mirror, tmp_path)
    ban = _ban(mirror)
    path = ban.url.removeprefix(mirror.url)
    body = mirror.files[path]
    mirror.files["/moved/adresses.csv.gz"] = body
    mirror.redirects[path] = f"{mirror.url}/moved/adresses.csv.gz"
    folder = refresh_site.settings.download_dir
    folder.mkdir(parents=True, exist_ok=True)
    assert fetch_one(ban, folder).ok
    assert (folder / ban.file).read_bytes() == body
    (folder / ban.file).unlink()
    port = mirror.server.server_address[1]
    mirror.redirects[path] = f"http://localhost:{port}/moved/adresses.csv.gz"
    assert not fetch_one(ban, folder).ok
    listed = dataclasses.replace(ban, redirect_hosts=("localhost",))
    assert fetch_one(listed, folder).ok, "a host the catalogue lists"
    assert (folder / ban.file).read_bytes() == body


# --- issue 20: provenance, a rejected file, a file of another layout ---------------

SAMPLES = Path(__file__).parent.parent / "samples"
MESR_EXPORT = (
    SAMPLES / "mesr" / "fr-esr-principaux-etablissements-enseignement-superieur"
    "-2024-sample.csv"
)
ONISEP_REAL = (
    SAMPLES / "onisep" / "ideo-structures-enseignement-superieur-2022-sample.csv"
)


def test_update_records_publisher_page_licence_and_edition(
    refresh_site, mirror, tmp_path
):
    """Item 8: zones, schools and companies imported by `mapapp update` carry the
    catalogue's publisher, page and licence, dated by the file (Last-Modified)."""
    official.publish(mirror, tmp_path)
    assert update(refresh_site).ok
    by_id = {s.id: s for s in catalogue.sources()}
    zones = refresh_site.store.read("zones").set_index("zone_code")
    iris = zones.loc["250560101"]
    assert iris["source"] == (
        "IGN / INSEE, Contours IRIS (Géoplateforme, service WFS), communes du "
        "département (2026-10)"
    )
    assert (
        iris["source_url"]
        == by_id["iris"].page
        == "https://geoservices.ign.fr/contoursiris"
    )
    assert iris["licence"] == "lo-2.0" and iris["source_date"] == "2026-10"
    schools = refresh_site.store.read("schools").set_index("id")
    onisep = schools.loc["0251215K"]
    assert onisep["source"].startswith("ONISEP, Idéo-Structures")
    assert onisep["source_url"] == by_id["onisep"].page
    assert onisep["licence"] == "odbl-1.0"  # ONISEP's Idéo datasets: ODbL
    lycee = schools.loc["0250011B"]
    assert lycee["source"].startswith("Ministère de l'Éducation nationale, ")
    assert lycee["licence"] == "lo-2.0" and lycee["source_date"] == "2026-10"
    company = refresh_site.store.read("companies").set_index("id").loc["90000000100011"]
    assert company["source"].startswith("Etalab / INSEE, Base Sirene")
    fibre = refresh_site.store.read("fibre").set_index("zone_code").loc["250560101"]
    assert fibre["source"].startswith("ARCEP, Ma connexion internet")


def test_a_mesr_export_at_the_onisep_address_is_refused_and_the_good_file_kept(
    refresh_site, mirror, tmp_path
):
    """Items 9 and 10: the real ONISEP file imported, then the real MESR export
    served at the same address: refused (another layout), the ONISEP file kept in
    place, the new one beside it, the report saying so; nothing written."""
    paths = official.publish(mirror, tmp_path)
    good = ONISEP_REAL.read_bytes()
    mirror.files[paths["onisep"]] = good
    assert update(refresh_site, ["onisep"]).ok
    folder = refresh_site.settings.download_dir
    target = folder / "ideo-structures-enseignement-superieur.csv"
    entry = manifest.read(folder)["onisep"]
    version = refresh_site.data_version()
    mirror.files[paths["onisep"]] = MESR_EXPORT.read_bytes()
    report = update(refresh_site, ["onisep"])
    text = "\n".join(report.lines())
    assert not report.ok
    assert "onisep: FAILED: new file rejected, previous kept" in text
    assert "announces the ONISEP Idéo-Structures layout" in text
    assert "this file has the MESR layout" in text
    assert target.read_bytes() == good
    rejected = folder / "ideo-structures-enseignement-superieur.csv.rejected"
    assert rejected.read_bytes() == MESR_EXPORT.read_bytes()
    assert not (folder / "ideo-structures-enseignement-superieur.csv.previous").exists()
    after = manifest.read(folder)["onisep"]
    assert after["sha256"] == entry["sha256"] and after["etag"] == entry["etag"]
    assert after["rejected"]["file"] == rejected.name
    assert refresh_site.data_version() == version
    schools = refresh_site.store.read("schools")
    assert not schools["source"].str.startswith("Ministère de l'Enseignement").any()
    # the publisher puts the right file back: it is imported, nothing set aside
    mirror.files[paths["onisep"]] = good.replace(b"Besan", b"Besan", 1) + b"\n"
    again = update(refresh_site, ["onisep"])
    assert again.ok, "\n".join(again.lines())
    assert not (folder / "ideo-structures-enseignement-superieur.csv.previous").exists()


def test_a_new_file_with_no_usable_row_never_replaces_the_good_one(
    refresh_site, mirror, tmp_path
):
    """Item 9, whatever the reason: a géo-SIRENE file whose rows are all outside
    the territory is rejected, the previous file put back."""
    paths = official.publish(mirror, tmp_path)
    assert update(refresh_site, ["sirene"]).ok
    folder = refresh_site.settings.download_dir
    good = (folder / "geo_siret_25.csv.gz").read_bytes()
    names = set(refresh_site.store.read("companies")["name"])
    mirror.files[paths["sirene"]] = official.geo_sirene_elsewhere()
    report = update(refresh_site, ["sirene"])
    text = "\n".join(report.lines())
    assert "sirene: FAILED: new file rejected, previous kept" in text
    assert "no row could be imported" in text
    assert (folder / "geo_siret_25.csv.gz").read_bytes() == good
    assert (folder / "geo_siret_25.csv.gz.rejected").is_file()
    assert set(refresh_site.store.read("companies")["name"]) == names


def test_every_catalogue_layout_is_one_its_importer_recognises():
    from mapapp.importers import IMPORTERS

    for source in catalogue.sources():
        if source.kind in IMPORTERS:
            assert source.layout in IMPORTERS[source.kind].variants, source.id


def test_a_file_fetched_then_rejected_by_update_leaves_the_good_one(
    refresh_site, mirror, tmp_path
):
    """`mapapp fetch` brings a new file (the previous one moved aside), a later
    `mapapp update` finds it unchanged on the server but rejects it: the previous
    file is put back all the same."""
    paths = official.publish(mirror, tmp_path)
    mirror.files[paths["onisep"]] = ONISEP_REAL.read_bytes()
    assert update(refresh_site, ["onisep"]).ok
    folder = refresh_site.settings.download_dir
    target = folder / "ideo-structures-enseignement-superieur.csv"
    mirror.files[paths["onisep"]] = MESR_EXPORT.read_bytes()
    fetched = fetch(refresh_site.settings, ["onisep"])[0]
    assert fetched.ok and fetched.downloaded.changed
    assert (
        folder / (target.name + ".previous")
    ).read_bytes() == ONISEP_REAL.read_bytes()
    report = update(refresh_site, ["onisep"])
    assert "new file rejected, previous kept" in "\n".join(report.lines())
    assert target.read_bytes() == ONISEP_REAL.read_bytes()
    assert not (folder / (target.name + ".previous")).exists()


def test_a_downloaded_gzip_bomb_is_refused_and_the_good_file_kept(
    refresh_site, mirror, tmp_path, monkeypatch
):
    """A small .gz that expands past its ratio never takes the good file's place
    (a 10.7 MB file holding 4.4 GB used to be imported for minutes)."""
    monkeypatch.setattr(limits, "UNPACK_FLOOR", 1024**2)
    paths = official.publish(mirror, tmp_path)
    assert update(refresh_site, ["ban"]).ok
    target = refresh_site.settings.download_dir / "adresses-25.csv.gz"
    good = target.read_bytes()
    row = b"25056_0001_00001;25056_0001;;1;;Rue Test;;25000;25056;Besancon;;;;;6.02;47.24\n"
    mirror.files[paths["ban"]] = gzip.compress(row * 400_000, 9)  # 30 MB in 60 kB
    result = fetch(refresh_site.settings, ["ban"])[0]
    assert not result.ok and "MAX_UNPACK_RATIO" in result.error
    assert target.read_bytes() == good
    assert not target.with_name(target.name + ".part").exists()
