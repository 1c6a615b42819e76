"""The ``mapapp`` command: a thin click layer over the :class:`~mapapp.site.Site`.

Every command resolves the settings with :func:`mapapp.config.load_settings` (the
same defaults, ``instance/mapapp.cfg`` and ``MAPAPP_*`` variables as the server) and
works on the site's store; only ``serve`` builds the web application, to serve it.
"""

from __future__ import annotations

import getpass
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from . import server
from .accounts import ROLES
from .config import load_settings
from .errors import MapappError
from .importers import KINDS
from .site import Site


def _fail(message: str) -> None:
    click.echo(f"mapapp: {message}", err=True)
    sys.exit(1)


def open_site(init: bool = True) -> Site:
    """The configured site; its store is built from the seed first if missing."""
    try:
        site = Site(load_settings())
        if init:
            site.init_store()
    except (MapappError, ValueError) as exc:
        _fail(f"cannot start: {getattr(exc, 'message', exc)}")
    return site


@click.group()
def main() -> None:
    """mapapp: the planning map of a territory's digital economy."""


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port", default=8000, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--threads",
    default=server.THREADS,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker threads of the WSGI server (requests answered at once).",
)
@click.option(
    "--connection-limit",
    default=server.CONNECTION_LIMIT,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Connections kept open at once (idle ones included); beyond it new "
    "connections wait.",
)
@click.option(
    "--channel-timeout",
    default=server.CHANNEL_TIMEOUT_S,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds an idle or half-sent connection is kept before it is closed.",
)
@click.option(
    "--header-timeout",
    default=server.HEADER_TIMEOUT_S,
    show_default=True,
    type=click.IntRange(1, 600),
    help="Seconds a request may take to send its request line and headers (slow "
    "clients are closed, even if they keep sending).",
)
def serve(
    host: str,
    port: int,
    threads: int,
    connection_limit: int,
    channel_timeout: int,
    header_timeout: int,
) -> None:
    """Serve the app with waitress (a production WSGI server; put a reverse proxy in
    front in production: docs/deploy.md)."""
    from . import create_app  # the web application, built over the same site

    server.limit_malloc_arenas()  # before any thread starts
    site = open_site()
    app = create_app(site=site)
    proxies = int(site.settings["TRUSTED_PROXIES"] or 0)
    # the large layers' map data built now, not by the first visitor
    threading.Thread(target=site.warm_up, name="mapapp-warm-up", daemon=True).start()
    options = server.waitress_options(
        threads,
        connection_limit,
        channel_timeout,
        proxies,
        max_body=app.config["MAX_CONTENT_LENGTH"],
        header_timeout=header_timeout,
    )
    click.echo(
        f"mapapp: serving http://{host}:{port}/ (data version {site.data_version()}; "
        f"{threads} threads, up to {options['connection_limit']} connections, idle "
        f"ones closed after {channel_timeout} s, requests whose headers take more "
        f"than {header_timeout} s closed, bodies up to "
        f"{options['max_request_body_size'] // 1024**2} MB)"
    )
    per_address = None if proxies > 0 else server.PER_ADDRESS
    server.make_server(
        app, host, port, options, header_timeout, per_address=per_address
    ).run()


@main.command()
@click.option("--force", is_flag=True, help="Rebuild the store even if it exists.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Seed folder (default: MAPAPP_DATA_DIR or the territory's folder).",
)
def init(force: bool, data_dir: Path | None) -> None:
    """Build the store from the seed data (an existing store is kept unless --force)."""
    site = open_site(init=False)
    seed = data_dir or site.settings.seed_dir
    where = site.settings.store_url
    try:
        version = site.init_store(force=force, seed=seed)
    except MapappError as exc:
        click.echo(
            f"mapapp init: the seed in {seed} is invalid; the store was not "
            f"changed.\n{exc.message}",
            err=True,
        )
        sys.exit(1)
    if version is None:
        click.echo(
            f"mapapp init: a store already exists at {where}; "
            "use --force to rebuild it from the seed."
        )
        return
    store = site.store
    counts = ", ".join(f"{n} {store.count(n)}" for n in store.layer_names())
    click.echo(
        f"mapapp init: store built at {where} (data version {version}): {counts}"
    )


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values if "=" in v)


