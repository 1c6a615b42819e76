"""The built-in layers, registered with the same :func:`register` a new layer uses.

Companies, coworking places, schools, fibre zones, landmarks, candidate perimeters of
the digital quarter, and reference zones (IRIS, communes) to aggregate figures into.
"""

from __future__ import annotations

from ..naf import HEADCOUNT_CLASSES, SECTORS
from .model import LICENCES, Category, Field, LayerSpec, Text, ValueClass, register

# --- fields shared by every layer ------------------------------------------------

# How well a feature is placed (geodata/SOURCES.md):
# - exact: coordinates given by the source, or a house number geocoded;
# - street: on the street the source names, the number unknown;
# - approximate: on a landmark, quarter or technopole the source names (notes say
#   which and the margin);
# - commune: only the commune is known; the geometry is the commune's anchor, never
#   drawn as a point, and point analyses leave the feature out (and count it).
PRECISIONS = {
    "exact": {"fr": "exacte", "en": "exact"},
    "street": {"fr": "à la rue", "en": "street"},
    "approximate": {"fr": "approximative", "en": "approximate"},
    "commune": {"fr": "au niveau de la commune", "en": "commune level"},
}
# Values of former releases and what they mean now (a store written before keeps
# working: legacy_precision() maps them when read back).
LEGACY_PRECISIONS = {"address": "exact"}

COMMON_FIELDS = (
    Field("id", "str", {"fr": "Identifiant", "en": "Identifier"}, required=True),
    Field("source", "str", {"fr": "Source", "en": "Source"}, required=True),
    Field("source_url", "str", {"fr": "Lien vers la source", "en": "Source link"}),
    Field(
        "source_date",
        "str",
        {"fr": "Date de la source", "en": "Source date"},
        required=True,
    ),
    Field(
        "precision",
        "str",
        {"fr": "Précision de la localisation", "en": "Location precision"},
        required=True,
        choices=PRECISIONS,
    ),
    Field(
        "illustrative",
        "bool",
        {"fr": "Valeurs illustratives", "en": "Illustrative values"},
    ),
    Field("notes", "str", {"fr": "Remarques", "en": "Notes"}),
    # Only where a feature's licence differs from its layer's (stations from SNCF's
    # open data in the landmarks, say; LayerSpec.licence is the layer's).
    Field(
        "licence",
        "str",
        {"fr": "Licence", "en": "Licence"},
        choices={k: {"fr": v["fr"], "en": v["en"]} for k, v in LICENCES.items()},
    ),
)
# The identity of a zone, shared by the fibre zones and the reference zones.
ZONE_FIELDS = (
    Field("zone_code", "str", {"fr": "Code de zone", "en": "Zone code"}, required=True),
    Field("zone_name", "str", {"fr": "Zone", "en": "Zone"}, required=True),
)
PUBLISHED = Field("published", "bool", {"fr": "Publié", "en": "Published"})
NAME = Field("name", "str", {"fr": "Nom", "en": "Name"}, required=True)


def _choices(table: dict[str, tuple]) -> dict[str, Text]:
    """Labels of a table of values ``{value: (French, English, …)}``."""
    return {k: {"fr": v[0], "en": v[1]} for k, v in table.items()}


def kind_field(table: dict[str, tuple]) -> Field:
    """The required ``kind`` of a layer, one of the values of ``table``."""
    return Field("kind", "str", _label("Type", "Type"), True, _choices(table))


def status_field(table: dict[str, tuple]) -> Field:
    """The required ``status`` of a layer, one of the values of ``table``."""
    return Field("status", "str", _label("État", "Status"), True, _choices(table))


def _categories(table: dict[str, tuple[str, str, str]]) -> tuple[Category, ...]:
    return tuple(
        Category(k, {"fr": fr, "en": en}, c) for k, (fr, en, c) in table.items()
    )


SECTOR_TABLE = {k: (fr, en, colour) for k, (_p, fr, en, colour) in SECTORS.items()}

HEADCOUNT_SOURCES = {
    "register": {"fr": "Répertoire SIRENE (INSEE)", "en": "SIRENE register (INSEE)"},
    "press": {"fr": "Article de presse", "en": "Press article"},
}

# A company is active when the SIRENE register lists it as active or a source of the
# last two years shows it at work; otherwise it is not confirmed since its source's
# year (the card says which).
COMPANY_STATUS = {
    "active": {"fr": "En activité", "en": "Active"},
    "unconfirmed": {
        "fr": "Non confirmée depuis la source",
        "en": "Not confirmed since",
    },
}

