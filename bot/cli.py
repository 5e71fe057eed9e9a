"""The `cadence` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.server import logs, redact
from bot.server.settings import ConfigError, Settings, exit_on_config_error, load_settings

log = logging.getLogger("cadence.cli")

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Slack's requests (HTTP, or Socket Mode when SLACK_APP_TOKEN is set) and run the scheduler."""
    from bot.server.runtime import Runtime
    from bot.server.wsgi import serve_http, serve_socket_mode
    from storage import migrate

    settings.require_serving()
    workers = args.workers or settings.web_concurrency
    if workers > 1 and settings.database_url.startswith("sqlite"):
        log.warning(
            "serving with %d workers on SQLite: SQLite is for one process on one machine; use Postgres to scale out",
            workers,
        )
    if args.migrate:
        migrate.upgrade(settings.database_url)
    if settings.socket_mode:
        serve_socket_mode(Runtime.from_settings(settings))
        return 0
    serve_http(
        lambda: Runtime.from_settings(settings),
        port=args.port or settings.port,
        workers=workers,
        log_level=settings.log_level,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the database schema up to the newest revision (or the one named)."""
    from storage import migrate

    migrate.upgrade(settings.database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def cmd_db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Take the database schema down to the revision named ('base' empties it)."""
    from storage import migrate

    migrate.downgrade(settings.database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    """Print the revision the database is at."""
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        print(migrate.current_revision(db.engine) or "empty")
    finally:
        db.dispose()
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Write a sprint's report: Markdown, CSV or JSON of the figures, or the PNG chart."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.views import charts, reports
    from ceremonies.errors import CadenceError
    from storage import sprint as sprints
    from storage import sprint_figures
    from storage.db import Database
    from storage.models import Person

    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            query = select(sprints.Sprint.team_id).where(sprints.Sprint.channel_id == args.team).distinct()
            if args.workspace:
                query = query.where(sprints.Sprint.team_id == args.workspace)
            workspaces = list(session.scalars(query))
            if len(workspaces) != 1:
                problem = "no sprint in that channel" if not workspaces else "that channel is in several workspaces"
                print(f"cadence: {problem}; check --team (a channel id such as C0123) or give --workspace", file=sys.stderr)
                return 2
            try:
                sprint = sprints.sprint_named(session, team_id=workspaces[0], channel_id=args.team, name=args.sprint)
            except CadenceError as error:
                print(f"cadence: {error}", file=sys.stderr)
                return 2
            summary = sprint_figures.summary(session, sprint=sprint, now=datetime.now(UTC))
            names = {p.user_id: p.display_name for p in session.scalars(
                select(Person).where(Person.team_id == sprint.team_id))}
    finally:
        database.dispose()

    def name_of(user_id: str) -> str:
        return names.get(user_id, user_id)

    if args.format == "png":
        content: bytes = charts.burn_up_png(summary)
    elif args.format == "md":
        content = reports.to_markdown(summary).encode()
    elif args.format == "csv":
        content = reports.to_csv(summary, name_of).encode()
    else:
        content = reports.to_json(summary, name_of).encode()
    if args.out:
        with open(args.out, "wb") as out:
            out.write(content)
        print(f"wrote {args.out}")
    elif args.format == "png":
        print("cadence: a PNG needs --out FILE", file=sys.stderr)
        return 2
    else:
        sys.stdout.write(content.decode())
def cmd_workspace_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write everything stored for a workspace as JSON (tokens left out; anonymous authors stay hashed)."""
    from storage.db import Database
    from storage.export import export_json

    db = Database(settings.database_url)
    try:
        text = export_json(db, team_id=args.team_id, now=datetime.now(UTC))
    finally:
        db.dispose()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"workspace {args.team_id} exported to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_workspace_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Delete everything stored for a workspace now, its tokens included."""
    from storage import workspace_data, workspaces
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            installed = args.team_id in workspaces.active_team_ids(session)
            if installed and not args.even_if_installed:
                print(f"cadence: workspace {args.team_id} still has Cadence installed; uninstall it first, or add "
                      "--even-if-installed to delete its data and tokens anyway", file=sys.stderr)
                return 2
            deleted = workspace_data.purge(session, team_id=args.team_id)
    finally:
        db.dispose()
    total = sum(deleted.values())
    details = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
    print(f"workspace {args.team_id}: {total} rows deleted" + (f" ({details})" if details else ""))
    return 0


def cmd_keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new encryption key, to put first in CADENCE_ENCRYPTION_KEY."""
    from bot.slack.crypto import generate_key

    print(generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every stored token with the first key of CADENCE_ENCRYPTION_KEY."""
    from bot.slack.crypto import TokenCipher
    from storage import installations
    from storage.db import Database

    if not settings.cadence_encryption_key:
        raise ConfigError("CADENCE_ENCRYPTION_KEY is not set: expected the new key first, then the old ones, comma-separated")
    cipher = TokenCipher.from_setting(settings.cadence_encryption_key)
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            rows = installations.rewrite_tokens(session, rewrite=cipher.rotate)
    finally:
        db.dispose()
    print(f"{rows} rows re-encrypted with the first key; the other keys can now be removed")
    return 0


def cmd_retro_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a team channel's retro board (the latest unless --board is given) as Markdown or CSV."""
    from ceremonies import retro as domain
    from ceremonies.errors import CadenceError
    from storage import retro as store
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            board = store.board_for_export(session, channel_id=args.team, board_id=args.board, team_id=args.workspace)
            export = store.board_export(session, team_id=board.team_id, board_id=board.id)
    except CadenceError as error:
        print(f"cadence: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    text = domain.export_markdown(export) if args.format == "md" else domain.export_csv(export)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Play a two-week sprint of a six-person team through the real app and a fake Slack; print its report."""
    if not args.verbose:
        logging.disable(logging.WARNING)  # from the imports on: matplotlib notes its first-run font cache at INFO
    from bot.devtools.demo import run_demo

    out = Path(args.out) if args.out else Path.cwd() / f"cadence-demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    result = run_demo(out, seed=args.seed, say=(lambda _line: None) if args.quiet else print, verbose=args.verbose)
    if not args.quiet:
        print()
    print(result.report, end="")
    if not args.quiet:
        print(f"\nwrote {result.report_path} and {result.chart_path} ({result.seconds:.1f} s)")
        if result.digest_path is not None:
            print(f"wrote {result.digest_path} (the executive digest's web page) and the sprint's page beside it")
    if result.violations:
        print(f"cadence: the fake Slack refused {len(result.violations)} messages or views:", file=sys.stderr)
        print("\n".join(result.violations), file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cadence", description="Cadence runs your team's agile ceremonies in Slack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help=_summary(cmd_serve), description=_summary(cmd_serve))
    serve.add_argument("--port", type=int, help="the port to listen on (default: PORT, else 3000)")
    serve.add_argument("--workers", type=int, help="server worker processes (default: WEB_CONCURRENCY, else 1)")
    serve.add_argument(
        "--no-migrate", dest="migrate", action="store_false", help="do not upgrade the database schema at start"
    )
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="manage the database schema", description="Manage the database schema.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help=_summary(cmd_db_upgrade), description=_summary(cmd_db_upgrade))
    upgrade.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    downgrade = db_commands.add_parser(
        "downgrade", help=_summary(cmd_db_downgrade), description=_summary(cmd_db_downgrade)
    )
    downgrade.add_argument("revision", help="target revision, or 'base'")
    downgrade.set_defaults(handler=cmd_db_downgrade)
    current = db_commands.add_parser("current", help=_summary(cmd_db_current), description=_summary(cmd_db_current))
    current.set_defaults(handler=cmd_db_current)

    report = commands.add_parser("report", help=_summary(cmd_report), description=_summary(cmd_report))
    report.add_argument("--team", required=True, help="the team channel's id, e.g. C0123ABCD")
    report.add_argument("--sprint", required=True, help='the sprint\'s name, e.g. "Sprint 14"')
    report.add_argument("--format", choices=["md", "csv", "json", "png"], default="md", help="default: md")
    report.add_argument("--out", help="write to this file instead of standard output (required for png)")
    report.add_argument("--workspace", help="the Slack workspace id, when the channel id is not enough")
    report.set_defaults(handler=cmd_report)
    workspace = commands.add_parser(
        "workspace", help="export or delete a workspace's data", description="Export or delete a workspace's data."
    )
    workspace_commands = workspace.add_subparsers(dest="workspace_command", required=True, metavar="WORKSPACE_COMMAND")
    export = workspace_commands.add_parser(
        "export", help=_summary(cmd_workspace_export), description=_summary(cmd_workspace_export)
    )
    export.add_argument("team_id", help="the Slack workspace id, T…")
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(handler=cmd_workspace_export)
    purge = workspace_commands.add_parser(
        "purge", help=_summary(cmd_workspace_purge), description=_summary(cmd_workspace_purge)
    )
    purge.add_argument("team_id", help="the Slack workspace id, T…")
    purge.add_argument(
        "--even-if-installed", action="store_true", help="purge a workspace that still has Cadence installed"
    )
    purge.set_defaults(handler=cmd_workspace_purge)

    keys = commands.add_parser(
        "keys", help="manage the keys encrypting stored tokens", description="Manage the keys encrypting stored tokens."
    )
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND")
    generate = keys_commands.add_parser(
        "generate", help=_summary(cmd_keys_generate), description=_summary(cmd_keys_generate)
    )
    generate.set_defaults(handler=cmd_keys_generate)
    rotate = keys_commands.add_parser("rotate", help=_summary(cmd_keys_rotate), description=_summary(cmd_keys_rotate))
    rotate.set_defaults(handler=cmd_keys_rotate)
    retro = commands.add_parser("retro", help="retrospective boards", description="Retrospective boards.")
    retro_commands = retro.add_subparsers(dest="retro_command", required=True, metavar="RETRO_COMMAND")
    retro_export = retro_commands.add_parser(
        "export", help=_summary(cmd_retro_export), description=_summary(cmd_retro_export)
    )
    retro_export.add_argument("--team", required=True, metavar="CHANNEL", help="the team's Slack channel id, e.g. C0123")
    retro_export.add_argument("--board", type=int, help="the board's number (default: the channel's latest board)")
    retro_export.add_argument("--workspace", metavar="TEAM_ID", help="the Slack workspace id, when several share the database")
    retro_export.add_argument("--format", choices=("md", "csv"), default="md", help="Markdown (default) or CSV")
    retro_export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    retro_export.set_defaults(handler=cmd_retro_export)
    demo = commands.add_parser("demo", help=_summary(cmd_demo), description=_summary(cmd_demo))
    demo.add_argument("--out", metavar="DIR", help="where the report and the chart go (default: a new "
                      "cadence-demo-<timestamp> folder here)")
    demo.add_argument("--seed", type=int, help="the seed of the random choices, for a run you can repeat")
    demo.add_argument("--quiet", action="store_true", help="print only the report")
    demo.add_argument("--verbose", action="store_true", help="show the app's logs")
    demo.set_defaults(handler=cmd_demo)
    return parser


def _summary(handler: Handler) -> str:
    return (handler.__doc__ or "").strip().splitlines()[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_level, settings.log_format)
        redact.install(settings)
        return args.handler(args, settings)
    except ConfigError as error:
        exit_on_config_error(error)


if __name__ == "__main__":
    sys.exit(main())
