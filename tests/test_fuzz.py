"""Generated requests to every public and planner endpoint (Hypothesis): whatever the
path values, query parameters and bodies, the answer is never a 5xx, and the store's
integrity check stays clean.

Every route of the URL map is covered (a test fails when a route is added that the
generator does not know). The examples are the same at each run (derandomised) so
the suite is reproducible; ``MAPAPP_FUZZ_EXAMPLES=2000`` runs more, at random.
"""

from __future__ import annotations

import os
import re
import shutil
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapapp import accounts, create_app
from mapapp.layers import REGISTRY
from tests.conftest import SEED

EXAMPLES = int(os.environ.get("MAPAPP_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="MAPAPP_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MUTATING = ("POST", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, seed_store):
    """One app for the whole module (Hypothesis reuses it across examples), with a
    planner's token, a signed-in administrator and a visitor."""
    instance = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(seed_store, instance / "mapapp.gpkg")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATA_DIR": str(SEED),
            "TILES": "none",
            "SECRET_KEY": "fuzz",
        }
    )
    store = app.extensions["mapapp.site"].store
    accounts.create_user(store, "planner", "planner", "long-enough-password")
    accounts.create_user(store, "root", "admin", "long-enough-password")
    token = accounts.new_token(store, "planner")
    admin = app.test_client()
    page = admin.get("/auth/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    admin.post(
        "/auth/login",
        data={"name": "root", "password": "long-enough-password", "csrf_token": csrf},
    )
    csrf = re.search(
        r'"csrf":"([^"]+)"', admin.get("/planner/").get_data(as_text=True)
    )[1]
    yield {"app": app, "token": token, "admin": admin, "csrf": csrf, "store": store}
    app.extensions["mapapp.site"].close()


# --- what the generator sends ----------------------------------------------------

NASTY = [
    "", " ", "0", "-1", "1e400", "nan", "inf", "2" * 30, "true", "null", "%", "%00",
    "%ED%A0%80", "%FF%FE", "..", "../../etc/passwd", "a/b", "a" * 3000,
    "<script>alert(1)</script>", '" onload="x', "'; DROP TABLE x; --", "\u202e",
    "😀", "ü", "\\", "%2F", "=HYPERLINK(1)", "[]", "{}", ",,,", "5,47,6", "5,47,6,48",
    "5.9,47.2,6.1,47.3", "47.2378,6.0241", "13", "fr", "en", "json", "html",
    "99999999999999999999999", "2147483648", "-9223372036854775809",
    "925000,6685000,925000,6685000", "6.02,47.24,6.02,47.24", "170,40,-170,50",
    "http://www.opengis.net/def/crs/EPSG/0/2154",
    "http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:2154",
    "S_INTERSECTS(geometry,POINT(925000 6685000))", "x > DATE('2020-01-01')",
    "status = 'planned' AND desks > 1e400", "name LIKE '%", "((((((((((",
]  # fmt: skip
LAYERS = list(REGISTRY) + ["nope", "mapapp_users", "gpkg_contents"]
IDS = ["le-numerique", "smartesting", "lycee-jules-haag", "fibre-q1", "nope"]
FORMATS = ["geojson", "csv", "gpkg", "shp", "vrt"]
PARAMS = [
    "bbox", "lang", "layers", "center", "zoom", "q", "v", "limit", "offset", "f",
    "cell", "radius", "lat", "lon", "w.jobs", "w.fibre", "w.nope", "include", "id",
    "layer", "perimeter", "width", "height", "feature", "basemap", "status", "desks",
    "name", "companies.sector", "coworking.status", "jobs", "legend", "scrollzoom",
    "bbox-crs", "crs", "datetime", "published", "next", "page", "sort", "filter",
    "filter-crs", "filter-lang",
]  # fmt: skip

