"""The ``mapapp`` command: serve, init. A thin click layer over library functions."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import MapappError


@click.group()
def main() -> None:
    """mapapp: the planning map of Besançon's digital economy."""


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port", default=8000, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="Worker threads of the WSGI server.",
)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the app with waitress (a production WSGI server)."""
    from waitress import serve as waitress_serve

    app = _app_or_exit()
    click.echo(
        f"mapapp: serving http://{host}:{port}/ (data version "
        f"{app.extensions['mapapp.store'].data_version()})"
    )
    waitress_serve(app, host=host, port=port, threads=threads, ident="mapapp")


@main.command()
@click.option("--force", is_flag=True, help="Rebuild the store even if it exists.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Seed folder (default: MAPAPP_DATA_DIR or the shipped geodata/).",
)
def init(force: bool, data_dir: Path | None) -> None:
    """Build the store from the seed data (an existing store is kept unless --force)."""
    from .config import from_env, parse_bbox, resource_dir
    from .store import init_store, open_store
    from .views import store_url

    settings = from_env()
    app = _bare_app(settings)
    store = open_store(store_url(app), parse_bbox(settings["STUDY_AREA"]))
    seed = data_dir or Path(settings["DATA_DIR"] or resource_dir("geodata"))
    try:
        version = init_store(store, seed, force=force)
    except MapappError as exc:
        click.echo(
            f"mapapp init: the seed in {seed} is invalid; the store was not "
            f"changed.\n{exc.message}",
            err=True,
        )
        sys.exit(1)
    if version is None:
        click.echo(
            f"mapapp init: a store already exists at {store_url(app)}; "
            "use --force to rebuild it from the seed."
        )
        return
    counts = ", ".join(f"{n} {store.count(n)}" for n in store.layer_names())
    click.echo(
        f"mapapp init: store built at {store_url(app)} (data version "
        f"{version}): {counts}"
    )


@main.command("import")
@click.argument(
    "kind", type=click.Choice(["sirene", "education", "fibre", "zones", "generic"])
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and report; write nothing.")
@click.option(
    "--commune",
    "communes",
    multiple=True,
    help="INSEE commune code to keep (repeatable); default: every Doubs "
    "commune inside the study area.",
)
@click.option(
    "--geoloc",
    type=click.Path(path_type=Path),
    help="sirene: the geolocation file to join on siret.",
)
@click.option("--wide", is_flag=True, help="sirene: the wider digital NAF set.")
@click.option("--edition", help="Edition of the data (e.g. 2026-10), shown as source.")
@click.option("--layer", help="generic: the layer to import into.")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="generic: take FIELD from COLUMN (repeatable).",
)
@click.option(
    "--set",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="generic: a value for FIELD where the file has none (repeatable).",
)
@click.option("--source", help="generic: the source to record on every feature.")
@click.option(
    "--mode",
    type=click.Choice(["replace", "merge"]),
    help="Replace the layer (default for official files) or merge by id "
    "(default for generic).",
)
def import_(
    kind,
    file,
    dry_run,
    communes,
    geoloc,
    wide,
    edition,
    layer,
    mapping,
    defaults,
    source,
    mode,
):
    """Import an official open-data file into its layer (one transaction)."""
    from .importers import run_import

    store = _open_store()
    options = {
        "communes": list(communes),
        "geoloc": geoloc,
        "wide": wide,
        "edition": edition,
        "layer": layer,
        "source": source,
        "mapping": dict(m.split("=", 1) for m in mapping if "=" in m),
        "defaults": dict(d.split("=", 1) for d in defaults if "=" in d),
    }
    size = file.stat().st_size if file.is_file() else 0
    with click.progressbar(
        length=max(size // 120, 1), label=f"reading {file.name}", file=sys.stderr
    ) as bar:
        try:
            report = run_import(
                store,
                kind,
                file,
                dry_run=dry_run,
                progress=lambda n: bar.update(n),
                **options,
                **({"mode": mode} if mode else {}),
            )
        except MapappError as exc:
            _fail(f"import failed, the store is unchanged: {exc.message}")
    for line in report.lines():
        click.echo(line)


def _open_store():
    """The configured store, built from the seed first if it does not exist yet."""
    from .config import from_env, parse_bbox, resource_dir
    from .store import init_store, open_store
    from .views import store_url

    settings = from_env()
    store = open_store(
        store_url(_bare_app(settings)), parse_bbox(settings["STUDY_AREA"])
    )
    init_store(store, Path(settings["DATA_DIR"] or resource_dir("geodata")))
    return store


def _fail(message: str) -> None:
    click.echo(f"mapapp: {message}", err=True)
    sys.exit(1)


@main.group()
def users() -> None:
    """Planner accounts: add, list, remove, passwd, token."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["planner", "admin"]),
    default="planner",
    show_default=True,
    help="A planner edits; an admin also imports data and manages users.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of a prompt.",
)
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is asked, or read from standard input)."""
    from . import accounts

    password = _read_password(password_stdin)
    try:
        accounts.create_user(_open_store(), name, role, password)
    except MapappError as exc:
        _fail(exc.message)
    click.echo(f"mapapp: user {name} created ({role})")


@users.command("list")
def users_list() -> None:
    """List the accounts."""
    rows = _open_store().list_users()
    if not rows:
        click.echo("no users yet: mapapp users add NAME --role admin")
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}\t{row['created']}")


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Delete an account and its API tokens."""
    try:
        _open_store().remove_user(name)
    except MapappError as exc:
        _fail(exc.message)
    click.echo(f"mapapp: user {name} removed")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def users_passwd(name: str, password_stdin: bool) -> None:
    """Change an account's password."""
    from . import accounts

    password = _read_password(password_stdin)
    try:
        accounts.change_password(_open_store(), name, password)
    except MapappError as exc:
        _fail(exc.message)
    click.echo(f"mapapp: password of {name} changed")


@users.command("token")
@click.argument("name")
def users_token(name: str) -> None:
    """Print a new API token for scripts (send it as "Authorization: Bearer ...")."""
    from . import accounts

    try:
        token = accounts.new_token(_open_store(), name)
    except MapappError as exc:
        _fail(exc.message)
    click.echo(token)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _bare_app(settings: dict):
    """A Flask app object for its instance path only (no store opened)."""
    from flask import Flask

    instance = settings.get("INSTANCE_PATH") or None
    app = Flask(
        "mapapp", instance_path=str(Path(instance).resolve()) if instance else None
    )
    app.config.from_mapping(settings)
    return app


def _app_or_exit():
    from . import create_app

    try:
        return create_app()
    except MapappError as exc:
        click.echo(f"mapapp: cannot start: {exc.message}", err=True)
        sys.exit(1)
    except ValueError as exc:
        click.echo(f"mapapp: cannot start: {exc}", err=True)
        sys.exit(1)
