"""mapapp: the planning map of a territory's digital economy."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from . import config
from .errors import ValidationError

if TYPE_CHECKING:  # the core imports without Flask; only the factory needs it
    from flask import Flask

    from .site import Site


def create_app(test_config: dict | None = None, site: Site | None = None) -> Flask:
    """Build the Flask application over a :class:`~mapapp.site.Site`.

    Settings come from :func:`mapapp.config.load_settings` (defaults, the instance
    folder's ``mapapp.cfg``, ``MAPAPP_*`` environment variables, then
    ``test_config``), the same resolution every CLI command uses. The store is
    created from the seed data on first start.
    """
    from flask import Flask

    from .site import Site

    if site is None:
        site = Site(config.load_settings(overrides=test_config))
        site.init_store()  # first start only: an existing store is kept
        from .contributions import limits_from, purge

        # e-mails past the retention period are forgotten at each start
        purge(site.store, limits_from(site.settings).retention_days)
    settings = site.settings
    app = Flask(
        __name__,
        instance_path=str(settings.instance_dir),
        template_folder=str(config.resource_dir("templates")),
        static_folder=None,
    )
    app.config.update(settings.values)
    app.config.update(settings.extra)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    # a little above the upload limit, so the upload page can say which file is too big
    app.config["MAX_CONTENT_LENGTH"] = (int(settings["UPLOAD_MAX_MB"]) + 1) * 1024**2

    from .views import init_app

    init_app(app, site)
    proxies = int(settings["TRUSTED_PROXIES"] or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


__all__ = ["ValidationError", "create_app"]
