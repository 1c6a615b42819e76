"""Refreshing the data from the official sources: ``mapapp fetch`` and ``update``.

- :mod:`.catalogue`: the official sources, as data (``sources.toml``): each one's
  stable download URL, its importer and its options;
- :mod:`.download`: downloads with resume, a size cap, progress and checksums;
- :mod:`.manifest`: what was downloaded (URL, date, size, SHA-256) and imported;
- :mod:`.update`: fetch then import every source, idempotently, with one report.

No Flask here: the CLI drives it through a :class:`~mapapp.site.Site`.
"""
