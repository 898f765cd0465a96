"""Helpers: connector configs on tmp DuckDB files and the ground-truth comparison
every sync test ends with."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from connectors import HubspotConfig, MailchimpConfig
from connectors.sync import SOURCES
from mock_apis.testing import MockServer

# How to read each stream's cursor back out of the raw table, to compare with the
# ground truth's `cursor` (the API's own string for it).
CURSOR_SQL = {
    "members": "_raw->>'last_changed'",
    "campaigns": "_raw->>'create_time'",
    "reports": "_raw->>'send_time'",
    "email_activity": "_raw->'activity'->>'timestamp'",
    "unsubscribes": "_raw->>'timestamp'",
    "contacts": "properties->>'lastmodifieddate'",
    "companies": "properties->>'hs_lastmodifieddate'",
    "deals": "properties->>'hs_lastmodifieddate'",
    "owners": "_raw->>'updatedAt'",
}
# Value columns the ground truth carries that must match too.
VALUE_SQL = {
    "members": {"status": "status"},
    "sent_to": {"open_count": "open_count", "status": "status"},
    "reports": {"unique_opens": "unique_opens", "unsubscribed": "unsubscribed"},
    # HubSpot property columns hold the string exactly as the API sends it.
    "contacts": {
        "archived": "archived",
        "email": "email",
        "firstname": "firstname",
        "lifecyclestage": "lifecyclestage",
    },
    "companies": {"archived": "archived", "name": "name", "domain": "domain"},
    "deals": {
        "archived": "archived",
        "amount": "amount",
        "dealstage": "dealstage",
        "pipeline": "pipeline",
        "closedate": "closedate",
    },
}


def configs(server: MockServer, raw_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Both sources' configs on `raw_dir`, fast retries. The local mock enforces no HubSpot
    rate limit, so no request budget either (test_real_shaped tests the budget)."""
    fast = {"backoff_base_s": 0.01, "backoff_max_s": 0.2, "http_timeout_s": 10.0, **overrides}
    budget = {"requests_per_10s": 0, "search_requests_per_s": 0}
    return {
        "mailchimp": MailchimpConfig(
            api_key=server.mailchimp_api_key,
            base_url=server.mailchimp_url,
            raw_path=raw_dir / "mailchimp.duckdb",
            **fast,
        ),
        "hubspot": HubspotConfig(
            access_token=server.hubspot_token,
            base_url=server.base_url,
            raw_path=raw_dir / "hubspot.duckdb",
            **{**budget, **fast},
        ),
    }


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _norm(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, bool) or v is None:
        return v
    return str(v)


def raw_rows(path: Path, source: str, stream: str, with_values: bool = True) -> list[tuple]:
    st = SOURCES[source].stream(stream)
    cols = [f'"{k}"' for k in st.primary_key]
    if stream in CURSOR_SQL:
        cols.append(CURSOR_SQL[stream])
    if with_values:
        cols += list(VALUE_SQL.get(stream, {}).values())
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(f'SELECT {", ".join(cols)} FROM raw_{source}."{stream}"').fetchall()
    finally:
        con.close()
    return [tuple(_norm(v) for v in r) for r in rows]


def truth_rows(
    truth: dict[str, list[dict]], source: str, stream: str, start_date: datetime | None = None
) -> list[tuple]:
    """The server's records of a stream as raw_rows() reads them back. Email activity is an
    event stream: a first sync reads it from `start_date` on, so older actions are left out."""
    st = SOURCES[source].stream(stream)
    out = []
    for rec in truth[stream]:
        if stream == "email_activity" and start_date and _time(rec["cursor"]) < start_date:
            continue
        row = [str(rec[k]) for k in st.primary_key]
        if stream in CURSOR_SQL:
            row.append(rec["cursor"])
        row += [_norm(rec[k]) for k in VALUE_SQL.get(stream, {})]
        out.append(tuple(row))
    return out


def assert_matches_ground_truth(
    server: MockServer, cfgs: dict[str, Any], sources: tuple[str, ...] = ("mailchimp", "hubspot")
) -> dict[str, int]:
    """Every stream equals the server's records; no primary key appears twice."""
    truth = server.ground_truth()
    counts = {}
    problems = []
    for source in sources:
        for st in SOURCES[source].streams:
            got = raw_rows(cfgs[source].raw_path, source, st.name)
            keys = [r[: len(st.primary_key)] for r in got]
            assert len(keys) == len(set(keys)), f"{source}.{st.name}: duplicate primary keys"
            want = truth_rows(truth, source, st.name, cfgs[source].start_date)
            if sorted(got, key=repr) != sorted(want, key=repr):
                g, w = set(got), set(want)
                problems.append(
                    f"{source}.{st.name}: {len(got)} rows vs {len(want)} in truth; "
                    f"missing {sorted(w - g, key=repr)[:3]} "
                    f"unexpected {sorted(g - w, key=repr)[:3]}"
                )
            counts[f"{source}.{st.name}"] = len(got)
    assert not problems, "\n".join(problems)
    return counts