# Category colours of the point layers: a palette checked for colour-blind readers
# (tests/test_palette.py: CIEDE2000 >= 12 between the colours of a layer in normal,
# protan, deutan and tritan vision, and between any two layers' colours); each point
# layer also has its own symbol, so colour is never the only cue (WCAG 1.4.1).
COWORKING_STATUS = {
    "open": ("Ouvert", "Open", "#222277"),
    "under_construction": ("En travaux", "Under construction", "#E1BE6A"),
    "planned": ("Programmé", "Planned", "#D55E00"),
    "proposed": ("Proposé", "Proposed", "#663333"),
    "closed": ("Fermé", "Closed", "#BBBBBB"),
}

SCHOOL_KINDS = {
    "university": (
        "Université (UFR, campus)",
        "University (faculty, campus)",
        "#006CD1",
    ),
    "iut": ("IUT", "University institute of technology", "#3DF5F5"),
    "engineering_school": ("École d'ingénieurs", "Engineering school", "#86ACF9"),
    "art_school": ("École d'art et de design", "Art and design school", "#F9AC86"),
    "lycee": ("Lycée", "Lycée (upper secondary)", "#DA0B50"),
    "training_centre": ("Centre de formation", "Training centre", "#225522"),
    "distance_learning": ("Enseignement à distance", "Distance learning", "#77225B"),
}

CONTEXT_KINDS = {
    "station": ("Gare", "Railway station", "#000000"),
    "data_centre": ("Centre de données", "Data centre", "#DA0B0B"),
    "technopole": ("Technopole", "Technology park", "#D286F9"),
    "research": ("Recherche", "Research", "#555555"),
    "network": ("Réseau", "Network", "#F98686"),
}

PERIMETER_STATUS = {
    "candidate": ("Candidat", "Candidate", "#6a3d9a"),
    "retained": ("Retenu", "Retained", "#33a02c"),
    "rejected": ("Écarté", "Rejected", "#999999"),
}

COWORKING_KINDS = {
    "coworking": ("Espace de coworking", "Coworking space"),
    "tiers_lieu": ("Tiers-lieu", "Third place"),
    "incubator": ("Incubateur", "Incubator"),
    "accelerator": ("Accélérateur", "Accelerator"),
    "innovation_centre": ("Centre d'innovation", "Innovation centre"),
    "fablab": ("Fablab", "Fablab"),
}

# Fibre coverage classes in the style of ARCEP's maps (share of premises with FTTH).
COVERAGE_CLASSES = (
    ValueClass(0.0, 0.25, "< 25 %", "#f0f9e8"),
    ValueClass(0.25, 0.50, "25 – 50 %", "#bae4bc"),
    ValueClass(0.50, 0.80, "50 – 80 %", "#7bccc4"),
    ValueClass(0.80, 0.95, "80 – 95 %", "#43a2ca"),
    ValueClass(0.95, 1.01, "≥ 95 %", "#0868ac"),
)


def check_fibre(props: dict) -> list[tuple[str, str, dict]]:
    """Cross-field checks of a fibre zone: FTTH premises <= premises, coverage."""
    premises, ftth, cov = (
        props.get(k) for k in ("premises", "ftth_premises", "coverage")
    )
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool)
        for v in (premises, ftth, cov)
    ):
        return []
    if ftth > premises:
        return [("ftth_premises", "ftth_exceeds", {"ftth": ftth, "premises": premises})]
    if premises and abs(ftth / premises - cov) > 0.005:
        ratio = round(ftth / premises, 3)
        return [("coverage", "coverage_mismatch", {"coverage": cov, "ratio": ratio})]
    return []


def _label(fr: str, en: str) -> Text:
    return {"fr": fr, "en": en}


