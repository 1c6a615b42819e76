"""The OGC API - Features Part 1 Core conformance suite (``ogctests``, PyPI) run
against `mapapp serve`: every test passes and none warns (issue 22)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from tests.conftest import SEED
    from tests.servers import start_server, stop

    root = tmp_path_factory.mktemp("conformance")
    proc, base = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(root / "srv"),
            "MAPAPP_DATA_DIR": str(SEED),
            "MAPAPP_TILES": "none",
        }
    )
    yield base, root
    stop(proc)


def test_part_1_core_conformance_suite_passes_without_warning(served):
    ogctests = pytest.importorskip("ogctests")
    base, root = served
    suite = Path(ogctests.__file__).parent / "features" / "core"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider"]
        + ["-rA", "--rootdir", str(root), "-o", "addopts="],
        cwd=root,  # none of this project's pytest settings
        env={**os.environ, "INSTANCE_URL": f"{base}/ogc"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 29, summary
    assert not re.search(r"failed|error|warning|skipped", summary), summary
