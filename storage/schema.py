"""The complete metadata: importing this module imports every model, for migrations and their drift check."""

from __future__ import annotations

from storage import blockers, models, sprint
from storage.models import Base

metadata = Base.metadata

__all__ = ["blockers", "metadata", "models", "sprint"]
