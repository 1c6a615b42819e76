"""Files in the publishers' layouts, as `mapapp update` downloads them, written here
(the establishments are made up; the layouts are the publishers').

- géo-SIRENE (Etalab, ``geo_siret_25.csv.gz``): the stock's columns followed by
  ``longitude,latitude,geo_score,geo_type,geo_adresse,geo_id,geo_ligne,geo_l4,geo_l5``
  (OPEN-DATA.md §1.1);
- Annuaire de l'éducation, API export (``;``, lower-case field names, §2.1);
- ONISEP Idéo-Structures (first header version, §2.3);
- IRIS contours from IGN's WFS (GeoJSON, lower-case ``code_iris, nom_iris,
  code_insee``, §4.1);
- ARCEP MCI building base and eligibility (``;``, gzip; ``imb_x/imb_y`` in
  EPSG:3857, §3.3; the eligibility file's ``imb_id;techno`` pair is the one column
  pair the importer needs, its other columns were not verified on a real file);
- BAN addresses (``;``, gzip) and INSEE's EPCI composition (a zip holding the
  workbook, sheet ``Composition_communale`` under five title rows, §4.2).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

from pyproj import Transformer

from mapapp.refresh.catalogue import sources
from tests.importers import fixtures
from tests.shipped import SHIPPED

GEO_COLUMNS = [
    "longitude",
    "latitude",
    "geo_score",
    "geo_type",
    "geo_adresse",
    "geo_id",
    "geo_ligne",
    "geo_l4",
    "geo_l5",
]
BAN_HEADER = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;"
    "code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;"
    "alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;"
    "certification_commune;cad_parcelles"
)


def _csv(header: list[str], rows: list[list[str]], sep: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def geo_sirene(extra_name: str = "") -> bytes:
    """Etalab's geocoded stock for the Doubs, gzipped."""
    rows = []
    for siret, commune, naf, lon, lat, geo_type, name in (
        ("90000000100011", "25056", "62.01Z", "6.0190", "47.2420", "housenumber", "A"),
        ("90000000200019", "25056", "58.29C", "6.0210", "47.2400", "municipality", "B"),
        ("90000000300017", "25035", "62.02A", "5.9620", "47.3010", "street", "C"),
        ("90000000400015", "25056", "47.11F", "6.0200", "47.2410", "housenumber", "D"),
        ("90000000500012", "25388", "62.01Z", "6.8000", "47.5100", "housenumber", "E"),
    ):
        row = fixtures.sirene_row(siret, commune=commune, naf=naf, x="", y="")
        row[fixtures.SIRENE_COLUMNS.index("denominationUsuelleEtablissement")] = (
            f"ENTREPRISE {name}{extra_name}"
        )
        rows.append(row + [lon, lat, "0.9", geo_type, "", "", "", "", ""])
    return gzip.compress(_csv(fixtures.SIRENE_COLUMNS + GEO_COLUMNS, rows, ","))


def geo_sirene_elsewhere() -> bytes:
    """A géo-SIRENE file whose establishments all lie outside the metropolis
    (Montbéliard, 25388): nothing the companies layer can take."""
    row = fixtures.sirene_row("90000000900017", commune="25388", x="", y="")
    row += ["6.8000", "47.5100", "0.9", "housenumber", "", "", "", "", ""]
    return gzip.compress(_csv(fixtures.SIRENE_COLUMNS + GEO_COLUMNS, [row], ","))


def annuaire(tmp: Path) -> bytes:
    path = fixtures.annuaire(tmp, lower=True)
    return path.read_bytes()


def onisep(tmp: Path) -> bytes:
    return fixtures.onisep(tmp, 1).read_bytes()


IRIS = {
    "250560101": ("Centre", (6.015, 47.232, 6.035, 47.245)),
    "250560201": ("Bouloie", (5.980, 47.240, 6.005, 47.258)),
}


def iris() -> bytes:
    features = []
    for code, (name, (x0, y0, x1, y1)) in IRIS.items():
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code_iris": code,
                    "nom_iris": name,
                    "code_insee": code[:5],
                    "nom_commune": "Besançon",
                    "iris": code[5:],
                    "type_iris": "H",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


