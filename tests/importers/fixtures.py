"""Small files in the exact official layouts (headers as OPEN-DATA.md documents),
written by the tests; the establishments in them are made up for the tests."""

from __future__ import annotations

from pathlib import Path

SIRENE_COLUMNS = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,"
    "trancheEffectifsEtablissement,anneeEffectifsEtablissement,"
    "activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,"
    "numeroVoieEtablissement,indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,"
    "indiceRepetitionDernierNumeroVoieEtablissement,typeVoieEtablissement,"
    "libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,"
    "codeCommuneEtablissement,codeCedexEtablissement,libelleCedexEtablissement,"
    "codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,"
    "coordonneeLambertOrdonneeEtablissement,complementAdresse2Etablissement,"
    "numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,"
    "libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,"
    "libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,"
    "codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,"
    "etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,"
    "enseigne3Etablissement,denominationUsuelleEtablissement,"
    "activitePrincipaleEtablissement,nomenclatureActivitePrincipaleEtablissement,"
    "caractereEmployeurEtablissement,activitePrincipaleNAF25Etablissement"
).split(",")


def sirene_row(
    siret: str,
    etat="A",
    commune="25056",
    naf="62.01Z",
    x="928723.3",
    y="6686324.6",
    name="",
    enseigne="",
    tranche="11",
    voie="RUE",
    libelle="DE LA REPUBLIQUE",
    numero="12",
) -> list[str]:
    values = dict.fromkeys(SIRENE_COLUMNS, "")
    values.update(
        {
            "siren": siret[:9],
            "nic": siret[9:],
            "siret": siret,
            "statutDiffusionEtablissement": "O",
            "dateCreationEtablissement": "2015-03-01",
            "trancheEffectifsEtablissement": tranche,
            "anneeEffectifsEtablissement": "2023",
            "etablissementSiege": "true",
            "numeroVoieEtablissement": numero,
            "typeVoieEtablissement": voie,
            "libelleVoieEtablissement": libelle,
            "codePostalEtablissement": "25000",
            "libelleCommuneEtablissement": "BESANCON",
            "codeCommuneEtablissement": commune,
            "coordonneeLambertAbscisseEtablissement": x,
            "coordonneeLambertOrdonneeEtablissement": y,
            "dateDebut": "2020-01-01",
            "etatAdministratifEtablissement": etat,
            "enseigne1Etablissement": enseigne,
            "denominationUsuelleEtablissement": name,
            "activitePrincipaleEtablissement": naf,
            "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
            "caractereEmployeurEtablissement": "O",
        }
    )
    return [values[c] for c in SIRENE_COLUMNS]


SIRENE_ROWS = [
    sirene_row("81234567800011", name="LOGICIELS DU DOUBS", naf="58.29C"),
    sirene_row(
        "81234567800029",
        enseigne="ATELIER WEB BISONTIN",
        naf="62.01Z",
        x="926094.1",
        y="6687580.5",
        tranche="02",
    ),
    sirene_row("81234567800037", naf="62.02A", tranche="NN"),  # name from the SIREN
    sirene_row("81234567800045", etat="F", name="FERMEE"),  # closed
    sirene_row("81234567800052", naf="47.11F", name="SUPERETTE"),  # not digital
    sirene_row(
        "81234567800060",
        commune="75056",
        name="PARIS SOFT",
        x="652301.6",
        y="6861302.7",
    ),  # another commune
    sirene_row(
        "81234567800078", commune="25999", name="HORS ZONE", x="652301.6", y="6861302.7"
    ),  # a Doubs code but far outside the area
    sirene_row("81234567800086", name="SANS COORDONNEES", x="", y=""),
    sirene_row("81234567800011", name="LOGICIELS DU DOUBS (MAJ)", naf="58.29C"),  # dup
]


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], sep=",", encoding="utf-8"
) -> Path:
    import csv

    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sirene(tmp: Path, **kwargs) -> Path:
    return write_csv(
        tmp / "StockEtablissement_utf8.csv", SIRENE_COLUMNS, SIRENE_ROWS, **kwargs
    )


GEOLOC_HEADER = (
    "siret;x;y;qualite_xy;epsg;plg_qp;plg_iris;plg_zus;plg_qva;"
    "plg_code_commune;distance_precision;qualite_qp;qualite_iris;qualite_zus;"
    "qualite_qva;y_latitude;x_longitude"
).split(";")


def geoloc(tmp: Path) -> Path:
    rows = [
        [
            "81234567800037",
            "928800",
            "6686400",
            "33",
            "2154",
            "HZ",
            "0101",
            "HZ",
            "HZ",
            "25056",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],  # x/y with the row's epsg, quality 33
        [
            "81234567800086",
            "",
            "",
            "11",
            "2154",
            "HZ",
            "0101",
            "HZ",
            "HZ",
            "25056",
            "",
            "",
            "",
            "",
            "",
            "47.2401",
            "6.0301",
        ],  # WGS84 columns
    ]
    return write_csv(
        tmp / "GeolocalisationEtablissement.csv", GEOLOC_HEADER, rows, sep=";"
    )


