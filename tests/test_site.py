"""The running site without Flask: snapshots, analyses and caches on the data version."""

from __future__ import annotations

from shapely.geometry import Point

from mapapp.cache import Payload
from mapapp.text import affirmed, fold


def test_snapshot_is_kept_until_the_data_changes(core_site):
    first = core_site.snapshot("coworking")
    assert core_site.snapshot("coworking") is first
    assert "published" not in first.frame.columns
    fid = first.frame["id"].iloc[0]
    core_site.store.update("coworking", fid, {"notes": "changed"})
    second = core_site.snapshot("coworking")
    assert second is not first and second.version == first.version + 1


def test_snapshot_of_a_layer_survives_a_write_to_another(core_site):
    companies = core_site.snapshot("companies")
    fid = core_site.snapshot("coworking").frame["id"].iloc[0]
    core_site.store.update("coworking", fid, {"notes": "changed"})
    assert core_site.snapshot("companies") is companies
    assert core_site.snapshot("coworking").version == core_site.data_version()


def test_snapshot_being_rebuilt_serves_the_previous_one(core_site, monkeypatch):
    import threading
    import time

    import mapapp.site

    first = core_site.snapshot("coworking")
    release = threading.Event()
    real = core_site.store.read_versioned

    def slow(*args, **kwargs):
        release.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(mapapp.site, "FRESH_WAIT", 0.05)
    monkeypatch.setattr(core_site.store, "read_versioned", slow)
    fid = first.frame["id"].iloc[0]
    core_site.store.update("coworking", fid, {"notes": "changed"})
    assert core_site.snapshot("coworking") is first  # not waiting for the build
    release.set()
    for _ in range(100):
        newer = core_site.snapshot("coworking")
        if newer is not first:
            break
        time.sleep(0.05)
    assert newer.version == first.version + 1


def test_snapshot_holds_only_published_features(core_site):
    store = core_site.store
    everything = store.read("coworking")
    unpublished = set(everything.loc[everything["published"] != True, "id"])  # noqa: E712
    assert unpublished, "the seed has unpublished coworking sites"
    assert not unpublished & set(core_site.snapshot("coworking", full=True).frame["id"])


def test_search_folds_accents_across_layers(core_site):
    hits = core_site.search("numerique", core_site.public_layers(), 8)
    names = [snap.frame.iloc[i]["name"] for snap, i in hits]
    assert names and any("num" in n.lower() for n in names)
    # the name, or what the search fields affirm (issue 19: what schools teach,
    # what companies do), holds it
    for snap, i in hits:
        row = snap.frame.iloc[i]
        said = [row["name"]] + [row.get(f) for f in snap.spec.search_fields]
        assert any("numerique" in fold(affirmed(t)) for t in said if t), row["name"]


def test_search_finds_schools_by_what_they_teach(core_site):
    hits = core_site.search("informatique", ["schools"], 20)
    ids = {snap.frame.iloc[i]["id"] for snap, i in hits}
    # the places whose sources say they teach computing (one is named so); not the
    # lycées whose card says no computing section is confirmed, nor the IUT whose
    # computing department the source does not confirm
    assert ids == {"ufr-st", "ctu-informatique", "supmicrotech-ensmm"}


def test_prepared_inputs_follow_filters_and_version(core_site):
    everything = core_site.prepared({})
    software = core_site.prepared({"companies": {"sector": {"software"}}})
    assert core_site.prepared({}) is everything
    assert 0 < len(software.companies) < len(everything.companies)


def test_catchment_and_scenarios(core_site):
    place = Point(5.9905, 47.2505)
    result = core_site.catchment({}, place, 800)
    assert result["companies"]["count"] >= 1
    rows = core_site.scenarios({}, 800, {"jobs": 1.0, "training": 1.0}, 250)
    layers = {r["layer"] for r in rows}
    assert layers == {"coworking", "perimeters"}
    assert all(0 <= r["suitability"] <= 1 for r in rows if r["suitability"] is not None)


def test_key_figures_of_a_perimeter_name_it(core_site):
    perimeter = core_site.store.read("perimeters")["id"].iloc[0]
    figures = core_site.key_figures({}, perimeter)
    assert figures["id"] == perimeter and figures["name"]
    assert figures["establishments"] <= core_site.key_figures({})["establishments"]


def test_page_cache_is_bounded_in_bytes_whatever_visitors_ask(core_site):
    body = b"x" * 100_000
    for i in range(3000):  # 3000 distinct keys, as many distinct URLs would make
        core_site.payload(("page", i), lambda: Payload.of(body, compress=False))
    entries, nbytes = core_site.pages.size
    assert nbytes <= core_site.pages.max_bytes
    assert entries < 3000