BUILDINGS = (  # imb_id, lon, lat, premises, FTTH
    ("IMB/25056/X/0001", 6.020, 47.240, 12, True),
    ("IMB/25056/X/0002", 6.025, 47.238, 8, False),
    ("IMB/25056/X/0003", 5.990, 47.250, 30, True),
)


def base_imb() -> bytes:
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    header = (
        "imb_id;imb_x;imb_y;imb_code;imb_code_insee;imb_nbr_logloc;imb_source;"
        "imb_type;addr_code;imb_num;addr_numero;addr_rep;addr_nom_voie;addr_nom_ld;"
        "addr_code_insee;addr_nom_commune;addr_id_fantoir;addr_source"
    ).split(";")
    rows = []
    for imb_id, lon, lat, premises, _ready in BUILDINGS:
        x, y = to_3857.transform(lon, lat)
        values = dict.fromkeys(header, "")
        values.update(
            imb_id=imb_id,
            imb_x=f"{x:.2f}",
            imb_y=f"{y:.2f}",
            imb_code_insee="25056",
            imb_nbr_logloc=str(premises),
            imb_source="fo",
            imb_type="IM",
            addr_source="ban",
        )
        rows.append([values[h] for h in header])
    return gzip.compress(_csv(header, rows, ";"))


def eligibilite() -> bytes:
    rows = [[imb_id, "FO" if ready else "CU"] for imb_id, *_x, ready in BUILDINGS]
    return gzip.compress(_csv(["imb_id", "techno"], rows, ";"))


def ban() -> bytes:
    line = (
        "25056_1234_00012;25056_1234;12;;Rue de la République;25000;25056;Besançon;"
        ";;928720.0;6686320.0;6.0241;47.2378;entrée;;;BESANCON;RUE DE LA REPUBLIQUE;"
        "commune;commune;1;"
    )
    return gzip.compress(f"{BAN_HEADER}\n{line}\n".encode())


def _xlsx(rows: list[list[str]]) -> bytes:
    """A minimal workbook with one sheet Composition_communale (inline strings)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = "".join(
        f'<row r="{i}">'
        + "".join(
            f'<c r="{chr(65 + j)}{i}" t="inlineStr"><is><t>{v}</t></is></c>'
            for j, v in enumerate(row)
        )
        + "</row>"
        for i, row in enumerate(rows, start=1)
    )
    parts = {
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="EPCI" sheetId="1" r:id="rId1"/>'
        '<sheet name="Composition_communale" sheetId="2" r:id="rId2"/>'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="x"/>'
        '<Relationship Id="rId2" Target="worksheets/sheet2.xml" Type="x"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData/>'
        "</worksheet>",
        "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{main}"><sheetData>{cells}'
        "</sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buffer.getvalue()


def epci(members: list[str] | None = None) -> bytes:
    members = list(SHIPPED.codes) if members is None else members
    rows = [
        [c, "", "242500361", "Grand Besançon Métropole", "25", "27"] for c in members
    ]
    rows.append(
        ["25388", "Montbéliard", "242504496", "Pays de Montbéliard", "25", "27"]
    )
    return epci_zip(rows)


def epci_zip(rows: list[list[str]]) -> bytes:
    """INSEE's EPCI composition as published: a zip holding the workbook, whose
    sheet Composition_communale has five title rows, then the header and ``rows``
    (CODGEO, LIBGEO, EPCI, LIBEPCI, DEP, REG)."""
    rows = (
        [["Intercommunalités au 1er janvier 2025"], [], [], [], []]
        + [["CODGEO", "LIBGEO", "EPCI", "LIBEPCI", "DEP", "REG"]]
        + rows
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("EPCI_au_01-01-2025.xlsx", _xlsx(rows))
    return buffer.getvalue()


def publish(mirror, tmp: Path) -> dict[str, str]:
    """Put every file at its catalogue path on the mirror; return id -> path."""
    bodies = {
        "communes_epci": epci(),
        "iris": iris(),
        "sirene": geo_sirene(),
        "annuaire": annuaire(tmp),
        "onisep": onisep(tmp),
        "arcep_eligibilite": eligibilite(),
        "arcep_immeubles": base_imb(),
        "ban": ban(),
    }
    paths = {}
    for source in sources(base_urls=f"*={mirror.url}"):
        path = source.url[len(mirror.url) :]
        mirror.files[path] = bodies[source.id]
        paths[source.id] = path
    return paths
