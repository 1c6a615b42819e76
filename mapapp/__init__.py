"""mapapp: the planning map of Besançon's digital economy."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from . import config
from .errors import ValidationError


def create_app(test_config: dict | None = None) -> Flask:
    """Build the Flask application.

    Settings are layered: defaults (``config.SETTINGS``), then the instance folder's
    ``mapapp.cfg``, then ``MAPAPP_*`` environment variables, then ``test_config``.
    The store is created from the seed data on first start.
    """
    settings = config.from_env()
    if test_config:
        settings.update({k: v for k, v in test_config.items() if k in settings})
    instance = settings["INSTANCE_PATH"] or None
    app = Flask(
        __name__,
        instance_path=str(Path(instance).resolve()) if instance else None,
        instance_relative_config=True,
        template_folder=str(config.resource_dir("templates")),
        static_folder=None,
    )
    app.config.from_mapping(settings)
    app.config.from_pyfile("mapapp.cfg", silent=True)
    app.config.update(config.from_env(only_set=True))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    # a little above the upload limit, so the upload page can say which file is too big
    app.config["MAX_CONTENT_LENGTH"] = (
        (int(app.config["UPLOAD_MAX_MB"]) + 1) * 1024 * 1024
    )

    from .views import init_app

    init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


__all__ = ["ValidationError", "create_app"]
