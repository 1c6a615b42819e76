"""axe-core (the npm package installed by the project's package.json) in Playwright:
the accessibility violations of a page as it is shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_script() -> str:
    """The text of axe.min.js; skips (fails in CI) when npm has not installed it."""
    if not AXE.is_file():
        message = "axe-core is missing: run `npm install` at the repository root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def violations(page) -> list[str]:
    """axe-core's violations on the page: ``rule-id: target, …`` lines."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_script())
    found = page.evaluate(
        """async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => v.id + ': ' + v.nodes.slice(0, 4)
            .map(n => n.target.join(' ')).join(', '));
    }"""
    )
    return found
