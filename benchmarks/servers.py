"""The two servers the acknowledgement benchmark compares, on the same stack: gunicorn, gthread workers.

    python -m benchmarks.servers cadence PORT [WORKERS]   # Cadence as `cadence serve` runs it, plus two buttons
    python -m benchmarks.servers bare PORT [WORKERS]      # a bare Bolt app that only acknowledges

Both read SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL (and Cadence DATABASE_URL) from the environment.
"""

from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import Ack, App, BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.server.runtime import Runtime, runtime_of
from bot.server.settings import load_settings
from bot.server.wsgi import SERVER_THREADS, CadenceWSGI, GunicornServer
from storage import migrate
from storage.models import WorkClaim

CLICK_ACTION = "bench.click"  # acks, then reads the database and calls the Web API, as a ceremony button does
ACK_ONLY_ACTION = "bench.ack"  # acks and nothing else: Cadence's own overhead against bare Bolt


def options(port: int, workers: int) -> dict[str, Any]:
    """bot.server.wsgi.serve_http's gunicorn options."""
    return {"bind": f"127.0.0.1:{port}", "workers": workers, "worker_class": "gthread", "threads": SERVER_THREADS,
            "timeout": 30, "graceful_timeout": 20, "loglevel": "warning", "accesslog": None}


def on_click(ack: Ack, client: WebClient, context: BoltContext) -> None:
    """What a ceremony's button does: ack, then read the database and answer through the Web API."""
    ack()
    with runtime_of(context).db.transaction() as session:
        session.scalar(select(func.count()).select_from(WorkClaim))
    client.chat_postEphemeral(channel=context.channel_id, user=context.user_id, text="counted")


class CadenceWithButton(GunicornServer):
    def load(self) -> CadenceWSGI:
        wsgi = super().load()
        wsgi.app.action(CLICK_ACTION)(on_click)
        wsgi.app.action(ACK_ONLY_ACTION)(lambda ack: ack())
        return wsgi


class Bare(BaseApplication):  # type: ignore[misc]
    def __init__(self, opts: dict[str, Any]) -> None:
        self.opts = opts
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.opts.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        settings = load_settings()
        app = App(signing_secret=settings.slack_signing_secret,
                  client=WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url))
        app.command("/cadence")(lambda ack: ack())
        app.action(CLICK_ACTION)(lambda ack: ack())
        app.action(ACK_ONLY_ACTION)(lambda ack: ack())
        return SlackRequestHandler(app, path="/slack/events")


def main(argv: list[str]) -> None:
    kind, port = argv[0], int(argv[1])
    workers = int(argv[2]) if len(argv) > 2 else 1
    if kind == "bare":
        Bare(options(port, workers)).run()
        return
    settings = load_settings()
    migrate.upgrade(settings.database_url)
    CadenceWithButton(lambda: Runtime.from_settings(settings), options(port, workers)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
