"""The one cache of the site: bounded by entries and by bytes, least recent out."""

from __future__ import annotations

import gzip

from mapapp.cache import BoundedCache, Payload


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
