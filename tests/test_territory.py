"""The territory is data: profiles load or fail with a reason, the study area takes
any of the profile's communes, `mapapp territory make` writes all or nothing, and no
fact of Besançon is left in the code or the templates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from mapapp.cli import main
from mapapp.config import load_settings
from mapapp.errors import ValidationError
from mapapp.site import Site
from mapapp.territory import (
    TerritoryError,
    check_departement,
    fitting_zoom,
    load_territory,
)
from tests.shipped import SHIPPED

ROOT = Path(__file__).resolve().parent.parent
DIJON_CONTOURS = (
    Path(__file__).parent / "samples" / "dijon" / "communes-21-extrait.geojson"
)
DIJON = ["21231", "21166", "21617", "21515"]  # Dijon, Chenôve, Talant, Quetigny


def make(tmp_path: Path, *args: str, out: str = "profile"):
    return CliRunner().invoke(
        main,
        [
            "territory",
            "make",
            "--communes",
            str(DIJON_CONTOURS),
            "--out",
            str(tmp_path / out),
            *args,
        ],
    )


@pytest.fixture
def dijon(tmp_path) -> Path:
    done = make(tmp_path, "--name", "Dijon", "--codes", ",".join(DIJON))
    assert done.exit_code == 0, done.output
    return tmp_path / "profile"


# --- the shipped profile ----------------------------------------------------------


def test_the_shipped_profile_is_grand_besancon():
    assert SHIPPED.name["fr"] == "Grand Besançon Métropole"
    assert len(SHIPPED.communes) == 67 and SHIPPED.departements == ("25",)
    assert SHIPPED.view.center == (47.2378, 6.0241) and SHIPPED.view.zoom == 13
    assert SHIPPED.main_commune.name == "Besançon"


def test_settings_default_to_the_shipped_profile(tmp_path):
    settings = load_settings({}, instance_dir=tmp_path)
    assert settings.territory is SHIPPED
    assert settings.departement == "25"
    assert settings.seed_dir == SHIPPED.folder
    assert str(settings.study_area) == "Grand Besançon Métropole"


# --- the study area: the whole profile, some of its communes, a box ------------------


@pytest.mark.parametrize("text", ["", "territory", "metropolis", " Territory "])
def test_the_whole_territory_has_three_names(tmp_path, text):
    area = load_settings({"MAPAPP_STUDY_AREA": text}, instance_dir=tmp_path).study_area
    assert area.geometry is SHIPPED.contour and len(area.communes) == 67


def test_the_study_area_takes_any_commune_of_the_chosen_profile(tmp_path, dijon):
    env = {"MAPAPP_TERRITORY": str(dijon), "MAPAPP_STUDY_AREA": "21166,21617"}
    settings = load_settings(env, instance_dir=tmp_path)
    assert settings.study_area.communes == ("21166", "21617")
    assert settings.departement == "21"
    site = Site(settings)
    try:
        lat, lon = site.view.center  # the map opens on the area, not the profile
        assert site.area.covers(shapely.Point(lon, lat))
    finally:
        site.close()


def test_a_commune_of_another_territory_is_refused_with_the_way_out(tmp_path):
    with pytest.raises(ValueError, match=r"21231.*67 communes.*MAPAPP_TERRITORY"):
        load_settings({"MAPAPP_STUDY_AREA": "21231"}, instance_dir=tmp_path)


def test_a_box_opens_the_map_on_the_box(tmp_path, dijon):
    env = {"MAPAPP_TERRITORY": str(dijon), "MAPAPP_STUDY_AREA": "5.0,47.3,5.1,47.35"}
    site = Site(load_settings(env, instance_dir=tmp_path))
    try:
        lat, lon = site.view.center
        assert 47.3 < lat < 47.35 and 5.0 < lon < 5.1
        assert "21231" in site.area.communes  # Dijon reaches into the box
    finally:
        site.close()


# --- départements ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["21", "2A", "2b", "01", "95", "971", "976"])
def test_departement_codes(code):
    assert check_departement(code, "X") == code.upper()


@pytest.mark.parametrize("code", ["../x", "20", "00", "96", "977", "250", "2C", "25/"])
def test_a_bad_departement_setting_names_the_setting(tmp_path, code):
    with pytest.raises(ValueError, match="MAPAPP_DEPARTEMENT") as caught:
        load_settings({"MAPAPP_DEPARTEMENT": code}, instance_dir=tmp_path)
    assert "Traceback" not in str(caught.value) and str(tmp_path) not in str(
        caught.value
    )


def test_the_cli_says_which_setting_is_wrong(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPAPP_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MAPAPP_DEPARTEMENT", "../../etc")
    result = CliRunner().invoke(main, ["fetch", "sirene"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "MAPAPP_DEPARTEMENT: '../../etc' is not a département code" in result.output


def test_a_bad_departement_in_a_profile_names_the_file(tmp_path, dijon):
    toml = dijon / "territory.toml"
    toml.write_text(toml.read_text().replace('["21"]', '["../x"]'), encoding="utf-8")
    with pytest.raises(TerritoryError, match=r"territory.toml: departements"):
        load_territory(dijon)


# --- reading a profile ------------------------------------------------------------------


def test_a_profile_without_view_gets_one_fitting_its_communes(dijon):
    territory = load_territory(dijon)
    lat, lon = territory.view.center
    assert territory.contour.contains(shapely.Point(lon, lat))
    assert territory.view.zoom == fitting_zoom(territory.contour.bounds)
    assert 10 <= territory.view.zoom <= 13


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda t: t.replace("name = {", "nom = {", 1), "name is missing"),
        (lambda t: t.replace('"communes.geojson"', '"../x.geojson"'), "inside"),
        (lambda t: t.replace('"21231"', '"21999"'), "no contour for 21999"),
        (lambda t: t + "\n[view]\ncenter = [5.04, 47.32]\n", "is it \\[latitude"),
        (lambda t: t + "\n[view]\ncenter = [47.32, 5.04]\nzoom = 3\n", "zoom"),
        (
            lambda t: t.replace(
                "[organisation]", "[organisation]\nurl = 'javascript:x'"
            ),
            "http",
        ),
        (lambda t: 'epci = "24210041"\n' + t, "epci must be a SIREN"),
        (lambda t: t.replace("[communes]", "[communes"), "not a readable TOML"),
    ],
)
def test_a_bad_profile_fails_with_its_reason(dijon, change, message):
    toml = dijon / "territory.toml"
    toml.write_text(change(toml.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(TerritoryError, match=message):
        load_territory(dijon)


def test_a_folder_without_profile_says_how_to_make_one(tmp_path):
    with pytest.raises(TerritoryError, match="no territory.toml.*territory make"):
        load_settings({"MAPAPP_TERRITORY": str(tmp_path)}, instance_dir=tmp_path)


def test_quarters_of_the_profile_are_found_by_the_place_search(tmp_path, dijon):
    quarter = {
        "type": "Feature",
        "properties": {"code": "Q1", "nom": "Grésilles"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[5.05, 47.33], [5.06, 47.33], [5.06, 47.34], [5.05, 47.33]]
            ],
        },
    }
    path = dijon / "quartiers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [quarter]}))
    toml = dijon / "territory.toml"
    toml.write_text('quarters = "quartiers.geojson"\n' + toml.read_text(), "utf-8")
    env = {"MAPAPP_TERRITORY": str(dijon)}
    site = Site(load_settings(env, instance_dir=tmp_path))
    try:
        site.init_store()
        hits = site.places("gresilles")
        assert hits and hits[0]["kind"] == "quarter" and hits[0]["name"] == "Grésilles"
        assert site.places("chenove")[0]["kind"] == "commune"
    finally:
        site.close()


def test_a_new_territory_starts_an_empty_map(tmp_path, dijon):
    env = {"MAPAPP_TERRITORY": str(dijon), "MAPAPP_TILES": "none"}
    site = Site(load_settings(env, instance_dir=tmp_path))
    try:
        assert site.init_store() == 1
        assert all(site.store.count(name) == 0 for name in site.store.layer_names())
    finally:
        site.close()


def test_seed_files_in_the_profile_are_its_data(tmp_path, dijon):
    shutil.copyfile(SHIPPED.folder / "perimeters.geojson", dijon / "perimeters.geojson")
    env = {"MAPAPP_TERRITORY": str(dijon)}
    site = Site(load_settings(env, instance_dir=tmp_path))
    try:
        with pytest.raises(ValidationError, match="outside the study area"):
            site.init_store()  # Besançon's perimeters are not in Dijon
    finally:
        site.close()


# --- mapapp territory make ---------------------------------------------------------------


def test_make_names_the_unknown_codes_and_writes_nothing(tmp_path):
    done = make(tmp_path, "--name", "X", "--codes", "21231,21999,25056")
    assert done.exit_code == 1
    assert "no contour for 2 of the 3 communes: 21999, 25056" in done.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (("--name", "X", "--codes", "2123"), "five characters"),
        (("--name", "X"), "--codes or --epci"),
        (
            ("--name", "X", "--codes", "21231", "--epci", "242100410"),
            "--codes or --epci",
        ),
        (("--codes", "21231"), "needs a name"),
        (("--name", "X", "--epci", "24210041"), "nine digits"),
    ],
)
def test_make_refuses_bad_options(tmp_path, args, message):
    done = make(tmp_path, *args)
    assert done.exit_code == 1 and message in done.output
    assert not (tmp_path / "profile").exists()


def test_make_never_overwrites_a_folder(tmp_path, dijon):
    before = (dijon / "territory.toml").read_text()
    done = make(tmp_path, "--name", "Y", "--codes", "21231")
    assert done.exit_code == 1 and "not an empty folder" in done.output
    assert (dijon / "territory.toml").read_text() == before


def test_make_refuses_a_file_without_commune_codes(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": 1},
                        "geometry": {"type": "Point", "coordinates": [5, 47]},
                    }
                ],
            }
        )
    )
    done = CliRunner().invoke(
        main,
        [
            "territory",
            "make",
            "--name",
            "X",
            "--codes",
            "21231",
            "--communes",
            str(path),
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert done.exit_code == 1 and "expected a commune code" in done.output
    assert not (tmp_path / "p").exists()


def test_make_reads_lambert93_shapefile_layouts(tmp_path):
    """Admin Express COMMUNE columns (INSEE_COM, NOM) in Lambert-93, zipped."""
    import geopandas as gpd

    frame = gpd.read_file(DIJON_CONTOURS).rename(
        columns={"code": "INSEE_COM", "nom": "NOM"}
    )
    frame = frame.to_crs(2154)
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "COMMUNE.shp")
    archive = shutil.make_archive(str(tmp_path / "COMMUNE"), "zip", folder)
    done = CliRunner().invoke(
        main,
        [
            "territory",
            "make",
            "--name",
            "Dijon",
            "--codes",
            ",".join(DIJON),
            "--communes",
            archive,
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert done.exit_code == 0, done.output
    made = load_territory(tmp_path / "p")
    assert set(made.codes) == set(DIJON) and made.communes["21231"].name == "Dijon"
    west, south, east, north = made.contour.bounds
    assert 4.9 < west < east < 5.2 and 47.2 < south < north < 47.4  # WGS84 again


# --- no territory fact in the code --------------------------------------------------------

FACTS = re.compile(
    r"besan[cç]on|doubs|25056|242500361|silicon comt"
    r"|47[.,]2[34]\d\d|\b6[.,]02\d\d",
    re.IGNORECASE,
)
TEXT = {".py", ".html", ".js", ".css", ".toml", ".txt", ".json", ".po", ".cfg", ".md"}


def test_no_fact_of_besancon_is_left_in_the_code_or_the_templates():
    """The shipped profile (geodata/) holds them; mapapp/ and templates/ (the French
    catalogue included: its messages take the territory as a parameter) do not."""
    found = []
    for folder in ("mapapp", "templates"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in TEXT or "_geodata" in path.parts:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FACTS.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:80]}")
    assert found == []


def test_the_facts_are_in_the_shipped_profile():
    """The grep above would find them: they are where a new territory puts its own."""
    profile = (SHIPPED.folder / "territory.toml").read_text(encoding="utf-8")
    assert FACTS.search(profile) and "242500361" in profile


def test_make_asks_for_the_epci_file_when_none_was_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    done = make(tmp_path, "--epci", "242100410")
    assert done.exit_code == 1
    assert "mapapp fetch communes_epci" in done.output and "--epci-file" in done.output
    assert not (tmp_path / "profile").exists()


def test_update_says_which_departements_it_leaves_out(tmp_path, dijon):
    from mapapp.refresh.update import coverage_notes

    toml = dijon / "territory.toml"
    toml.write_text(toml.read_text().replace('["21"]', '["21", "71"]'), "utf-8")
    settings = load_settings({"MAPAPP_TERRITORY": str(dijon)}, instance_dir=tmp_path)
    assert coverage_notes(settings) == [
        "note: the territory also spans département(s) 71; these are the files of 21 "
        "(MAPAPP_DEPARTEMENT chooses another)"
    ]
    chosen = {"MAPAPP_TERRITORY": str(dijon), "MAPAPP_DEPARTEMENT": "71"}
    settings = load_settings(chosen, instance_dir=tmp_path)
    assert "files of 71" in coverage_notes(settings)[0]
    assert coverage_notes(load_settings({}, instance_dir=tmp_path)) == []
