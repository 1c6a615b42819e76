"""Desktop GIS from the system, for tests that check what planners' tools see:
QGIS (Debian's python3-qgis) and GDAL's GeoPackage validator (python3-gdal).

Both run in the system Python (``/usr/bin/python3``), in a subprocess. Without them
the tests are skipped, except in CI, where they fail: .ci/run installs them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
VALIDATORS = [
    "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
    "/usr/share/doc/python3-gdal/examples/validate_gpkg.py",
]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI: .ci/run installs it)")
    pytest.skip(reason)


def system_python_with(module: str) -> str:
    """The system Python when it can import ``module``, else skip (fail in CI)."""
    if not Path(SYSTEM_PYTHON).is_file():
        _unavailable(f"no {SYSTEM_PYTHON}")
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", f"import {module}"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    if probe.returncode:
        _unavailable(f"{SYSTEM_PYTHON} cannot import {module}")
    return SYSTEM_PYTHON


def validate_gpkg(path: Path) -> str:
    """Run GDAL's validate_gpkg.py on ``path``; return its output (empty when the
    file is valid), or skip when the validator is not installed (fail in CI)."""
    script = next((s for s in VALIDATORS if Path(s).is_file()), None)
    if script is None:
        _unavailable("GDAL's validate_gpkg.py is not installed (python3-gdal)")
    python = system_python_with("osgeo.ogr")
    done = subprocess.run(
        [python, script, str(path)], capture_output=True, text=True, timeout=120
    )
    return (done.stdout + done.stderr).strip() + ("" if not done.returncode else "!")