register(
    LayerSpec(
        name="companies",
        title=_label("Entreprises du numérique", "Digital companies"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            NAME,
            Field("siret", "str", _label("SIRET", "SIRET")),
            Field("siren", "str", _label("SIREN", "SIREN")),
            Field("naf_code", "str", _label("Code NAF", "NAF code")),
            Field("naf_label", "str", _label("Activité (NAF)", "Activity (NAF)")),
            Field(
                "naf_inferred",
                "bool",
                _label(
                    "Code NAF déduit de l'activité",
                    "NAF code inferred from the activity",
                ),
            ),
            Field(
                "sector",
                "str",
                _label("Secteur", "Sector"),
                required=True,
                choices={k: _label(v[0], v[1]) for k, v in SECTOR_TABLE.items()},
            ),
            Field("activity", "str", _label("Activité", "Activity")),
            Field(
                "headcount_class",
                "str",
                _label("Tranche d'effectif", "Headcount class"),
                choices=_choices(HEADCOUNT_CLASSES),
            ),
            # Where the headcount class comes from: the SIRENE register's band, or a
            # press article's figure put in a band (estimated jobs count the
            # register's bands only, unless the planner asks otherwise).
            Field(
                "headcount_source",
                "str",
                _label("Source de l'effectif", "Headcount source"),
                choices=HEADCOUNT_SOURCES,
            ),
            Field(
                "headcount_date",
                "str",
                _label("Date de l'effectif", "Headcount as of"),
            ),
            Field(
                "status",
                "str",
                _label("État", "Status"),
                choices=COMPANY_STATUS,
            ),
            # SIRENE's dateCreationEtablissement (YYYY-MM-DD), or a year from a source
            Field(
                "creation_date",
                "str",
                _label("Date de création", "Creation date"),
            ),
            Field("address", "str", _label("Adresse", "Address")),
            Field("commune_code", "str", _label("Code commune", "Commune code")),
            Field("website", "str", _label("Site web", "Website")),
        ),
        popup=(
            "activity",
            "sector",
            "naf_code",
            "headcount_class",
            "headcount_source",
            "status",
            "address",
            "website",
        ),
        category_field="sector",
        categories=_categories(SECTOR_TABLE),
        color="#3D3DF5",
        cluster=True,
        symbol="circle",
        filters=("sector", "headcount_class", "commune_code"),
        match_on=("siret",),
        licence="lo-2.0",
        attribution=_label(
            "mapapp, d'après les sources citées pour chaque entreprise ; "
            "imports : INSEE, répertoire SIRENE",
            "mapapp, from the sources cited for each company; "
            "imports: INSEE, SIRENE register",
        ),
        search_fields=("activity",),
    )
)

register(
    LayerSpec(
        name="coworking",
        title=_label("Coworking et tiers-lieux", "Coworking and third places"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            NAME,
            kind_field(COWORKING_KINDS),
            status_field(COWORKING_STATUS),
            Field(
                "desks",
                "int",
                _label("Postes de travail", "Desks"),
                minimum=0,
                maximum=5000,
            ),
            Field("opening", "str", _label("Ouverture", "Opening")),
            Field("operator", "str", _label("Gestionnaire", "Operator")),
            Field("address", "str", _label("Adresse", "Address")),
            Field("website", "str", _label("Site web", "Website")),
            PUBLISHED,
        ),
        popup=("kind", "status", "opening", "desks", "operator", "address", "website"),
        category_field="status",
        categories=_categories(COWORKING_STATUS),
        color="#222277",
        symbol="square",
        publishable=True,
        editable=True,
        filters=("status",),
        licence="lo-2.0",
        attribution=_label(
            "mapapp, d'après les sources citées ; propositions illustratives de mapapp",
            "mapapp, from the sources cited; illustrative proposals by mapapp",
        ),
        search_fields=("operator",),
    )
)

register(
    LayerSpec(
        name="schools",
        title=_label("Écoles et formations", "Schools and training"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            NAME,
            Field("uai", "str", _label("UAI", "UAI")),
            kind_field(SCHOOL_KINDS),
            Field(
                "status",
                "str",
                _label("État", "Status"),
                required=True,
                choices={
                    "open": _label("Ouvert", "Open"),
                    "planned": _label("Programmé", "Planned"),
                    "unknown": _label("À vérifier", "To be checked"),
                },
            ),
            Field(
                "public_private",
                "str",
                _label("Statut", "Sector"),
                choices={
                    "public": _label("Public", "Public"),
                    "private": _label("Privé", "Private"),
                },
            ),
            Field(
                "students",
                "int",
                _label("Élèves ou étudiants", "Students"),
                minimum=0,
                maximum=100000,
            ),
            Field(
                "digital_programmes",
                "str",
                _label("Formations numériques", "Digital programmes"),
            ),
            Field("address", "str", _label("Adresse", "Address")),
            Field("website", "str", _label("Site web", "Website")),
        ),
        popup=(
            "kind",
            "status",
            "digital_programmes",
            "students",
            "address",
            "website",
        ),
        category_field="kind",
        categories=_categories(SCHOOL_KINDS),
        color="#006CD1",
        symbol="triangle",
        filters=("kind",),
        match_on=("uai",),
        licence="lo-2.0",
        attribution=_label(
            "mapapp, d'après les sources citées ; imports : ministère de "
            "l'Éducation nationale, ONISEP, MESR",
            "mapapp, from the sources cited; imports: Ministry of Education, "
            "ONISEP, MESR",
        ),
        search_fields=("digital_programmes",),
    )
)