ANNUAIRE_HEADER = [
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Statut_public_prive",
    "Adresse_1",
    "Adresse_2",
    "Adresse_3",
    "Code_postal",
    "Code_commune",
    "Nom_commune",
    "Code_departement",
    "Code_academie",
    "Code_region",
    "Ecole_maternelle",
    "Ecole_elementaire",
    "Voie_generale",
    "Voie_technologique",
    "Voie_professionnelle",
    "Telephone",
    "Fax",
    "Web",
    "Mail",
    "Restauration",
    "Hebergement",
    "ULIS",
    "Apprentissage",
    "Segpa",
    "Section_arts",
    "Section_cinema",
    "Section_theatre",
    "Section_sport",
    "Section_internationale",
    "Section_europeenne",
    "Lycee_Agricole",
    "Lycee_militaire",
    "Lycee_des_metiers",
    "Post_BAC",
    "Appartenance_Education_Prioritaire",
    "GRETA",
    "SIREN_SIRET",
    "Nombre_d_eleves",
    "Fiche_onisep",
    "position",
    "Type_contrat_prive",
    "Libelle_departement",
    "Libelle_academie",
    "Libelle_region",
    "coordX_origine",
    "coordY_origine",
    "epsg_origine",
    "nom_circonscription",
    "latitude",
    "longitude",
    "precision_localisation",
    "date_ouverture",
    "date_maj_ligne",
    "etat",
    "ministere_tutelle",
    "multi_uai",
    "rpi_concentre",
    "rpi_disperse",
    "code_nature",
    "libelle_nature",
    "Code_type_contrat_prive",
    "PIAL",
    "etablissement_mere",
    "type_rattachement_etablissement_mere",
    "code_circonscription",
    "code_zone_animation_pedagogique",
    "libelle_zone_animation_pedagogique",
    "code_bassin_formation",
    "libelle_bassin_formation",
]


def annuaire_row(
    uai,
    name,
    kind="Lycée",
    commune="25056",
    lat="47.2392",
    lon="6.0133",
    students="2000",
    etat="OUVERT",
    x="",
    y="",
) -> list[str]:
    values = dict.fromkeys(ANNUAIRE_HEADER, "")
    values.update(
        {
            "Identifiant_de_l_etablissement": uai,
            "Nom_etablissement": name,
            "Type_etablissement": kind,
            "Statut_public_prive": "Public",
            "Adresse_1": "1 rue Labbé",
            "Code_postal": "25000",
            "Code_commune": commune,
            "Nom_commune": "Besançon",
            "Nombre_d_eleves": students,
            "latitude": lat,
            "longitude": lon,
            "coordX_origine": x,
            "coordY_origine": y,
            "epsg_origine": "EPSG:2154",
            "etat": etat,
            "Post_BAC": "1",
        }
    )
    return [values[h] for h in ANNUAIRE_HEADER]


def annuaire(tmp: Path, lower=False, encoding="utf-8") -> Path:
    header = [h.lower() for h in ANNUAIRE_HEADER] if lower else ANNUAIRE_HEADER
    rows = [
        annuaire_row("0250011B", "Lycée Jules Haag"),
        annuaire_row(
            "0250012C", "Lycée Pergaud", lat="", lon="", x="928900", y="6688500"
        ),
        annuaire_row("0251234Z", "Ecole du centre", kind="Ecole"),
        annuaire_row("0251235Z", "Lycée fermé", etat="FERME"),
        annuaire_row(
            "0390001A", "Lycée du Jura", commune="39300", lat="46.67", lon="5.55"
        ),
    ]
    return write_csv(
        tmp / "fr-en-annuaire-education.csv", header, rows, sep=";", encoding=encoding
    )


ONISEP_V1 = [
    "code_UAI",
    "n_SIRET",
    "type",
    "nom",
    "sigle",
    "statut",
    "tutelle",
    "université",
    "boîte_postale",
    "adresse",
    "CP",
    "commune",
    "commune_COG",
    "cedex",
    "téléphone",
    "arrondissement",
    "département",
    "académie",
    "région",
    "région__COG",
    "X",
    "Y",
    "début_portes_ouvertes",
    "fin_portes_ouvertes",
    "commentaires_portes_ouvertes",
    "lien_site_onisep_fr",
]
ONISEP_V2 = [
    "code UAI",
    "n° SIRET",
    "type d'établissement",
    "nom",
    "sigle",
    "statut",
    "tutelle",
    "université de rattachement libellé et UAI",
    "université de rattachement ID et URL Onisep",
    "établissements liés libellés",
    "établissements liés URL et ID Onisep",
    "boîte postale",
    "adresse",
    "CP",
    "commune",
    "commune (COG)",
    "cedex",
    "téléphone",
    "arrondissement",
    "département",
    "académie",
    "région",
    "région (COG)",
    "longitude (X)",
    "latitude (Y)",
    "journées portes ouvertes",
    "URL et ID Onisep",
    "date création",
    "date de modification",
]