@main.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and report; write nothing.")
@click.option(
    "--commune",
    "communes",
    multiple=True,
    help="INSEE commune code to keep (repeatable); default: the communes of the "
    "study area.",
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
    help="generic and zones: take FIELD from COLUMN of your file (repeatable; "
    "zones: zone_code, zone_name, commune_code, zone_kind).",
)
@click.option(
    "--set",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="generic: a value for FIELD where the file has none (repeatable); "
    "zones: --set zone_kind=iris|commune|quarter.",
)
@click.option(
    "--source",
    help="generic, and zones read with --map: who published the file, recorded "
    "on every feature.",
)
@click.option(
    "--mode",
    type=click.Choice(["replace", "merge"]),
    help="Replace the layer (default for official files) or merge by id "
    "(default for generic).",
)
def import_(kind, file, dry_run, mapping, defaults, mode, **options):
    """Import an official open-data file into its layer (one transaction)."""
    from .importers import run_import

    options.update(
        communes=list(options["communes"]),
        mapping=_pairs(mapping),
        defaults=_pairs(defaults),
        **({"mode": mode} if mode else {}),
    )
    store = open_site().store
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
                progress=bar.update,
                author=f"mapapp import ({getpass.getuser()})",
                **options,
            )
        except MapappError as exc:
            _fail(f"import failed, the store is unchanged: {exc.message}")
    for line in report.lines():
        click.echo(line)


def _download_bar():
    """A progress callback drawing one bar per source on standard error."""
    state: dict = {}

    def step(source_id: str, done: int, total: int | None) -> None:
        if state.get("id") != source_id:
            if state.get("bar"):
                state["bar"].render_finish()
            state["id"] = source_id
            state["bar"] = click.progressbar(
                length=total or 0, label=f"downloading {source_id}", file=sys.stderr
            )
            state["done"] = 0
        bar = state["bar"]
        if total:
            bar.update(done - state["done"])
        state["done"] = done

    return step


@main.command()
@click.argument("sources", nargs=-1)
def fetch(sources: tuple[str, ...]) -> None:
    """Download official sources (all, or those named) with their manifest."""
    from .refresh.update import UpdateReport, coverage_notes
    from .refresh.update import fetch as fetch_sources

    try:
        settings = load_settings()
        results = fetch_sources(settings, list(sources), _download_bar())
    except (MapappError, ValueError) as exc:
        _fail(getattr(exc, "message", str(exc)))
    report = UpdateReport(results, notes=coverage_notes(settings))
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("sources", nargs=-1)
def update(sources: tuple[str, ...]) -> None:
    """Download the official sources and import what changed (one report)."""
    from .refresh.update import update as update_sources

    site = open_site()
    try:
        report = update_sources(site, list(sources), _download_bar())
    except MapappError as exc:
        _fail(exc.message)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@main.group()
def territory() -> None:
    """Territory profiles: make one from official files (docs/deploy.md)."""


def _pair(fr: str | None, en: str | None) -> dict[str, str]:
    """A ``{fr, en}`` pair from two options (one given: both)."""
    fr, en = (fr or "").strip()[:300], (en or "").strip()[:300]
    return {"fr": fr or en, "en": en or fr} if (fr or en) else {}


@territory.command("make")
@click.option(
    "--name",
    help="Name of the territory (French); default with --epci: "
    "the EPCI's name in INSEE's file.",
)
@click.option("--name-en", help="Name in English (default: the French one).")
@click.option("--short-name", help="Short name used in titles (default: the name).")
@click.option("--short-name-en", help="Short name in English.")
@click.option("--organisation", help="Who publishes the map (default: the name).")
@click.option("--organisation-en", help="The organisation's name in English.")
@click.option("--organisation-url", default="", help="The organisation's website.")
@click.option("--attribution", help="Credit of the contours (French).")
@click.option("--attribution-en", help="Credit of the contours in English.")
@click.option(
    "--communes",
    "contours",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Communes' contours: IGN Admin Express COMMUNE (GeoPackage, zipped "
    "Shapefile) or GeoJSON with a code and a name per commune.",
)
@click.option("--codes", help="INSEE codes of the communes, comma-separated.")
@click.option("--epci", help="SIREN of an EPCI: its communes in INSEE's file.")
@click.option(
    "--epci-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="INSEE's EPCI composition (default: the one `mapapp fetch communes_epci` "
    "downloaded).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The new profile's folder (new or empty).",
)
def territory_make(codes, epci, epci_file, out, contours, **texts) -> None:
    """Write a territory profile (territory.toml and the communes' contours) from
    official files; then MAPAPP_TERRITORY=OUT mapapp init starts its empty map."""
    from .refresh.profile import ProfileRequest, make_profile, parse_codes

    if bool(codes) == bool(epci):
        _fail("territory make: give the communes with --codes or --epci (one of them)")
    try:
        if epci and epci_file is None:
            epci_file = _downloaded("communes_epci")
        request = ProfileRequest(
            out=out,
            contours=contours,
            name=_pair(texts["name"], texts["name_en"]),
            short_name=_pair(texts["short_name"], texts["short_name_en"]),
            organisation=_pair(texts["organisation"], texts["organisation_en"]),
            organisation_url=texts["organisation_url"],
            attribution=_pair(texts["attribution"], texts["attribution_en"]) or None,
            codes=parse_codes(codes) if codes else (),
            epci=(epci or "").strip(),
            epci_file=epci_file,
        )
        made = make_profile(request)
    except (MapappError, ValueError) as exc:
        _fail(f"territory make: {getattr(exc, 'message', exc)}")
    lat, lon = made.view.center
    click.echo(
        f"mapapp territory make: profile of {made.name['fr']} written to "
        f"{made.folder}: {len(made.communes)} communes, département(s) "
        f"{', '.join(made.departements)}, initial view {lat:.4f},{lon:.4f} zoom "
        f"{made.view.zoom}.\nNext: MAPAPP_TERRITORY={made.folder} mapapp init"
    )


