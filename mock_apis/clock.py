"""Time in the mock world: a fixed reference clock and the two vendors' formats.

Nothing here reads the wall clock, so one seed always yields byte-identical data.
MailChimp works in whole seconds, HubSpot in milliseconds; both are kept as ints.
"""

from __future__ import annotations

from datetime import UTC, datetime

WORLD_START = 1748736000  # 2025-06-01T00:00:00Z, the world's first "now"
HISTORY_DAYS = 548  # about 18 months of history before WORLD_START
DAY = 86400
LEGACY_START = 1451606400  # 2016-01-01T00:00:00Z: when the mock company opened both accounts
LEGACY_END = 1577836800  # 2020-01-01T00:00:00Z: the connectors' default start date


def mc_time(ts: int) -> str:
    """MailChimp format, e.g. 2025-03-01T10:00:00+00:00."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def hs_time(ms: int) -> str:
    """HubSpot format, e.g. 2025-03-01T10:00:00.000Z."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_time(value: str) -> int:
    """An ISO-8601 string (offset, Z or bare date) -> epoch seconds; ValueError if not one."""
    text = value.strip().replace(" ", "+") if "T" in value else value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def parse_hs_time_ms(value: str) -> int:
    """HubSpot filter values: epoch milliseconds or ISO-8601 -> epoch milliseconds."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)