def onisep(tmp: Path, version=1) -> Path:
    header = ONISEP_V1 if version == 1 else ONISEP_V2
    rows = []
    for uai, kind, name, lon, lat in (
        ("0251215K", "école d'ingénieurs", "SUPMICROTECH-ENSMM", "5.9910", "47.2510"),
        (
            "0251397G",
            "institut universitaire de technologie",
            "IUT Besançon-Vesoul",
            "5.9950",
            "47.2470",
        ),
    ):
        values = dict.fromkeys(header, "")
        values.update(
            {
                header[0]: uai,
                header[2]: kind,
                "nom": name,
                "statut": "public",
                "adresse": "26 rue de l'Épitaphe",
                "CP": "25000",
                "commune": "Besançon",
                header[12 if version == 1 else 15]: "25056",
                header[20 if version == 1 else 23]: lon,
                header[21 if version == 1 else 24]: lat,
            }
        )
        rows.append([values[h] for h in header])
    return write_csv(tmp / f"onisep-v{version}.csv", header, rows, sep=";")


def cartefibre(tmp: Path) -> Path:
    header = (
        "x,y,imb_id,num_voie,cp_no_voie,type_voie,nom_voie,batiment,code_insee,"
        "code_poste,nom_com,catg_loc_imb,imb_etat,pm_ref,pm_etat,code_l331,geom_mod,"
        "type_imb"
    ).split(",")
    rows = []
    # three buildings in the Centre quarter (Q01), one in Planoise (Q09), one far away
    for x, y, cls, state in (
        ("6.0240", "47.2370", "individuel", "deploye"),
        ("6.0245", "47.2372", "entre 2 et 11", "deploye"),
        ("6.0238", "47.2368", "individuel", "cible"),
        ("5.9550", "47.2200", "entre 12 et 35", "deploye"),
        ("2.3500", "48.8500", "individuel", "deploye"),
    ):
        rows.append(
            [
                x,
                y,
                "IMB/25056/X/0001",
                "1",
                "",
                "RUE",
                "TEST",
                "",
                "25056",
                "25000",
                "Besançon",
                cls,
                state,
                "PM1",
                "deploye",
                "FRTE",
                "",
                "PA",
            ]
        )
    return write_csv(tmp / "carte_fibre_immeubles_2026_T2.csv", header, rows)


# The Base Adresse Nationale departmental file (adresses-NN.csv.gz): semicolon CSV,
# 23 columns in the current layout (as read in several public consumers of the
# file); the rows below are made up for the tests, in that layout.
BAN_COLUMNS = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;"
    "code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;"
    "alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;"
    "certification_commune;cad_parcelles"
).split(";")


def ban_row(
    ident: str,
    numero: str,
    street: str,
    commune_code: str,
    commune: str,
    lon: float | str,
    lat: float | str,
    postcode: str = "25000",
    rep: str = "",
) -> list[str]:
    values = dict.fromkeys(BAN_COLUMNS, "")
    values.update(
        {
            "id": ident,
            "id_fantoir": ident.rsplit("_", 1)[0],
            "numero": numero,
            "rep": rep,
            "nom_voie": street,
            "code_postal": postcode,
            "code_insee": commune_code,
            "nom_commune": commune,
            "lon": str(lon),
            "lat": str(lat),
            "type_position": "entrée",
            "libelle_acheminement": commune.upper(),
            "nom_afnor": street.upper(),
            "source_position": "commune",
            "source_nom_voie": "commune",
            "certification_commune": "1",
        }
    )
    return [values[c] for c in BAN_COLUMNS]


BAN_ROWS = [
    ban_row(
        "25056_5230_00012",
        "12",
        "Rue du Luxembourg",
        "25056",
        "Besançon",
        5.95852,
        47.22189,
    ),
    ban_row(
        "25056_5230_00014",
        "14",
        "Rue du Luxembourg",
        "25056",
        "Besançon",
        5.95871,
        47.22201,
    ),
    ban_row(
        "25056_0412_00016",
        "16",
        "Route de Gray",
        "25056",
        "Besançon",
        5.99012,
        47.24731,
        rep="bis",
    ),
    ban_row(
        "25056_0093_00015",
        "15",
        "Avenue des Montboucons",
        "25056",
        "Besançon",
        5.99634,
        47.25402,
    ),
    # a commune straddling nothing: inside the study area
    ban_row(
        "25212_0030_00002",
        "2",
        "Rue de la Mairie",
        "25212",
        "École-Valentin",
        5.98970,
        47.26721,
        postcode="25480",
    ),
    # outside the study area (Pontarlier): dropped with its commune
    ban_row(
        "25462_1180_00001",
        "1",
        "Rue de la République",
        "25462",
        "Pontarlier",
        6.35522,
        46.90431,
        postcode="25300",
    ),
    ban_row(
        "25462_1180_00003",
        "3",
        "Rue de la République",
        "25462",
        "Pontarlier",
        6.35541,
        46.90447,
        postcode="25300",
    ),
]


def write_ban(path: Path, rows=None, gz: bool = True, header=None) -> Path:
    """Write a BAN file (gzip by default) in the official layout."""
    import gzip

    lines = [";".join(header or BAN_COLUMNS)]
    lines += [";".join(r) for r in (BAN_ROWS if rows is None else rows)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