def _stored_perimeter(site, xy, name: str) -> str:
    """Add a perimeter around Besançon's centre whose outline is ``xy`` (metres)."""
    import numpy as np
    from shapely.geometry import Polygon

    lon0, lat0, kx = 6.02, 47.24, 111_320.0 * 0.6788
    shape = Polygon(np.column_stack([lon0 + xy[:, 0] / kx, lat0 + xy[:, 1] / 111_320]))
    props = {
        "name": name,
        "status": "candidate",
        "source": "saisie",
        "source_date": "2026",
        "precision": "exact",
        "published": False,
    }
    return site.store.add("perimeters", props, shape, author="test")["id"]


def _staircase(steps: int = 500, step: float = 20.0):
    """A 1,000-vertex outline of 20 m steps (parcels): accepted, still detailed
    once simplified."""
    import numpy as np

    pts = []
    for i in range(steps):
        pts += [(i * step, i * step), ((i + 1) * step, i * step)]
    return np.array(pts + [(steps * step, -2000.0), (0.0, -2000.0)])


def test_perimeter_buffer_is_computed_once_per_outline(core_site, monkeypatch):
    import mapapp.site
    from mapapp.analysis.catchments import to_metric

    calls = []
    real = mapapp.site.catchment_area
    monkeypatch.setattr(
        mapapp.site,
        "catchment_area",
        lambda place, radius: calls.append(place.area) or real(place, radius),
    )
    fid = _stored_perimeter(core_site, _staircase(), "Quartier des parcelles")
    geometry, _props = core_site.feature_geometry("perimeters", fid)
    weights = {"jobs": 1.0}
    rows = core_site.scenarios({}, 800, weights, 250)
    assert fid in {r["id"] for r in rows}
    core_site.scenarios({}, 800, weights, 250)
    core_site.dossier({}, ("perimeters", fid), 800, weights, 250)
    core_site.catchment({}, geometry, 800)
    area = to_metric(geometry).area

    def ours():
        return len([a for a in calls if abs(a - area) < 1])

    assert ours() == 1
    core_site.catchment({}, geometry, 500)  # another radius: another area
    assert ours() == 2


def test_a_jagged_perimeter_stored_before_the_checks_never_stalls(
    core_site, monkeypatch
):
    import time

    import numpy as np

    import mapapp.layers.validation

    # a 2,000-vertex outline zigzagging by 300 m: GEOS buffers it at once in 24 s
    angle = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    radius = 1000 + np.where(np.arange(2000) % 2 == 0, 300.0, -300.0)
    xy = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    with monkeypatch.context() as patch:  # saved before outlines were checked
        patch.setattr(mapapp.layers.validation, "outline_problem", lambda g: None)
        fid = _stored_perimeter(core_site, xy, "Ancien périmètre dentelé")
    start = time.perf_counter()
    rows = core_site.scenarios({}, 800, {"jobs": 1.0}, 250)
    core_site.dossier({}, ("perimeters", fid), 800, {"jobs": 1.0}, 250)
    assert time.perf_counter() - start < 10
    row = next(r for r in rows if r["id"] == fid)
    assert row["companies"] >= 1


def test_warm_up_builds_the_large_point_layers_map_data(core_site, monkeypatch):
    monkeypatch.setitem(core_site.settings.values, "INLINE_MAX_FEATURES", 5)
    core_site.warm_up()

    def no_read(*args, **kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(core_site.store, "read_versioned", no_read)
    snap = core_site.snapshot("companies")  # ready: nothing read
    assert snap._binary is not None and len(snap.frame) > 5


def test_communes_of_the_companies_come_from_their_columns(core_site):
    codes = core_site.store.read("companies", columns=["commune_code"])["commune_code"]
    assert core_site.communes() == sorted(c for c in codes.dropna().unique() if c)
    assert core_site.communes()


def test_a_self_crossing_perimeter_stored_before_the_checks_is_analysed(
    core_site, monkeypatch
):
    import numpy as np

    import mapapp.layers.validation

    bowtie = np.array([[0, 0], [1500, 1000], [1500, 0], [0, 1000]], dtype=float)
    with monkeypatch.context() as patch:  # saved before outlines were checked
        patch.setattr(mapapp.layers.validation, "check_geometry", lambda *a: None)
        fid = _stored_perimeter(core_site, bowtie, "Ancien nœud papillon")
    assert not core_site.feature_geometry("perimeters", fid)[0].is_valid
    rows = core_site.scenarios({}, 800, {"jobs": 1.0}, 250)
    assert next(r for r in rows if r["id"] == fid)["companies"] >= 0
    figures = core_site.key_figures({}, fid)
    assert figures["id"] == fid
    core_site.dossier({}, ("perimeters", fid), 800, {"jobs": 1.0}, 250)
    area, _scope = core_site.area_of(("perimeters", fid), None, 800)
    assert area.is_valid