register(
    LayerSpec(
        name="fibre",
        title=_label("Couverture fibre (FttH)", "Fibre coverage (FTTH)"),
        geometry="Polygon",
        fields=COMMON_FIELDS
        + ZONE_FIELDS
        + (
            Field(
                "premises",
                "int",
                _label("Locaux", "Premises"),
                required=True,
                minimum=0,
            ),
            Field(
                "ftth_premises",
                "int",
                _label("Locaux raccordables FttH", "FTTH-ready premises"),
                required=True,
                minimum=0,
            ),
            Field(
                "coverage",
                "float",
                _label("Taux de couverture", "Coverage"),
                required=True,
                minimum=0,
                maximum=1,
            ),
            Field(
                "as_of",
                "str",
                _label("Date des chiffres", "Figures as of"),
                required=True,
            ),
        ),
        popup=("zone_code", "premises", "ftth_premises", "coverage", "as_of"),
        category_field=None,
        label_field="zone_name",
        color="#43a2ca",
        class_field="coverage",
        classes=COVERAGE_CLASSES,
        check=check_fibre,
        filters=("coverage_class",),
        licence="lo-2.0",
        attribution=_label(
            "Contours : IGN – Admin Express COG 2018, INSEE (via "
            "gregoiredavid/france-geojson) ; chiffres illustratifs de mapapp ; "
            "imports : ARCEP",
            "Outlines: IGN – Admin Express COG 2018, INSEE (via "
            "gregoiredavid/france-geojson); illustrative figures by mapapp; "
            "imports: ARCEP",
        ),
    )
)

register(
    LayerSpec(
        name="context",
        title=_label("Repères", "Landmarks"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            NAME,
            kind_field(CONTEXT_KINDS),
            Field("description", "str", _label("Description", "Description")),
            Field("address", "str", _label("Adresse", "Address")),
            Field("website", "str", _label("Site web", "Website")),
        ),
        popup=("kind", "description", "address", "website"),
        category_field="kind",
        categories=_categories(CONTEXT_KINDS),
        color="#000000",
        symbol="diamond",
        licence="lo-2.0",
        attribution=_label(
            "mapapp, d'après les sources citées ; gares : SNCF Voyageurs, "
            "référentiel des gares de voyageurs",
            "mapapp, from the sources cited; stations: SNCF Voyageurs, "
            "passenger stations reference",
        ),
    )
)

register(
    LayerSpec(
        name="perimeters",
        title=_label(
            "Périmètres candidats du quartier numérique",
            "Candidate digital-quarter perimeters",
        ),
        geometry="Polygon",
        fields=COMMON_FIELDS
        + (
            NAME,
            status_field(PERIMETER_STATUS),
            Field("description", "str", _label("Description", "Description")),
            PUBLISHED,
        ),
        popup=("status", "description"),
        category_field="status",
        categories=_categories(PERIMETER_STATUS),
        color="#6a3d9a",
        publishable=True,
        editable=True,
        licence="cc0-1.0",
        attribution=_label(
            "mapapp (périmètres illustratifs tracés pour la discussion)",
            "mapapp (illustrative perimeters drawn for discussion)",
        ),
    )
)


register(
    LayerSpec(
        name="zones",
        title=_label(
            "Zones de référence (IRIS, communes)", "Reference zones (IRIS, communes)"
        ),
        geometry="Polygon",
        fields=COMMON_FIELDS
        + ZONE_FIELDS
        + (
            Field(
                "zone_kind",
                "str",
                _label("Type de zone", "Kind of zone"),
                required=True,
                choices={
                    "iris": _label("IRIS", "IRIS"),
                    "commune": _label("Commune", "Commune"),
                    "quarter": _label("Quartier", "Quarter"),
                },
            ),
            Field("commune_code", "str", _label("Code commune", "Commune code")),
        ),
        popup=("zone_code", "zone_kind"),
        label_field="zone_name",
        color="#999999",
        public=False,  # contours to aggregate fibre figures into, not a map layer
        licence="lo-2.0",
        attribution=_label(
            "IGN et INSEE (contours IRIS, communes)",
            "IGN and INSEE (IRIS and commune contours)",
        ),
    )
)
