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


def test_warm_up_builds_the_large_point_layers_map_data(core_site, monkeypatch):
    monkeypatch.setitem(core_site.settings.values, "INLINE_MAX_FEATURES", 5)
    core_site.warm_up()

    def no_read(*args, **kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(core_site.store, "read_versioned", no_read)
    snap = core_site.snapshot("companies")  # ready: nothing read
    assert snap._binary is not None and len(snap.frame) > 5
