"""Session expiry."""
from __future__ import annotations

from datetime import datetime, timedelta


def expires(start: datetime) -> datetime:
    return start + timedelta(minutes=30)
