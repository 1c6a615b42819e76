"""OGC API handlers on plain values (a layer snapshot, a base URL), without Flask."""

from __future__ import annotations

import geopandas as gpd
import pytest

from mapapp import ogcapi
from mapapp.exports import layer_metadata
from mapapp.layers import get_spec

BASE = "http://example.test/ogc/"


def test_landing_links_its_parts():
    page = ogcapi.landing(BASE, "fr")
    rels = {link["rel"] for link in page["links"]}
    assert {"self", "conformance", "data"} <= rels


def test_collection_extent_is_the_data(core_site):
    frame = core_site.snapshot("schools", full=True).frame
    info = ogcapi.collection(
        get_spec("schools"), frame.total_bounds, BASE, "en", layer_metadata(frame)
    )
    minx, miny, maxx, maxy = info["extent"]["spatial"]["bbox"][0]
    assert 5.7 < minx < maxx < 6.3 and 47.1 < miny < maxy < 47.4


def test_collection_without_features_spans_the_world():
    meta = layer_metadata(gpd.GeoDataFrame(geometry=[]), "schools")
    info = ogcapi.collection(get_spec("schools"), None, BASE, "en", meta)
    assert info["extent"]["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]]


def test_items_page_and_links(core_site):
    spec = get_spec("companies")
    frame = core_site.snapshot("companies", full=True).frame
    query = ogcapi.parse_items_query({"limit": "5"}, spec)
    # items are read from the store, so filters run in the database
    page = ogcapi.items(core_site.store, spec, query, BASE, {"limit": "5"})
    assert page["numberReturned"] == 5 and page["numberMatched"] == len(frame)
    assert any(link["rel"] == "next" for link in page["links"])


def test_unknown_item_is_an_ogc_not_found(core_site):
    spec = get_spec("schools")
    with pytest.raises(ogcapi.OgcError) as info:
        ogcapi.item(core_site.store, spec, "no-such-school", BASE)
    assert info.value.status == 404 and info.value.code == "NotFound"


def test_items_past_the_time_budget_are_a_503(core_site, monkeypatch):
    """A filter that takes longer than QUERY_SECONDS is stopped, not waited for."""
    monkeypatch.setattr(ogcapi.features, "QUERY_SECONDS", -1)
    spec = get_spec("companies")
    args = {"filter": "S_INTERSECTS(geometry, POLYGON((6 47, 6.1 47, 6.1 47.3, 6 47)))"}
    query = ogcapi.parse_items_query(args, spec)
    with pytest.raises(ogcapi.OgcError) as caught:
        ogcapi.items(core_site.store, spec, query, BASE, args)
    assert caught.value.status == 503 and "QUERY_SECONDS" in caught.value.message


def test_spatial_filters_beyond_the_limit_at_once_are_a_503(core_site, monkeypatch):
    """MAX_SPATIAL_QUERIES polygon filters at work: the next one waits a moment, then
    503; a bbox query still passes (the other threads stay free for the rest)."""
    monkeypatch.setattr(ogcapi.features, "WAIT_S", 0.1)
    spec = get_spec("companies")
    ring = "5.9 47.1, 6.2 47.1, 6.2 47.4, 5.95 47.4, 5.9 47.1"
    polygon = {"filter": f"S_INTERSECTS(geometry, POLYGON(({ring})))"}
    bbox = {"bbox": "5.9,47.1,6.2,47.4"}
    held = [ogcapi.features._SPATIAL.acquire(timeout=1) for _ in range(2)]
    try:
        assert all(held)
        with pytest.raises(ogcapi.OgcError) as caught:
            query = ogcapi.parse_items_query(polygon, spec)
            ogcapi.items(core_site.store, spec, query, BASE, polygon)
        assert (
            caught.value.status == 503 and "MAX_SPATIAL_QUERIES" in caught.value.message
        )
        query = ogcapi.parse_items_query(bbox, spec)
        assert ogcapi.items(core_site.store, spec, query, BASE, bbox)["numberMatched"]
    finally:
        for _ in held:
            ogcapi.features._SPATIAL.release()
    query = ogcapi.parse_items_query(polygon, spec)
    assert ogcapi.items(core_site.store, spec, query, BASE, polygon)["numberMatched"]
