"""The architecture of DESIGN.md §1, checked on the code: short functions, Flask only
in the web wing, blueprints independent, and a core that imports without Flask."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mapapp"
MAX_FUNCTION_LINES = 60
# Blueprint modules: every views module that defines a Blueprint.
VIEWS = PACKAGE / "views"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The modules a file imports, absolute (``..x`` resolved from its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            out.add(name)
            out |= {f"{name}.{alias.name}" for alias in node.names}
    return out


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} {lines}")
    assert long == []


def test_only_the_web_wing_imports_flask():
    outside = [
        str(path.relative_to(PACKAGE))
        for path in modules()
        if any(
            m == "flask" or m.startswith(("flask.", "flask_")) for m in imported(path)
        )
        and VIEWS not in path.parents
        and path != PACKAGE / "__init__.py"
    ]
    assert outside == []


def blueprint_modules() -> dict[str, Path]:
    return {
        f"mapapp.views.{p.stem}": p
        for p in VIEWS.glob("*.py")
        if "Blueprint(" in p.read_text(encoding="utf-8")
    }


def test_blueprints_never_import_one_another():
    blueprints = blueprint_modules()
    assert {"mapapp.views.public", "mapapp.views.api", "mapapp.views.planner"} <= set(
        blueprints
    )
    crossings = [
        f"{name} -> {other}"
        for name, path in blueprints.items()
        for other in imported(path)
        if other in blueprints and other != name
    ]
    assert crossings == []


@pytest.mark.parametrize(
    "module",
    [
        "mapapp.site",
        "mapapp.cli",
        "mapapp.ogcapi",
        "mapapp.exports",
        "mapapp.maps",
        "mapapp.analysis.scenarios",
        "mapapp.importers",
        "mapapp.store.geopackage",
    ],
)
def test_the_core_imports_without_flask(module):
    code = f"import sys; sys.modules['flask'] = None; import {module}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    "module,name",
    [
        ("mapapp.layers", "all_specs"),
        ("mapapp.config", "SETTINGS_BY_NAME"),
        ("mapapp.errors", "Unauthorized"),
        ("mapapp.views.analysis", "CELL_SIZES"),
    ],
)
def test_dead_code_is_gone(module, name):
    __import__(module)
    assert not hasattr(sys.modules[module], name)


CORE_TESTS = [
    "tests/test_site.py",
    "tests/test_cache.py",
    "tests/ogcapi",
    "tests/test_exports.py",
    "tests/maps/test_geojson.py",
]


def test_the_core_tests_run_without_flask():
    root = PACKAGE.parent
    code = (
        "import sys; sys.modules['flask'] = None; import pytest; "
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', *{CORE_TESTS!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_only_the_settings_read_the_environment():
    """``config.load_settings`` alone reads ``MAPAPP_*`` (issue 10): any other module
    reading ``os.environ`` or ``os.getenv`` could split the configuration again."""
    readers = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                # a request's WSGI environ (werkzeug.wsgi.wrap_file) is not the
                # process's environment
                and not (isinstance(node.value, ast.Name) and node.value.id == "request")
            ):
                readers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert readers and all(r.startswith("config.py:") for r in readers), readers


# --- the architecture whiteboard ---------------------------------------------------
# ../shared/architecture.json holds the parts of the code (each "is" some files or
# folders) and the arrows between them that must never exist. CI runs on a clean
# clone that may have no ../shared: the repository keeps a copy, checked equal to the
# whiteboard whenever the whiteboard is there.
ROOT = PACKAGE.parent
WHITEBOARD = ROOT.parent / "shared" / "architecture.json"
WHITEBOARD_COPY = ROOT / "docs" / "architecture.json"


def whiteboard() -> dict:
    return json.loads(WHITEBOARD_COPY.read_text(encoding="utf-8"))


def part_of(path: Path, parts: dict) -> str | None:
    """The part a file of the project belongs to (a file named, else the innermost
    folder named), or None."""
    rel = path.relative_to(ROOT).as_posix()
    best, depth = None, -1
    for name, part in parts.items():
        for place in part["is"]:
            hit = rel == place or (place.endswith("/") and rel.startswith(place))
            if hit and len(place) > depth:
                best, depth = name, len(place)
    return best


def module_file(name: str) -> Path | None:
    """The file of an imported ``mapapp`` module (the longest importable prefix of
    ``mapapp.a.b.c``: names imported from a module count as that module)."""
    parts = name.split(".")
    while parts and parts[0] == "mapapp":
        base = ROOT.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        parts = parts[:-1]
    return None


def arrows() -> set[tuple[str, str, str]]:
    """(from part, to part, 'file -> module') of every import inside the package."""
    parts = whiteboard()["parts"]
    out = set()
    for path in modules():
        source = part_of(path, parts)
        for name in imported(path):
            target_file = module_file(name)
            if source is None or target_file is None:
                continue
            target = part_of(target_file, parts)
            if target and target != source:
                out.add((source, target, f"{path.relative_to(ROOT)} -> {name}"))
    return out


def test_the_whiteboard_copy_holds_the_whiteboard():
    """The copy holds every part, file, arrow and never of the whiteboard; it may
    name more (a part or file added since the whiteboard was last copied)."""
    if not WHITEBOARD.is_file():
        pytest.skip("no ../shared/architecture.json beside this clone (CI)")
    board, copy = json.loads(WHITEBOARD.read_text(encoding="utf-8")), whiteboard()
    for name, part in board["parts"].items():
        assert name in copy["parts"], f"docs/architecture.json lacks the part {name}"
        missing = set(part["is"]) - set(copy["parts"][name]["is"])
        assert not missing, f"docs/architecture.json: {name} lacks {sorted(missing)}"
    for key in ("never", "arrows"):
        missing = [x for x in board.get(key, []) if x not in copy.get(key, [])]
        assert not missing, f"docs/architecture.json lacks the {key} {missing}"


def crossings(found: set[tuple[str, str, str]]) -> list[str]:
    """The imports among ``found`` along an arrow the whiteboard marks "never"."""
    never = {(a, b): why for a, b, why in whiteboard()["never"]}
    return sorted(
        f"{where} ({a} -> {b}: {never[(a, b)]})"
        for a, b, where in found
        if (a, b) in never
    )


def test_no_import_crosses_an_arrow_marked_never():
    assert crossings(arrows()) == []


def test_the_whiteboard_check_sees_imports_and_crossings():
    """The check can fail: it finds the real arrows (the store reads the layer
    registry) and flags a forbidden one (the store importing the accounts)."""
    found = arrows()
    assert ("Store", "Layers") in {(a, b) for a, b, _w in found}
    assert ("Importers", "Store") in {(a, b) for a, b, _w in found}
    forbidden = {("Store", "Accounts", "mapapp/store/sql.py -> mapapp.accounts")}
    assert crossings(forbidden) == [
        "mapapp/store/sql.py -> mapapp.accounts (Store -> Accounts: data and "
        "accounts apart)"
    ]
