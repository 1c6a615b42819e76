"""The web wing: thin Flask adapters over the :class:`~mapapp.site.Site`.

Each blueprint (``public``, ``api``, ``analysis``, ``planner``, ``imports``, ``ogc``,
``auth``) parses the request into plain values (:mod:`.params`), calls the site and
renders.
Blueprints never import one another; what they share lives in :mod:`.http`
(responses, CSP), :mod:`.params` (request parameters, language), :mod:`.guards`
(users, CSRF), :mod:`.mappage` (map pages) and :mod:`.handlers` (errors, headers).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import Babel

from ..site import Site
from . import analysis, api, auth, contributions, imports, ogc, planner, public
from .guards import init_guards
from .handlers import register_handlers, register_limits
from .params import current_lang
from .strings import territory_words

BLUEPRINTS = (
    public.bp,
    api.bp,
    analysis.bp,
    planner.bp,
    imports.bp,
    ogc.bp,
    auth.bp,
    contributions.bp,
)


def init_app(app: Flask, site: Site) -> None:
    """Attach the site, translations, guards, blueprints and handlers to ``app``."""
    app.extensions["mapapp.site"] = site
    Babel(
        app,
        locale_selector=current_lang,
        default_translation_directories=str(
            Path(__file__).parent.parent / "translations"
        ),
    )
    register_limits(app)  # first: nothing reads a body before its limit is set
    init_guards(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_handlers(app)

    @app.context_processor
    def template_helpers():
        def lang_query(lang: str) -> str:
            args = request.args.to_dict()
            args["lang"] = lang
            return urlencode(args)

        return {
            "lang_query": lang_query,
            "url_map_endpoints": set(app.view_functions),
            "territory": territory_words(site.territory, current_lang()),
        }
