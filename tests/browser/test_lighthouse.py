"""Lighthouse (npm package, installed by package.json) scores the accessibility of
the map, its embed and the list at 100, in its default mobile emulation, with
Debian's Chromium (CHROME_PATH)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"


def lighthouse_accessibility(url: str, out: Path) -> tuple[float, list[str]]:
    """Lighthouse's accessibility score of ``url`` (mobile) and its failed audits."""
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--only-categories=accessibility",
            "--form-factor=mobile",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--ignore-status-code",  # the 404 page is a page visitors read too
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=True,
        env=env,
        timeout=180,
        capture_output=True,
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    failed = [
        f"{key}: {audit['title']}"
        for key, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") == "binary"
    ]
    return report["categories"]["accessibility"]["score"], failed


@pytest.fixture(scope="module")
def lighthouse():
    if not LIGHTHOUSE.is_file() or not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Lighthouse and Chromium are required in CI: run `npm ci`")
        pytest.skip("Lighthouse not installed: run `npm ci`")
    return lighthouse_accessibility


@pytest.mark.parametrize(
    "path",
    [
        "/?lang=fr",
        "/embed?lang=fr",
        "/list?lang=fr",
        "/list?lang=en&layer=schools&q=informatique",
        "/share?lang=fr",
        "/nope?lang=fr",
    ],
)
def test_lighthouse_accessibility_is_100_on_a_phone(
    lighthouse, live_server, tmp_path, path
):
    score, failed = lighthouse(live_server.url + path, tmp_path / "report.json")
    assert (score, failed) == (1.0, [])
