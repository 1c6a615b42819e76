"""NAF rév.2 codes of the digital economy, their sectors and INSEE headcount classes.

The default "numérique" set is the OECD ICT sector as INSEE defines it (groups 26.1
to 26.4, 26.8, 46.5, 58.2, 61, 62, 63.1 and 95.1). A wider set adds content and
digital-adjacent activities some planners count in; it is an option, never the default.
"""

from __future__ import annotations

# sector key -> (NAF prefixes, French label, English label, colour)
# Colours: a palette checked for colour-blind readers (tests/test_palette.py): every
# two sectors differ (CIEDE2000 >= 12) in normal, protan, deutan and tritan vision,
# and no colour of another point layer is close to one of them.
SECTORS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "ict_manufacturing": (
        ("26.1", "26.2", "26.3", "26.4", "26.8"),
        "Industrie électronique et TIC",
        "Electronics and ICT manufacturing",
        "#666633",
    ),
    "ict_trade": (("46.5",), "Commerce de gros TIC", "ICT wholesale", "#919108"),
    "software": (("58.2",), "Édition de logiciels", "Software publishing", "#009E73"),
    "telecom": (("61.",), "Télécommunications", "Telecommunications", "#CC79A7"),
    "it_services": (("62.",), "Services informatiques", "IT services", "#3D3DF5"),
    "data_hosting": (
        ("63.1",),
        "Données et hébergement",
        "Data processing and hosting",
        "#225555",
    ),
    "ict_repair": (("95.1",), "Réparation informatique", "Computer repair", "#BBCC33"),
    "digital_adjacent": (
        (
            "58.1",
            "59.",
            "60.",
            "63.9",
            "73.11",
            "74.10",
            "47.91",
            "71.12",
            "72.1",
            "26.5",
            "28.99",
            "32.50",
        ),
        "Numérique élargi (contenus, e-commerce, deep tech)",
        "Wider digital (content, e-commerce, deep tech)",
        "#66CCEE",
    ),
    "unknown": ((), "Activité à préciser", "Activity to be confirmed", "#FFFFFF"),
}

ICT_CODES = frozenset(
    {
        "26.11Z",
        "26.12Z",
        "26.20Z",
        "26.30Z",
        "26.40Z",
        "26.80Z",
        "46.51Z",
        "46.52Z",
        "58.21Z",
        "58.29A",
        "58.29B",
        "58.29C",
        "61.10Z",
        "61.20Z",
        "61.30Z",
        "61.90Z",
        "62.01Z",
        "62.02A",
        "62.02B",
        "62.03Z",
        "62.09Z",
        "63.11Z",
        "63.12Z",
        "95.11Z",
        "95.12Z",
    }
)

HEADCOUNT_CLASSES: dict[str, tuple[str, str, int, int]] = {
    # code: (French label, English label, low, high) in employees
    "NN": ("Unité non employeuse", "No employees", 0, 0),
    "00": ("0 salarié au 31/12", "0 employees on 31 Dec", 0, 0),
    "01": ("1 ou 2 salariés", "1 or 2 employees", 1, 2),
    "02": ("3 à 5 salariés", "3 to 5 employees", 3, 5),
    "03": ("6 à 9 salariés", "6 to 9 employees", 6, 9),
    "11": ("10 à 19 salariés", "10 to 19 employees", 10, 19),
    "12": ("20 à 49 salariés", "20 to 49 employees", 20, 49),
    "21": ("50 à 99 salariés", "50 to 99 employees", 50, 99),
    "22": ("100 à 199 salariés", "100 to 199 employees", 100, 199),
    "31": ("200 à 249 salariés", "200 to 249 employees", 200, 249),
    "32": ("250 à 499 salariés", "250 to 499 employees", 250, 499),
    "41": ("500 à 999 salariés", "500 to 999 employees", 500, 999),
    "42": ("1 000 à 1 999 salariés", "1,000 to 1,999 employees", 1000, 1999),
    "51": ("2 000 à 4 999 salariés", "2,000 to 4,999 employees", 2000, 4999),
    "52": ("5 000 à 9 999 salariés", "5,000 to 9,999 employees", 5000, 9999),
    "53": ("10 000 salariés et plus", "10,000 employees or more", 10000, 10000),
}


def sector_of(naf_code: str | None) -> str:
    """Return the sector key of a NAF rév.2 code (``62.01Z`` -> ``it_services``)."""
    code = (naf_code or "").strip().upper()
    if not code:
        return "unknown"
    if len(code) == 5 and "." not in code:  # "6201Z" as some files write it
        code = f"{code[:2]}.{code[2:]}"
    for key, (prefixes, *_rest) in SECTORS.items():
        if prefixes and code.startswith(prefixes):
            return key
    return "digital_adjacent"


# Official NAF rév.2 wording of the ICT sub-classes (OPEN-DATA.md §1.5).
NAF_LABELS = {
    "26.11Z": "Fabrication de composants électroniques",
    "26.12Z": "Fabrication de cartes électroniques assemblées",
    "26.20Z": "Fabrication d'ordinateurs et d'équipements périphériques",
    "26.30Z": "Fabrication d'équipements de communication",
    "26.40Z": "Fabrication de produits électroniques grand public",
    "26.80Z": "Fabrication de supports magnétiques et optiques",
    "46.51Z": "Commerce de gros d'ordinateurs, d'équipements informatiques "
    "périphériques et de logiciels",
    "46.52Z": "Commerce de gros de composants et d'équipements électroniques et de "
    "télécommunication",
    "58.21Z": "Édition de jeux électroniques",
    "58.29A": "Édition de logiciels système et de réseau",
    "58.29B": "Édition de logiciels outils de développement et de langages",
    "58.29C": "Édition de logiciels applicatifs",
    "61.10Z": "Télécommunications filaires",
    "61.20Z": "Télécommunications sans fil",
    "61.30Z": "Télécommunications par satellite",
    "61.90Z": "Autres activités de télécommunication",
    "62.01Z": "Programmation informatique",
    "62.02A": "Conseil en systèmes et logiciels informatiques",
    "62.02B": "Tierce maintenance de systèmes et d'applications informatiques",
    "62.03Z": "Gestion d'installations informatiques",
    "62.09Z": "Autres activités informatiques",
    "63.11Z": "Traitement de données, hébergement et activités connexes",
    "63.12Z": "Portails Internet",
    "95.11Z": "Réparation d'ordinateurs et d'équipements périphériques",
    "95.12Z": "Réparation d'équipements de communication",
}

# The optional wider "numérique élargi" set: content, media and digital-adjacent
# activities some planners count in (INSEE's TCSI aggregate goes further).
WIDE_PREFIXES = ("58.1", "59.", "60.", "63.9", "73.11", "74.10")


def in_digital_set(code: str, wide: bool = False) -> bool:
    """True when a NAF rév.2 code is in the ICT set (or the wider set)."""
    return code in ICT_CODES or (wide and code.startswith(WIDE_PREFIXES))
