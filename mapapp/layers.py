"""Layer registry: what each layer holds, how it is validated, styled and shown.

Every built-in layer is a :class:`LayerSpec` registered with :func:`register`, the
same path a new layer would take. Loading a seed file validates it against its spec
and reports every problem with the file, the feature and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape

from .errors import NotFound, Problem, ValidationError
from .naf import HEADCOUNT_CLASSES, SECTORS

Text = dict[str, str]  # {"fr": ..., "en": ...}


def tr(text: Text | str | None, lang: str) -> str:
    """Resolve a ``{fr, en}`` pair: the asked language, else French, else any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("fr") or next(iter(text.values()), "")


@dataclass(frozen=True)
class Field:
    """One attribute of a layer."""

    name: str
    type: str  # "str", "int", "float", "bool"
    label: Text
    required: bool = False
    choices: dict[str, Text] | None = None  # allowed values and their labels
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Category:
    """A legend entry: the value of the layer's category field, label and colour."""

    value: str
    label: Text
    color: str


@dataclass(frozen=True)
class LayerSpec:
    """Everything the app knows about one layer."""

    name: str
    title: Text
    geometry: str  # "Point" or "Polygon" (Polygon accepts MultiPolygon)
    fields: tuple[Field, ...]
    popup: tuple[str, ...]
    category_field: str | None = None
    categories: tuple[Category, ...] = ()
    color: str = "#3388ff"
    public: bool = True
    publishable: bool = False  # has a `published` flag filtering the public view
    cluster: bool = False
    editable: bool = False  # planners edit it on the map (others come from imports)
    label_field: str = "name"  # the field that names a feature (popup title, search)

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def color_of(self, value: object) -> str:
        """Colour of a category value, falling back to the layer colour."""
        for c in self.categories:
            if c.value == value:
                return c.color
        return self.color


REGISTRY: dict[str, LayerSpec] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a layer to the registry (built-in layers use this too)."""
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> LayerSpec:
    """Return a registered layer, or raise :class:`NotFound`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise NotFound(f"unknown layer {name!r}") from None


# --- fields shared by every layer ------------------------------------------------

PRECISIONS = {
    "exact": {"fr": "exacte", "en": "exact"},
    "address": {"fr": "à l'adresse", "en": "address"},
    "approximate": {"fr": "approximative", "en": "approximate"},
}

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
)
# The identity of a zone, shared by the fibre zones and the reference zones.
ZONE_FIELDS = (
    Field("zone_code", "str", {"fr": "Code de zone", "en": "Zone code"}, required=True),
    Field("zone_name", "str", {"fr": "Zone", "en": "Zone"}, required=True),
)
PUBLISHED = Field("published", "bool", {"fr": "Publié", "en": "Published"})


def _choices(table: dict[str, tuple]) -> dict[str, Text]:
    return {k: {"fr": v[0], "en": v[1]} for k, v in table.items()}


def _categories(table: dict[str, tuple[str, str, str]]) -> tuple[Category, ...]:
    return tuple(
        Category(k, {"fr": fr, "en": en}, c) for k, (fr, en, c) in table.items()
    )


SECTOR_TABLE = {k: (fr, en, colour) for k, (_p, fr, en, colour) in SECTORS.items()}

COWORKING_STATUS = {
    "open": ("Ouvert", "Open", "#1a9850"),
    "under_construction": ("En travaux", "Under construction", "#fdae61"),
    "planned": ("Programmé", "Planned", "#f46d43"),
    "proposed": ("Proposé", "Proposed", "#9e0142"),
    "closed": ("Fermé", "Closed", "#999999"),
}

SCHOOL_KINDS = {
    "university": (
        "Université (UFR, campus)",
        "University (faculty, campus)",
        "#2c7bb6",
    ),
    "iut": ("IUT", "University institute of technology", "#00a6ca"),
    "engineering_school": ("École d'ingénieurs", "Engineering school", "#00ccbc"),
    "art_school": ("École d'art et de design", "Art and design school", "#90eb9d"),
    "lycee": ("Lycée", "Lycée (upper secondary)", "#f29e2e"),
    "training_centre": ("Centre de formation", "Training centre", "#d7191c"),
    "distance_learning": ("Enseignement à distance", "Distance learning", "#7b3294"),
}

CONTEXT_KINDS = {
    "station": ("Gare", "Railway station", "#333333"),
    "data_centre": ("Centre de données", "Data centre", "#b2182b"),
    "technopole": ("Technopole", "Technology park", "#4d9221"),
    "research": ("Recherche", "Research", "#5e3c99"),
    "network": ("Réseau", "Network", "#e08214"),
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
    (0.0, 0.25, "< 25 %", "#f0f9e8"),
    (0.25, 0.50, "25 – 50 %", "#bae4bc"),
    (0.50, 0.80, "50 – 80 %", "#7bccc4"),
    (0.80, 0.95, "80 – 95 %", "#43a2ca"),
    (0.95, 1.01, "≥ 95 %", "#0868ac"),
)