text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
segment = st.one_of(
    st.sampled_from(NASTY + IDS + LAYERS), st.text(min_size=1, max_size=30)
)
query = st.dictionaries(
    st.one_of(st.sampled_from(PARAMS), st.text(min_size=1, max_size=12)),
    text,
    max_size=6,
)
scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_value = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
position = st.lists(
    st.one_of(st.floats(5.7, 6.3), st.floats(46.9, 47.5), st.floats(allow_nan=True)),
    min_size=1, max_size=3,
)  # fmt: skip
geometry = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, position),
    st.builds(
        lambda ring: {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        st.lists(position, min_size=0, max_size=6),
    ),
    json_value,
)
properties = st.dictionaries(
    st.sampled_from([f.name for spec in REGISTRY.values() for f in spec.fields]),
    json_value | text,
    max_size=8,
)
feature = st.builds(
    lambda p, g, i: {"type": "Feature", "id": i, "properties": p, "geometry": g},
    properties, geometry, st.none() | text,
)  # fmt: skip
body = st.one_of(
    feature.map(lambda f: ("json", f)),
    json_value.map(lambda v: ("json", v)),
    st.binary(max_size=300).map(lambda b: ("raw", b)),
    st.builds(lambda h: ("json", {"history_id": h}), json_value),
)


def path_of(rule: str, values) -> str:
    """The rule's path with generated values (percent-encoded) in its variables."""
    out = rule
    for name, value in zip(
        re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule), values, strict=False
    ):
        value = str(value)
        out = re.sub(rf"<(?:[^:>]+:)?{name}>", quote(value, safe=""), out, count=1)
    return out


