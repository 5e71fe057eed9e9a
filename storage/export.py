"""A workspace's data as one JSON document, for `cadence workspace export`."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from storage import workspace_data
from storage.db import Database

EXPORT_FORMAT = 1


def export_json(db: Database, *, team_id: str, now: datetime) -> str:
    """Everything stored for `team_id`, table by table, as indented JSON."""
    with db.transaction() as session:
        tables = workspace_data.export(session, team_id=team_id)
    document = {
        "format": EXPORT_FORMAT,
        "team_id": team_id,
        "exported_at": now.isoformat(),
        "omitted": "OAuth tokens and webhook URLs; anonymous authors are stored, and exported, only as hashes",
        "tables": tables,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=_json_value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot export a {type(value).__name__}")
