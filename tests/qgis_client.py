"""What QGIS sees: run by the system Python with QGIS (Debian's python3-qgis),
``QT_QPA_PLATFORM=offscreen``, from tests/views/test_ogc_clients.py.

    qgis_client.py OGC_URL BBOX NAME [NAME...] -- GPKG [GPKG...]

Loads each collection through QGIS's OAPIF provider (5 features a page, so paging
is exercised), then once more restricted to BBOX (minx,miny,maxx,maxy: QGIS sends
it to the server), and each GeoPackage through the OGR provider; prints one JSON
object: per layer its validity, feature count, features read, extent, CRS, field
types, the Python types of the values QGIS hands out, how QGIS finds the exterior
rings of polygons wound (clockwise or not) and the licences of its metadata.
"""

import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsCurve,
    QgsFeatureRequest,
    QgsRectangle,
    QgsVectorLayer,
)


def windings(features):
    """How many exterior rings QGIS finds clockwise and counterclockwise."""
    out = {"clockwise": 0, "counterclockwise": 0}
    for feature in features:
        geometry = feature.geometry().constGet()
        if geometry is None:
            continue
        parts = (
            [geometry.geometryN(i) for i in range(geometry.numGeometries())]
            if (hasattr(geometry, "numGeometries"))
            else [geometry]
        )
        for part in parts:
            if hasattr(part, "exteriorRing") and part.exteriorRing() is not None:
                clockwise = part.exteriorRing().orientation() == QgsCurve.Clockwise
                out["clockwise" if clockwise else "counterclockwise"] += 1
    return out


def describe(layer, request=None):
    if not layer.isValid():
        return {"valid": False}
    features = list(layer.getFeatures(request or QgsFeatureRequest()))
    fields = [f.name() for f in layer.fields()]
    kinds = {}
    for name in fields:
        values = [f[name] for f in features]
        kinds[name] = sorted(
            {type(v).__name__ for v in values if isinstance(v, (bool, int, float, str))}
        )
    extent = layer.extent()
    return {
        "valid": True,
        "count": layer.featureCount(),
        "read": len(features),
        "ids": sorted(str(f["id"]) for f in features),
        # features without a place (commune-level ones: null geometry)
        "unlocated": sorted(
            str(f["id"])
            for f in features
            if not f.hasGeometry() or f.geometry().isEmpty()
        ),
        "extent": [
            extent.xMinimum(),
            extent.yMinimum(),
            extent.xMaximum(),
            extent.yMaximum(),
        ],
        "crs": layer.crs().authid(),
        "fields": {f.name(): f.typeName() for f in layer.fields()},
        "kinds": kinds,
        "windings": windings(features),
        "licenses": list(layer.metadata().licenses()),
        "rights": list(layer.metadata().rights()),
        "history": list(layer.metadata().history()),
    }


def main(argv):
    url, bbox, rest = argv[1], argv[2], argv[3:]
    cut = rest.index("--")
    names, geopackages = rest[:cut], rest[cut + 1 :]
    out = {"oapif": {}, "bbox": {}, "gpkg": {}}
    for name in names:
        uri = f"url='{url}' typename='{name}' pagingEnabled='true' pageSize='5'"
        out["oapif"][name] = describe(QgsVectorLayer(uri, name, "OAPIF"))
        restricted = QgsVectorLayer(uri + " restrictToRequestBBOX='1'", name, "OAPIF")
        rect = QgsRectangle(*[float(v) for v in bbox.split(",")])
        out["bbox"][name] = describe(
            restricted, QgsFeatureRequest().setFilterRect(rect)
        )
    for path in geopackages:
        layer = QgsVectorLayer(path, os.path.basename(path), "ogr")
        out["gpkg"][os.path.basename(path)] = describe(layer)
    return out


if __name__ == "__main__":
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    print(json.dumps(main(sys.argv)), flush=True)
    os._exit(0)  # QGIS 3.22 may crash while tearing down; the answer is out