def routes(app) -> list[tuple[str, str]]:
    skip = {"public.assets"}  # files from pip packages: safe_join'd, tested elsewhere
    return [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in skip
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def send(fuzzed, client_kind, method, path, args, payload):
    app = fuzzed["app"]
    client = fuzzed["admin"] if client_kind == "admin" else app.test_client()
    headers = {}
    if client_kind == "token":
        headers["Authorization"] = f"Bearer {fuzzed['token']}"
    if client_kind == "admin":
        headers["X-CSRF-Token"] = fuzzed["csrf"]
    if method in ("PATCH", "DELETE", "POST"):
        headers["If-Match"] = '"1"'
    kind, data = payload
    kwargs = {"query_string": args, "headers": headers}
    if method in MUTATING:
        if kind == "json":
            kwargs["json"] = data
        else:
            kwargs["data"] = data
            headers["Content-Type"] = "application/json"
    return client.open(path, method=method, **kwargs)


@FUZZ
@given(data=st.data())
def test_no_endpoint_answers_5xx(fuzzed, data):
    app = fuzzed["app"]
    rule, method = data.draw(st.sampled_from(routes(app)), label="route")
    names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
    values = [
        data.draw(
            {
                "name": st.sampled_from(LAYERS) | segment,
                "fid": st.sampled_from(IDS) | segment,
                "fmt": st.sampled_from(FORMATS) | segment,
                "index": st.integers(-5, 2**70),
                "cid": st.integers(-5, 2**70),
                # a tile's level and numbers (integer routes: any int, huge ones too)
                "z": st.integers(-5, 40) | st.integers(-5, 2**70),
                "x": st.integers(-5, 2**70),
                "y": st.integers(-5, 2**70),
                "token": segment,
            }.get(n, segment),
            label=n,
        )
        for n in names
    ]
    path = path_of(rule, values)
    args = data.draw(query, label="query")
    payload = data.draw(body, label="body")
    who = data.draw(st.sampled_from(["visitor", "token", "admin"]), label="client")
    if rule == "/auth/logout":
        who = "visitor"  # the administrator stays signed in for the next examples
    response = send(fuzzed, who, method, path, args, payload)
    assert response.status_code < 500, (
        method,
        path,
        args,
        payload,
        response.data[:300],
    )


EDITABLE = [n for n, spec in REGISTRY.items() if spec.editable]
near_valid = st.fixed_dictionaries(
    {
        "name": text,
        "kind": st.sampled_from(["coworking", "tiers_lieu", "x"]),
        "status": st.sampled_from(["planned", "open", "candidate", "nope"]),
        "source": text,
        "source_date": st.sampled_from(["2026", "2026-11", "x"]),
        "precision": st.sampled_from(["exact", "approximate", "commune", "?"]),
    },
    optional={"desks": json_value, "published": json_value, "notes": text, "id": text},
)


@FUZZ
@given(
    layer=st.sampled_from(EDITABLE),
    fid=st.sampled_from(IDS) | segment,
    action=st.sampled_from(["add", "update", "delete", "restore"]),
    props=near_valid,
    geom=geometry,
    version=st.sampled_from(["1", "2", "x", ""]),
    history=json_value,
)
def test_edits_never_answer_5xx(
    fuzzed, layer, fid, action, props, geom, version, history
):
    client = fuzzed["app"].test_client()
    headers = {"Authorization": f"Bearer {fuzzed['token']}", "If-Match": version}
    base = f"/api/layers/{layer}/features"
    one = f"{base}/{quote(str(fid), safe='')}"
    body = {"type": "Feature", "properties": props, "geometry": geom}
    method, path, payload = {
        "add": ("POST", base, body),
        "update": ("PATCH", one, body),
        "delete": ("DELETE", one, None),
        "restore": ("POST", f"{one}/restore", {"history_id": history}),
    }[action]
    response = client.open(path, method=method, json=payload, headers=headers)
    assert response.status_code < 500, (method, path, payload, response.data[:300])


# Files the import wizard recognises, to reach its later steps: a CSV of points and
# a GeoJSON; the generated content is appended to them or replaces them.
GOOD_FILES = [
    ("sites.csv", b"name;longitude;latitude;status\nA;6.02;47.24;planned\n"),
    (
        "sites.geojson",
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        b'{"name":"A"},"geometry":{"type":"Point","coordinates":[6.02,47.24]}}]}',
    ),
]
HEADS = [
    b"",
    b"SQLite format 3\x00",
    b"PK\x03\x04",
    b"{",
    b"<OGRVRTDataSource>",
    b"\x1f\x8b",
]
form = st.dictionaries(
    st.one_of(
        st.sampled_from(
            ["layer", "action", "source", "edition", "publish", "mode", "communes",
             "map.name", "map.status", "set.status", "set.kind", "map.id"]
        ),
        st.text(max_size=10),
    ),
    text,
    max_size=6,
)  # fmt: skip


@FUZZ
@given(data=st.data())
def test_import_wizard_never_answers_5xx(fuzzed, data):
    import io

    admin, csrf = fuzzed["admin"], fuzzed["csrf"]
    name, good = data.draw(st.sampled_from(GOOD_FILES), label="file")
    tail = data.draw(st.binary(max_size=800), label="content")
    head = data.draw(st.sampled_from([*HEADS, good, good]), label="head")
    sent_name = data.draw(st.sampled_from([name]) | segment, label="name")
    sent = admin.post(
        "/planner/import",
        data={"csrf_token": csrf, "file": (io.BytesIO(head + tail), sent_name)},
        content_type="multipart/form-data",
    )
    assert sent.status_code < 500, (sent_name, head, sent.data[:300])
    url = sent.headers.get("Location")
    for step in ("columns", "options", "report", "confirm"):
        if not url:
            return
        url = re.sub(r"/(columns|options|report)$", f"/{step}", url)
        fields = {"csrf_token": csrf, **data.draw(form, label=step)}
        answer = admin.get(url) if step == "report" else admin.post(url, data=fields)
        assert answer.status_code < 500, (step, fields, answer.data[:300])


def test_every_route_is_fuzzed_and_the_store_stays_sound(fuzzed):
    """Runs after the generated requests (module order): the store is intact."""
    known = {"name", "fid", "fmt", "index", "package", "filename", "token", "unknown"}
    known |= {"cid"}  # a contribution's number (an integer route: any int is fuzzed)
    known |= {"z", "x", "y"}  # a map tile's level and numbers (integers too)
    for rule in fuzzed["app"].url_map.iter_rules():
        assert set(re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule.rule)) <= known, rule.rule
    assert fuzzed["store"].check() == []
