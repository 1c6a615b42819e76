"""The one cache of the site: bounded by entries and by bytes, least recent out."""

from __future__ import annotations

import gzip
import threading
import time

import pytest

from mapapp.cache import BoundedCache, Gate, Payload
from mapapp.errors import Busy


def test_cache_keeps_at_most_max_entries_least_recent_out():
    cache = BoundedCache(max_entries=2, max_bytes=1000)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, 10)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert cache.size == (2, 20)


def test_cache_keeps_at_most_max_bytes():
    cache = BoundedCache(max_entries=100, max_bytes=100)
    for i in range(10):
        cache.put(i, i, 30)
    entries, nbytes = cache.size
    assert nbytes <= 100 and entries == 3
    assert cache.get(9) == 9 and cache.get(0) is None


def test_cache_never_keeps_an_entry_larger_than_its_bound():
    cache = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("big", "x", 101)
    assert cache.get("big") is None and cache.size == (0, 0)


def test_cache_replacing_a_key_counts_its_bytes_once():
    cache = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("k", 1, 60)
    cache.put("k", 2, 60)
    assert cache.get("k") == 2 and cache.size == (1, 60)


def test_get_or_make_makes_once():
    cache = BoundedCache(max_entries=10, max_bytes=100)
    calls = []
    for _ in range(3):
        cache.get_or_make("k", lambda: calls.append(1) or "v", lambda v: 1)
    assert calls == [1]


def test_payload_has_gzip_and_a_content_etag():
    a = Payload.of(b"hello" * 100)
    assert gzip.decompress(a.gzip) == a.body
    assert a.etag == Payload.of(b"hello" * 100).etag != Payload.of(b"other").etag
    assert Payload.of(b"png", compress=False).gzip is None


# --- single flight, stale while revalidate, the heavy-work gate ---------------------


def _slow(calls: list, value, started: threading.Event, release: threading.Event):
    def make():
        calls.append(value)
        started.set()
        assert release.wait(5)
        return value

    return make


def test_get_or_make_builds_a_key_once_while_many_threads_ask():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    calls, started, release = [], threading.Event(), threading.Event()
    make = _slow(calls, "v1", started, release)
    results = []

    def ask():
        results.append(cache.get_or_make("k", make, lambda v: 1))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    assert started.wait(5)
    time.sleep(0.05)  # every thread is now waiting for the one build
    release.set()
    for t in threads:
        t.join(5)
    assert calls == ["v1"] and results == ["v1"] * 20


def test_get_or_make_serves_the_previous_version_while_the_new_one_builds():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    cache.get_or_make(("layer", 1), lambda: "old", lambda v: 1, family="layer")
    calls, started, release = [], threading.Event(), threading.Event()
    make = _slow(calls, "new", started, release)
    t0 = time.perf_counter()
    first = cache.get_or_make(("layer", 2), make, lambda v: 1, family="layer", stale=0)
    others = [
        cache.get_or_make(("layer", 2), make, lambda v: 1, family="layer", stale=0.1)
        for _ in range(3)
    ]
    assert first == "old" and others == ["old"] * 3
    assert time.perf_counter() - t0 < 1.5  # nobody waited long for the build
    assert started.wait(5)
    release.set()
    for _ in range(100):  # the background build lands
        if cache.get(("layer", 2)) == "new":
            break
        time.sleep(0.02)
    assert cache.get_or_make(("layer", 2), make, lambda v: 1, family="layer") == "new"
    assert calls == ["new"]


def test_get_or_make_serves_a_new_version_built_within_the_stale_bound():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    cache.get_or_make(("layer", 1), lambda: "old", lambda v: 1, family="layer")
    fresh = cache.get_or_make(
        ("layer", 2), lambda: "new", lambda v: 1, family="layer", stale=2
    )
    assert fresh == "new"


def test_get_or_make_without_a_previous_version_waits_for_the_build():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    value = cache.get_or_make(
        ("layer", 1), lambda: "first", lambda v: 1, family="layer", stale=0.1
    )
    assert value == "first"


def test_get_or_make_error_reaches_every_waiter_and_is_not_kept():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    started, release = threading.Event(), threading.Event()

    def fail():
        started.set()
        release.wait(5)
        raise ValueError("broken")

    errors = []

    def ask():
        try:
            cache.get_or_make("k", fail, lambda v: 1)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait(5)
    time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(5)
    assert errors == ["broken"] * 4
    assert cache.get_or_make("k", lambda: "ok", lambda v: 1) == "ok"


def test_gate_refuses_with_busy_when_its_slots_and_queue_are_full():
    gate = Gate(at_once=1, queue=0, wait=0.1)
    inside, release = threading.Event(), threading.Event()

    def hold():
        with gate.slot():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    assert inside.wait(5)
    with pytest.raises(Busy) as info:
        with gate.slot():
            pass
    assert info.value.status == 503 and info.value.retry_after >= 1
    release.set()
    t.join(5)
    with gate.slot():  # free again
        with gate.slot():  # re-entrant: no second slot inside a build
            pass


def test_gate_bounds_the_waiters_of_a_build_under_way():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    gate = Gate(at_once=1, queue=1, wait=0.2)
    calls, started, release = [], threading.Event(), threading.Event()
    make = _slow(calls, "v", started, release)
    def ask():
        try:
            cache.get_or_make("k", make, lambda v: 1, gate=gate)
        except Busy:  # the other asker took the one place in the queue first
            pass

    builder = threading.Thread(target=ask)
    builder.start()
    assert started.wait(5)
    with pytest.raises(Busy):  # waited 0.2 s for the build: told to come back
        cache.get_or_make("k", make, lambda v: 1, gate=gate)
    release.set()
    builder.join(5)
    assert cache.get_or_make("k", make, lambda v: 1, gate=gate) == "v"
    assert calls == ["v"]


def test_get_or_make_drops_the_version_a_new_one_replaces():
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    cache.get_or_make(("layer", 1), lambda: "old", lambda v: 10, family="layer")
    cache.get_or_make(("layer", 2), lambda: "new", lambda v: 10, family="layer")
    assert cache.get(("layer", 1)) is None and cache.size == (1, 10)


def test_a_heavy_build_goes_on_after_its_request_is_told_to_come_back():
    """A heavy build never runs in a request's thread: with no room to wait, the
    request that started it is answered Busy at once, and the build
    goes on, made once and served to the next request."""
    cache = BoundedCache(max_entries=10, max_bytes=1000)
    gate = Gate(at_once=1, queue=0, wait=0.1)
    calls, started, release = [], threading.Event(), threading.Event()
    make = _slow(calls, "v", started, release)
    asked = time.perf_counter()
    with pytest.raises(Busy):
        cache.get_or_make("k", make, lambda v: 1, gate=gate)
    assert time.perf_counter() - asked < 2  # not held for the build
    assert started.wait(5)
    release.set()
    for _ in range(100):
        if cache.get("k") is not None:
            break
        time.sleep(0.05)
    assert cache.get_or_make("k", make, lambda v: 1, gate=gate) == "v"
    assert calls == ["v"]
