"""GDAL as a client, in a process of its own.

mapapp restricts GDAL in any process that imports it (three drivers, no network:
``mapapp/gdal_.py``), so tests that use GDAL the way QGIS or a script would (the
OAPIF driver, reading a working store) run it in a separate Python process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def gdal(code: str, *args: str) -> object:
    """Run ``code`` (which sets ``result``) with ``pyogrio`` and ``args`` in a new
    Python process; return ``result`` as decoded JSON."""
    program = "import json, sys, pyogrio\nargs = sys.argv[1:]\n"
    program += textwrap.dedent(code) + "\nprint(json.dumps(result, default=str))\n"
    done = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