def coverage_class(coverage: float | None) -> int | None:
    """Index of the coverage class of a share (0..1), or None when unknown."""
    if coverage is None or (isinstance(coverage, float) and math.isnan(coverage)):
        return None
    for i, (low, high, _label, _color) in enumerate(COVERAGE_CLASSES):
        if low <= coverage < high:
            return i
    return len(COVERAGE_CLASSES) - 1


def _label(fr: str, en: str) -> Text:
    return {"fr": fr, "en": en}


register(
    LayerSpec(
        name="companies",
        title=_label("Entreprises du numérique", "Digital companies"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            Field("name", "str", _label("Nom", "Name"), required=True),
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
            Field("address", "str", _label("Adresse", "Address")),
            Field("commune_code", "str", _label("Code commune", "Commune code")),
            Field("website", "str", _label("Site web", "Website")),
        ),
        popup=(
            "activity",
            "sector",
            "naf_code",
            "headcount_class",
            "address",
            "website",
        ),
        category_field="sector",
        categories=_categories(SECTOR_TABLE),
        color="#2166ac",
        cluster=True,
    )
)

register(
    LayerSpec(
        name="coworking",
        title=_label("Coworking et tiers-lieux", "Coworking and third places"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            Field("name", "str", _label("Nom", "Name"), required=True),
            Field(
                "kind",
                "str",
                _label("Type", "Type"),
                required=True,
                choices=_choices(COWORKING_KINDS),
            ),
            Field(
                "status",
                "str",
                _label("État", "Status"),
                required=True,
                choices={k: _label(v[0], v[1]) for k, v in COWORKING_STATUS.items()},
            ),
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
        color="#f46d43",
        publishable=True,
        editable=True,
    )
)

register(
    LayerSpec(
        name="schools",
        title=_label("Écoles et formations", "Schools and training"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            Field("name", "str", _label("Nom", "Name"), required=True),
            Field("uai", "str", _label("UAI", "UAI")),
            Field(
                "kind",
                "str",
                _label("Type", "Type"),
                required=True,
                choices={k: _label(v[0], v[1]) for k, v in SCHOOL_KINDS.items()},
            ),
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
        color="#2c7bb6",
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
    )
)

register(
    LayerSpec(
        name="context",
        title=_label("Repères", "Landmarks"),
        geometry="Point",
        fields=COMMON_FIELDS
        + (
            Field("name", "str", _label("Nom", "Name"), required=True),
            Field(
                "kind",
                "str",
                _label("Type", "Type"),
                required=True,
                choices={k: _label(v[0], v[1]) for k, v in CONTEXT_KINDS.items()},
            ),
            Field("description", "str", _label("Description", "Description")),
            Field("address", "str", _label("Adresse", "Address")),
            Field("website", "str", _label("Site web", "Website")),
        ),
        popup=("kind", "description", "address", "website"),
        category_field="kind",
        categories=_categories(CONTEXT_KINDS),
        color="#333333",
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
            Field("name", "str", _label("Nom", "Name"), required=True),
            Field(
                "status",
                "str",
                _label("État", "Status"),
                required=True,
                choices={k: _label(v[0], v[1]) for k, v in PERIMETER_STATUS.items()},
            ),
            Field("description", "str", _label("Description", "Description")),
            PUBLISHED,
        ),
        popup=("status", "description"),
        category_field="status",
        categories=_categories(PERIMETER_STATUS),
        color="#6a3d9a",
        publishable=True,
        editable=True,
    )
)


# --- validation ------------------------------------------------------------------

_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _check_value(spec_field: Field, value: object) -> str | None:
    """Return what is wrong with one value, or None."""
    expected = _TYPES[spec_field.type]
    if isinstance(value, bool) and spec_field.type != "bool":
        return f"expected {spec_field.type}, got a boolean"
    if not isinstance(value, expected):
        return f"expected {spec_field.type}, got {type(value).__name__} {value!r}"
    if isinstance(value, float) and math.isnan(value):
        return "not a number"
    if spec_field.choices is not None and value not in spec_field.choices:
        allowed = ", ".join(spec_field.choices)
        return f"{value!r} is not one of: {allowed}"
    if spec_field.minimum is not None and value < spec_field.minimum:
        return f"{value} is below the minimum {spec_field.minimum}"
    if spec_field.maximum is not None and value > spec_field.maximum:
        return f"{value} is above the maximum {spec_field.maximum}"
    return None


def _check_geometry(
    geom, spec: LayerSpec, area: tuple[float, float, float, float]
) -> tuple[str, str] | None:
    """Return (field, message) for a bad geometry, or None."""
    if geom is None or geom.is_empty:
        return "geometry", "missing or empty geometry"
    kinds = {"Point": {"Point"}, "Polygon": {"Polygon", "MultiPolygon"}}[spec.geometry]
    if geom.geom_type not in kinds:
        return "geometry", f"expected {spec.geometry}, got {geom.geom_type}"
    if not geom.is_valid:
        return "geometry", f"invalid geometry: {shapely.is_valid_reason(geom)}"
    minx, miny, maxx, maxy = area
    gx0, gy0, gx1, gy1 = geom.bounds
    if gx0 >= minx and gx1 <= maxx and gy0 >= miny and gy1 <= maxy:
        return None
    if gy0 >= minx and gy1 <= maxx and gx0 >= miny and gx1 <= maxy:
        return "geometry", (
            "latitude and longitude look swapped: GeoJSON wants "
            f"[longitude, latitude], got x={gx0:.5f}, y={gy0:.5f}"
        )
    return "geometry", (
        f"outside the study area {area}: bounds "
        f"({gx0:.5f}, {gy0:.5f}, {gx1:.5f}, {gy1:.5f})"
    )


def validate_records(
    records: list[dict],
    spec: LayerSpec,
    area: tuple[float, float, float, float],
    source: str,
) -> list[Problem]:
    """Check records ``{"id", "properties", "geometry"}`` against ``spec``.

    Returns every problem (an empty list when all is well); ``source`` names the
    file or request the records came from.
    """
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    known = set(spec.field_names)
    for index, rec in enumerate(records):
        props = rec["properties"]
        fid = props.get("id")
        label = f"#{index + 1}" + (f" (id {fid!r})" if fid else "")
        if props.get("name"):
            label += f" {props['name']!r}"

        def add(field_name: str, message: str, label: str = label) -> None:
            problems.append(Problem(source, label, field_name, message))

        for f in spec.fields:
            value = props.get(f.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if f.required:
                    add(f.name, "required field is missing or empty")
                continue
            wrong = _check_value(f, value)
            if wrong:
                add(f.name, wrong)
        for extra in sorted(set(props) - known):
            add(extra, f"unknown field for layer {spec.name!r}")
        bad_geom = _check_geometry(rec["geometry"], spec, area)
        if bad_geom:
            add(*bad_geom)
        if spec.name == "fibre":
            problems.extend(_check_fibre(props, source, label))
        if isinstance(fid, str) and fid:
            if fid in seen:
                add("id", f"duplicate id, already used by feature #{seen[fid] + 1}")
            else:
                seen[fid] = index
    return problems


def _check_fibre(props: dict, source: str, label: str) -> list[Problem]:
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
        return [
            Problem(
                source,
                label,
                "ftth_premises",
                f"{ftth} FTTH premises exceed the {premises} premises",
            )
        ]
    if premises and abs(ftth / premises - cov) > 0.005:
        return [
            Problem(
                source,
                label,
                "coverage",
                f"coverage {cov} does not match ftth_premises/premises = "
                f"{ftth / premises:.3f}",
            )
        ]
    return []


def records_from_geojson(data: dict, source: str) -> list[dict]:
    """Turn a GeoJSON FeatureCollection into records, keeping raw property types."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationError(
            [Problem(source, "-", "type", "expected a GeoJSON FeatureCollection")]
        )
    records = []
    for index, feat in enumerate(data.get("features") or []):
        props = dict(feat.get("properties") or {})
        if "id" not in props and feat.get("id") is not None:
            props["id"] = str(feat["id"])
        try:
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
        except (ValueError, TypeError, KeyError, AttributeError, ShapelyError) as exc:
            raise ValidationError(
                [
                    Problem(
                        source,
                        f"#{index + 1}",
                        "geometry",
                        f"unreadable geometry: {exc}",
                    )
                ]
            ) from None
        records.append({"properties": props, "geometry": geom})
    return records


def to_frame(records: list[dict], spec: LayerSpec) -> gpd.GeoDataFrame:
    """Build the layer's GeoDataFrame (one column per spec field) from records."""
    rows = [{f: rec["properties"].get(f) for f in spec.field_names} for rec in records]
    geoms = [rec["geometry"] for rec in records]
    frame = gpd.GeoDataFrame(
        rows, columns=spec.field_names, geometry=geoms, crs="EPSG:4326"
    )
    return frame


def load_layer_file(
    path: Path, spec: LayerSpec, area: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    """Read and validate one seed GeoJSON file; raise ValidationError on any problem."""
    source = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            [Problem(source, "-", "-", f"cannot read: {exc}")]
        ) from None
    records = records_from_geojson(data, source)
    problems = validate_records(records, spec, area, source)
    if problems:
        raise ValidationError(problems)
    return to_frame(records, spec)


def load_seed(
    data_dir: Path, area: tuple[float, float, float, float]
) -> dict[str, gpd.GeoDataFrame]:
    """Load every registered layer from ``<data_dir>/<name>.geojson``, all validated.

    Problems of all files are gathered before raising, so one run lists them all.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[Problem] = []
    for name, spec in REGISTRY.items():
        path = Path(data_dir) / f"{name}.geojson"
        if not path.is_file():
            problems.append(
                Problem(path.name, "-", "-", f"missing seed file in {data_dir}")
            )
            continue
        try:
            layers[name] = load_layer_file(path, spec, area)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    return layers


def all_specs() -> list[LayerSpec]:
    """The registered layers in registration order."""
    return list(REGISTRY.values())


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
    )
)