def _downloaded(source_id: str) -> Path:
    """The file ``mapapp fetch`` downloaded for a source (it may be missing)."""
    from .refresh.update import catalogue_of

    settings = load_settings()
    found = next(s for s in catalogue_of(settings) if s.id == source_id)
    return settings.download_dir / found.file


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup(folder: Path) -> None:
    """Copy the store (GeoPackage and its private file, as one consistent pair) into
    FOLDER while the app runs; PostGIS is backed up with pg_dump."""
    try:
        written = open_site(init=False).store.backup(folder)
    except MapappError as exc:
        _fail(exc.message)
    for path in written:
        click.echo(f"mapapp: {path}")


@main.group()
def users() -> None:
    """Planner accounts: add, list, remove, passwd, token, tokens, revoke."""


def _account(action, *args) -> object:
    """Run an accounts function on the site's store; a refusal exits with its reason."""
    try:
        return action(open_site().store, *args)
    except MapappError as exc:
        _fail(exc.message)


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(ROLES),
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

    words = _local_words()
    _account(accounts.create_user, name, role, _read_password(password_stdin), words)
    click.echo(f"mapapp: user {name} created ({role})")


@users.command("list")
def users_list() -> None:
    """List the accounts."""
    rows = open_site().store.private.list_users()
    if not rows:
        click.echo("no users yet: mapapp users add NAME --role admin")
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}\t{row['created']}")


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Delete an account, its API tokens and its sessions."""
    _account(lambda store, n: store.private.remove_user(n), name)
    click.echo(f"mapapp: user {name} removed")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def users_passwd(name: str, password_stdin: bool) -> None:
    """Change an account's password (every session of the account ends)."""
    from . import accounts

    words = _local_words()
    _account(accounts.change_password, name, _read_password(password_stdin), words)
    click.echo(f"mapapp: password of {name} changed")


@users.command("token")
@click.argument("name")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    help="Days the token is valid (default: the TOKEN_DAYS setting).",
)
def users_token(name: str, days: int | None) -> None:
    """Print a new API token for scripts (send it as "Authorization: Bearer ...");
    only its hash is kept, so it is shown once. Its id is the part after
    ``mapapp_``, as `mapapp users tokens NAME` lists it."""
    from . import accounts

    days = days or int(load_settings()["TOKEN_DAYS"])
    token = _account(lambda store: accounts.new_token(store, name, days=days))
    click.echo(token)  # alone on standard output, for scripts


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


@users.command("tokens")
@click.argument("name")
def users_tokens(name: str) -> None:
    """List an account's API tokens: id, created, expires, last used."""
    rows = _account(lambda store: store.private.tokens(name))
    if not rows:
        click.echo(f"{name} has no API token")
    for row in rows:
        click.echo(
            f"{row['id']}\tcreated {_when(row['created'])}\texpires "
            f"{_when(row['expires'])}\tlast used {_when(row['last_used'])}"
        )


@users.command("revoke")
@click.argument("name")
@click.argument("token_ids", nargs=-1)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Revoke every token of the account and end all its sessions.",
)
def users_revoke(name: str, token_ids: tuple[str, ...], everything: bool) -> None:
    """Revoke API tokens of an account by id (see `mapapp users tokens NAME`), or
    all its tokens and sessions with --all."""
    from . import accounts

    done = _account(
        lambda store: accounts.revoke(store, name, list(token_ids), everything)
    )
    click.echo(f"mapapp: {name}: {done}")


def _local_words() -> frozenset[str]:
    """The territory's words, refused as passwords like the common ones."""
    try:
        return load_settings().territory.password_words
    except ValueError as exc:
        _fail(f"cannot start: {exc}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@main.group()
def contributions() -> None:
    """Contributions of the public: answers to send, e-mail retention."""


@contributions.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write (default: standard output).",
)
def contributions_export(output: Path | None) -> None:
    """Write the answers to send (e-mail, language, decision, prepared text) as
    CSV for a mailing; they are then forgotten, e-mails included."""
    from .contributions import export_replies

    text, n = export_replies(open_site().store)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(f"mapapp: {n} answers exported", err=True)


@contributions.command("purge")
def contributions_purge() -> None:
    """Delete the e-mails and sender hashes older than the retention period
    (MAPAPP_CONTRIBUTION_RETENTION_DAYS); the server also does it at start."""
    from .contributions import limits_from, purge

    site = open_site()
    days = limits_from(site.settings).retention_days
    n = purge(site.store, days)
    click.echo(f"mapapp: {n} contributions past {days} days forgotten")
