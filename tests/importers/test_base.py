"""The importer registry (importers/base.py): one entry per importer, one protocol,
one CSV reader, and drop reasons counted by code with examples (issues 18 and 20)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import Point

from mapapp.errors import BadRequest
from mapapp.importers import (
    IMPORTERS,
    KINDS,
    ImportReport,
    read_report,
    recognise,
    run_import,
)
from mapapp.importers.base import REASONS, finish, register
from mapapp.importers.wizard import inspect_file
from mapapp.layers import REGISTRY

PACKAGE = Path(IMPORTERS["generic"].read.__code__.co_filename).parent


def imports_of(path: Path) -> set[str]:
    """What a module of the package imports, relative names resolved."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = "mapapp.importers" if node.level == 1 else "mapapp"
            name = f"{base}.{node.module}" if node.module else base
            out.add(name if node.level else node.module)
            if not node.module:
                out |= {f"{base}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_the_importers_never_import_their_package():
    """The import circle ends: the package imports its importers, they import the
    base module, never the package."""
    circle = [
        p.name
        for p in PACKAGE.glob("*.py")
        if p.name != "__init__.py" and "mapapp.importers" in imports_of(p)
    ]
    assert circle == []


def test_one_csv_reader():
    """Every CSV an importer reads goes through reading.read_csv/read_chunks."""
    calls = [
        f"{p.name}:{node.lineno}"
        for p in PACKAGE.glob("*.py")
        if p.name != "reading.py"
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "read_csv"
        and isinstance(node.value, ast.Name)
        and node.value.id == "pd"
    ]
    assert calls == []


def test_every_entry_is_complete():
    assert list(KINDS) == list(IMPORTERS)
    for kind, importer in IMPORTERS.items():
        assert importer.kind == kind
        assert importer.layer in (None, "addresses") or importer.layer in REGISTRY
        assert importer.label["fr"] and importer.label["en"]
        assert set(importer.variant_labels) <= set(importer.variants)
        assert importer.variants or kind == "generic"


@pytest.mark.parametrize(
    "kind,variant",
    [(k, v) for k, i in IMPORTERS.items() for v in i.variants],
)
def test_every_signature_recognises_its_importer(kind, variant):
    """A header made of the first name of each column a signature needs is
    recognised as that importer and variant (the registration order breaks ties)."""
    importer = IMPORTERS[kind]
    columns = [names[0].upper() for names in importer.variants[variant]]
    assert recognise(columns, importer.geometry) == (kind, variant)


def test_a_new_importer_is_one_entry(store, tmp_path):
    """Registered, an importer is recognised by the wizard and run by run_import
    like the built-in ones."""

    @register(
        "coworking_census",
        "coworking",
        {"fr": "Recensement des tiers-lieux", "en": "Third-place census"},
        source="France Tiers-Lieux",
        variants={"2026": (("id_lieu",), ("nom_lieu",), ("lon",), ("lat",))},
    )
    def read_census(path, job):
        report = ImportReport("coworking_census", path.name, "coworking")
        rows, geoms = [], []
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            ident, name, lon, lat = line.split(";")
            report.rows_read += 1
            rows.append(
                {
                    "id": ident,
                    "name": name,
                    "kind": "tiers_lieu",
                    "status": "open",
                    "source": "France Tiers-Lieux 2026",
                    "source_date": "2026",
                    "precision": "exact",
                }
            )
            geoms.append(Point(float(lon), float(lat)))
        return finish(report, rows, geoms, job.area)

    path = tmp_path / "census.csv"
    path.write_text(
        "id_lieu;nom_lieu;lon;lat\ntl-1;La Grange;6.02;47.24\n", encoding="utf-8"
    )
    try:
        summary = inspect_file(path)
        assert (summary.kind, summary.variant) == ("coworking_census", "2026")
        report = run_import(store, "coworking_census", path, mode="merge")
        assert report.written and store.get("coworking", "tl-1")
    finally:
        IMPORTERS.pop("coworking_census")


def test_drop_reasons_are_counted_by_code_with_examples(store, tmp_path):
    """Issue 20 item 7: a bad value no longer makes each row its own reason (the
    value was kept in it and cut at the colon of "http://"): one reason, counted,
    with the values among its examples. (Item 6 changed what a bad website does:
    it is left out and the row kept, counted the same way; a bad required value
    still drops its row.)"""
    rows = "\n".join(
        f"Lieu {i};coworking;ouvert-ish;http:/lieu-{i}.example;6.02;47.24"
        for i in range(5)
    )
    path = tmp_path / "sites.csv"
    path.write_text(
        "name;kind;status;website;longitude;latitude\n" + rows, encoding="utf-8"
    )
    with pytest.raises(BadRequest, match="no row could be imported"):
        run_import(store, "generic", path, layer="coworking", source="test")
    report = read_report(store, "generic", path, layer="coworking", source="test")
    reason = "status: not one of the allowed values"
    assert report.dropped == {reason: 5}
    coded = report.codes[reason]
    assert (coded["code"], coded["field"]) == ("not_a_choice", "status")
    examples = report.examples[reason]
    assert len(examples) == 3 and "ouvert-ish" in examples[0]
    assert coded["labels"] == ["Lieu 0", "Lieu 1", "Lieu 2"]
    # the website is never the row's reason: the status came first (its place,
    # then the fields in the layer's order) and the row is gone
    assert not report.emptied


def test_a_bad_optional_value_is_left_out_and_the_row_kept(store, tmp_path):
    """Issue 20 item 6: a website that is not a web address is left out (counted by
    code, with examples), never the row; one without a scheme gets https://."""
    rows = [
        f"Lieu {i};coworking;open;http:/lieu-{i}.example;6.02;47.24" for i in range(4)
    ] + ["Lieu 4;coworking;open;www.lieu-4.example/contact;6.02;47.24"]
    path = tmp_path / "sites.csv"
    path.write_text(
        "name;kind;status;website;longitude;latitude\n" + "\n".join(rows),
        encoding="utf-8",
    )
    report = run_import(store, "generic", path, layer="coworking", source="test")
    reason = "website: not a web address (http:// or https://)"
    assert report.kept == 5 and not report.dropped
    assert report.emptied == {reason: 4}
    assert report.emptied_codes[reason]["code"] == "not_a_web_address"
    assert "http:/lieu-0.example" in report.emptied_examples[reason][0]
    assert any("value left out, row kept (4)" in line for line in report.lines())
    saved = store.read("coworking").set_index("id")
    assert pd.isna(saved.loc["lieu-0", "website"])
    assert saved.loc["lieu-4", "website"] == "https://www.lieu-4.example/contact"
    assert any("https:// added" in n for n in report.notes)


def test_every_reason_code_has_english_words():
    assert all(isinstance(w, str) and w for w in REASONS.values())
    report = ImportReport("x", "f.csv", "coworking")
    report.drop("outside_communes", "01001", 4)
    report.drop("outside_communes", "01002", 2)
    assert report.dropped == {"outside the chosen communes": 6}
    assert report.examples["outside the chosen communes"] == ["01001", "01002"]
