"""MailChimp Marketing API v3: streams and readers.

Incremental rules (see the package docstring for the why):
- lists, campaigns, reports: small, re-read whole every sync and merged.
- members: per list, `since_last_changed = cursor - lookback`, sorted by
  `last_changed` ascending, so every page is a checkpoint; archived and
  unsubscribed members come back with their status (the deletion signal).
- sent_to, email_activity, unsubscribes (children of a sent campaign): per-campaign
  state holding a fingerprint of the campaign's report counters. A campaign's
  children are re-read when its counters changed (a new open, click, bounce or
  unsubscribe moves them) or when it was never read; an unchanged campaign costs
  no request (optionally, `child_lookback_days` also re-reads recent sends).
  Email activity also keeps a per-campaign `since` (latest action seen) so a
  re-read fetches only newer actions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
from pydantic import Field, SecretStr, field_validator

from connectors.base import Checkpoint, Item, ReadContext, Source, decode_each
from connectors.config import SourceConfig, check_base_url
from connectors.errors import ConfigError
from connectors.http import HttpClient
from connectors.paginators import offset_pages
from connectors.streams import Col, Stream


class MailchimpConfig(SourceConfig):
    api_key: SecretStr
    base_url: str | None = Field(
        None, description="Defaults to https://<dc>.api.mailchimp.com/3.0 from the key's suffix."
    )
    page_size: int = Field(1000, ge=1, le=1000)
    child_lookback_days: int = Field(
        0,
        ge=0,
        description="Campaign children (sent_to, email_activity, unsubscribes) are re-read "
        "for any campaign whose report counters changed since the last sync (the report "
        "is read once per sync and decides), and also for campaigns sent within this many "
        "days of the newest send (0: counters alone decide; raise it if the account's "
        "report counters lag behind its activity).",
    )

    @field_validator("base_url")
    @classmethod
    def _reachable(cls, v: str | None) -> str | None:
        return None if v is None else check_base_url(v)

    @property
    def url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        key = self.api_key.get_secret_value()
        if "-" not in key:
            raise ConfigError(
                "MAILCHIMP_API_KEY must end in '-<dc>' (e.g. '...-us21') when "
                "MAILCHIMP_BASE_URL is not set"
            )
        return f"https://{key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"


TS = "TIMESTAMPTZ"

LISTS = Stream(
    name="lists",
    primary_key=("id",),
    records_key="lists",
    columns=(
        Col("id"),
        Col("name"),
        Col("date_created", TS),
        Col("list_rating", "INTEGER"),
        Col("member_count", "INTEGER", "stats.member_count"),
        Col("unsubscribe_count", "INTEGER", "stats.unsubscribe_count"),
        Col("cleaned_count", "INTEGER", "stats.cleaned_count"),
    ),
    description="Audiences (lists); re-read whole each sync.",
)
MEMBERS = Stream(
    name="members",
    primary_key=("list_id", "id"),
    records_key="members",
    cursor_field="last_changed",
    incremental=True,
    parent="lists",
    columns=(
        Col("id"),
        Col("list_id"),
        Col("email_address"),
        Col("status"),
        Col("first_name", path="merge_fields.FNAME"),
        Col("last_name", path="merge_fields.LNAME"),
        Col("timestamp_opt", TS),
        Col("last_changed", TS),
        Col("member_rating", "INTEGER"),
        Col("tags", "JSON"),
    ),
    description="List members incl. unsubscribed/cleaned/archived; incremental on last_changed.",
)
CAMPAIGNS = Stream(
    name="campaigns",
    primary_key=("id",),
    records_key="campaigns",
    columns=(
        Col("id"),
        Col("type"),
        Col("status"),
        Col("title", path="settings.title"),
        Col("subject_line", path="settings.subject_line"),
        Col("list_id", path="recipients.list_id"),
        Col("create_time", TS),
        Col("send_time", TS),
        Col("emails_sent", "INTEGER"),
    ),
    description="Campaigns (drafts too); re-read whole each sync.",
)
REPORTS = Stream(
    name="reports",
    primary_key=("id",),
    records_key="reports",
    cursor_field="send_time",
    columns=(
        Col("id"),
        Col("campaign_title"),
        Col("list_id"),
        Col("send_time", TS),
        Col("emails_sent", "INTEGER"),
        Col("abuse_reports", "INTEGER"),
        Col("unsubscribed", "INTEGER"),
        Col("hard_bounces", "INTEGER", "bounces.hard_bounces"),
        Col("soft_bounces", "INTEGER", "bounces.soft_bounces"),
        Col("opens_total", "INTEGER", "opens.opens_total"),
        Col("unique_opens", "INTEGER", "opens.unique_opens"),
        Col("open_rate", "DOUBLE", "opens.open_rate"),
        Col("clicks_total", "INTEGER", "clicks.clicks_total"),
        Col("unique_clicks", "INTEGER", "clicks.unique_clicks"),
        Col("click_rate", "DOUBLE", "clicks.click_rate"),
    ),
    description="Campaign reports (counters change as activity arrives); re-read each sync.",
)
SENT_TO = Stream(
    name="sent_to",
    primary_key=("campaign_id", "email_id"),
    records_key="sent_to",
    cursor_field="send_time",
    incremental=True,
    parent="reports",
    columns=(
        Col("campaign_id"),
        Col("list_id"),
        Col("email_id"),
        Col("email_address"),
        Col("status"),
        Col("open_count", "INTEGER"),
        Col("last_open", TS),
    ),
    description="One row per recipient of a sent campaign.",
)
UNSUBSCRIBES = Stream(
    name="unsubscribes",
    primary_key=("campaign_id", "email_id"),
    records_key="unsubscribes",
    cursor_field="timestamp",
    incremental=True,
    parent="reports",
    columns=(
        Col("campaign_id"),
        Col("list_id"),
        Col("email_id"),
        Col("email_address"),
        Col("timestamp", TS),
        Col("reason"),
    ),
    description="Unsubscribes attributed to a campaign.",
)
_ACTIVITY_COLS = (
    Col("activity_id"),
    Col("campaign_id"),
    Col("list_id"),
    Col("email_id"),
    Col("email_address"),
    Col("action"),
    Col("timestamp", TS),
    Col("url"),
    Col("ip"),
    Col("bounce_type"),
)
EMAIL_ACTIVITY = Stream(
    name="email_activity",
    primary_key=("activity_id",),
    records_key="emails",
    cursor_field="timestamp",
    incremental=True,
    parent="reports",
    columns=_ACTIVITY_COLS,
    description="One row per open/click/bounce; activity_id = md5(campaign|email|action|ts|url); "
    '_raw = {"activity": <this action>, "email": <the API record, all its actions>}.',
    select="""
SELECT
  md5(concat_ws('|', campaign_id, email_id, a.action, a.timestamp,
                coalesce(a.url, ''))) AS activity_id,
  campaign_id, list_id, email_id, email_address,
  a.action AS action,
  TRY_CAST(a.timestamp AS TIMESTAMPTZ) AS "timestamp",
  nullif(a.url, '') AS url,
  nullif(a.ip, '') AS ip,
  nullif(a.type, '') AS bounce_type,
  ('{"activity":' || aj || ',"email":' || r || '}')::JSON AS _raw,
  seq
FROM (
  SELECT seq, r, coalesce(s.campaign_id, parent_id) AS campaign_id, s.list_id, s.email_id,
    s.email_address, unnest(s.activity) AS a, unnest(json_extract(r, '$.activity[*]')) AS aj
  FROM (
    SELECT seq, parent_id, r,
      json_transform(r, '{"campaign_id": "VARCHAR", "list_id": "VARCHAR",
        "email_id": "VARCHAR", "email_address": "VARCHAR",
        "activity": [{"action": "VARCHAR", "timestamp": "VARCHAR", "url": "VARCHAR",
                      "ip": "VARCHAR", "type": "VARCHAR"}]}') AS s
    FROM stg
  )
)
""",
)

STREAMS = [LISTS, MEMBERS, CAMPAIGNS, REPORTS, SENT_TO, EMAIL_ACTIVITY, UNSUBSCRIBES]


def make_client(config: MailchimpConfig) -> HttpClient:
    return HttpClient(
        config.url,
        auth=("anystring", config.api_key.get_secret_value()),
        timeout_s=config.http_timeout_s,
        max_retries=config.http_max_retries,
        backoff_base_s=config.backoff_base_s,
        backoff_max_s=config.backoff_max_s,
        connect_retries=config.connect_retries,
        connect_backoff_s=config.connect_backoff_s,
    )


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# what the readers look at in a record, decoded without the rest of it
class _Changed(msgspec.Struct):
    last_changed: Any = None


class _Action(msgspec.Struct):
    timestamp: Any = None


class _Activity(msgspec.Struct):
    activity: list[_Action] | None = None


_CHANGED = msgspec.json.Decoder(list[_Changed])
_ACTIVITY = msgspec.json.Decoder(list[_Activity])


# --------------------------------------------------------------------------- readers
def read_lists(ctx: ReadContext, state: Any) -> Iterator[Item]:
    ids: list[str] = []
    for page in offset_pages(ctx.client, "/lists", "lists", page_size=ctx.config.page_size):
        ids.extend(r["id"] for r in page.dicts())
        yield page
    ctx.shared["list_ids"] = ids


def _list_ids(ctx: ReadContext) -> list[str]:
    if "list_ids" not in ctx.shared:
        ids: list[str] = []
        for page in offset_pages(ctx.client, "/lists", "lists", page_size=1000):
            ids.extend(r["id"] for r in page.dicts())
        ctx.shared["list_ids"] = ids
    return ctx.shared["list_ids"]


def read_members(ctx: ReadContext, state: Any) -> Iterator[Item]:
    cfg: MailchimpConfig = ctx.config
    cursors: dict[str, str] = {} if ctx.full_refresh else dict((state or {}).get("lists", {}))
    for list_id in _list_ids(ctx):
        params: dict[str, Any] = {"sort_field": "last_changed", "sort_dir": "ASC"}
        # a first sync reads every member, however long ago it last changed: start_date
        # bounds event streams only (docs/contracts.md §2)
        if list_id in cursors:
            params["since_last_changed"] = _iso(_parse(cursors[list_id]) - cfg.lookback)
        best = cursors.get(list_id)
        ordered = True
        prev = ""
        for page in offset_pages(
            ctx.client,
            f"/lists/{list_id}/members",
            "members",
            page_size=cfg.page_size,
            params=params,
            parent_id=list_id,
        ):
            changed = [str(r.last_changed or "") for r in decode_each(page.raws, _CHANGED)]
            # still ascending (across pages too)? compared in C, not record by record
            if changed:
                if ordered and (changed[0] < prev or changed != sorted(changed)):
                    ordered = False
                prev = changed[-1]
            page_max = max(changed, default="")
            if page_max and (best is None or page_max > best):
                best = page_max
            yield page
            if ordered and best:
                # ascending order: everything up to `best` is read once this page commits
                yield Checkpoint({"lists": {**cursors, list_id: best}})
        if best:
            cursors[list_id] = best
            yield Checkpoint({"lists": dict(cursors)})


def read_campaigns(ctx: ReadContext, state: Any) -> Iterator[Item]:
    yield from offset_pages(ctx.client, "/campaigns", "campaigns", page_size=ctx.config.page_size)


def _fingerprints(r: dict[str, Any]) -> dict[str, list[Any]]:
    opens, clicks, bounces = r.get("opens") or {}, r.get("clicks") or {}, r.get("bounces") or {}
    sent = r.get("emails_sent")
    hard, soft = bounces.get("hard_bounces"), bounces.get("soft_bounces")
    return {
        "sent_to": [sent, opens.get("opens_total"), opens.get("unique_opens"), hard, soft],
        "email_activity": [sent, opens.get("opens_total"), clicks.get("clicks_total"), hard, soft],
        "unsubscribes": [sent, r.get("unsubscribed")],
    }


def _remember_reports(ctx: ReadContext, records: list[dict[str, Any]]) -> None:
    reports = ctx.shared.setdefault("reports", {})
    for r in records:
        reports[r["id"]] = {
            "send_time": r.get("send_time") or "",
            "list_id": r.get("list_id"),
            "fp": _fingerprints(r),
        }


def read_reports(ctx: ReadContext, state: Any) -> Iterator[Item]:
    ctx.shared["reports"] = {}
    for page in offset_pages(ctx.client, "/reports", "reports", page_size=ctx.config.page_size):
        _remember_reports(ctx, page.dicts())
        yield page


def _reports(ctx: ReadContext) -> dict[str, dict[str, Any]]:
    if "reports" not in ctx.shared:
        ctx.shared["reports"] = {}
        for page in offset_pages(ctx.client, "/reports", "reports", page_size=1000):
            _remember_reports(ctx, page.dicts())
    return ctx.shared["reports"]


def _campaigns_to_read(
    ctx: ReadContext, stream: str, done: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    cfg: MailchimpConfig = ctx.config
    reports = {k: v for k, v in _reports(ctx).items() if v["send_time"]}
    if not reports:
        return []
    newest = max(_parse(v["send_time"]) for v in reports.values())
    horizon = newest - timedelta(days=cfg.child_lookback_days)
    out = []
    for cid, rep in sorted(reports.items(), key=lambda kv: kv[1]["send_time"]):
        prev = None if ctx.full_refresh else done.get(cid)
        if (
            prev is None
            or prev.get("fp") != rep["fp"][stream]
            or (cfg.child_lookback_days and _parse(rep["send_time"]) >= horizon)
        ):
            out.append((cid, rep))
    return out


def _child_reader(stream: str, path: str, key: str):
    def read(ctx: ReadContext, state: Any) -> Iterator[Item]:
        done: dict[str, Any] = dict((state or {}).get("campaigns", {}))
        for cid, rep in _campaigns_to_read(ctx, stream, done):
            yield from offset_pages(
                ctx.client,
                path.format(cid=cid),
                key,
                page_size=ctx.config.page_size,
                parent_id=cid,
            )
            done[cid] = {"fp": rep["fp"][stream]}
            yield Checkpoint({"campaigns": dict(done)})

    return read


def read_email_activity(ctx: ReadContext, state: Any) -> Iterator[Item]:
    cfg: MailchimpConfig = ctx.config
    done: dict[str, Any] = dict((state or {}).get("campaigns", {}))
    for cid, rep in _campaigns_to_read(ctx, "email_activity", done):
        prev = None if ctx.full_refresh else done.get(cid)
        params: dict[str, Any] = {}
        if prev and prev.get("since"):
            params["since"] = _iso(_parse(prev["since"]) - cfg.lookback)
        elif cfg.start_date:
            params["since"] = _iso(cfg.start_date)  # an event stream: start_date bounds it
        # `since` is null for a campaign read before its first action
        latest = (prev.get("since") if prev else None) or ""
        for page in offset_pages(
            ctx.client,
            f"/reports/{cid}/email-activity",
            "emails",
            page_size=cfg.page_size,
            params=params,
            parent_id=cid,
        ):
            stamps = [
                str(a.timestamp or "")
                for r in decode_each(page.raws, _ACTIVITY)
                for a in r.activity or ()
            ]
            latest = max(latest, max(stamps, default=""))
            yield page
        done[cid] = {"fp": rep["fp"]["email_activity"], "since": latest or None}
        yield Checkpoint({"campaigns": dict(done)})


SOURCE = Source(
    name="mailchimp",
    streams=STREAMS,
    readers={
        "lists": read_lists,
        "members": read_members,
        "campaigns": read_campaigns,
        "reports": read_reports,
        "sent_to": _child_reader("sent_to", "/reports/{cid}/sent-to", "sent_to"),
        "email_activity": read_email_activity,
        "unsubscribes": _child_reader(
            "unsubscribes", "/reports/{cid}/unsubscribed", "unsubscribes"
        ),
    },
    make_client=make_client,
    config_type=MailchimpConfig,
    check_path="/ping",
    # the two largest loads (sent_to, email_activity) in different lanes
    lanes=(
        ("lists", "members", "campaigns", "reports", "sent_to"),
        ("email_activity", "unsubscribes"),
    ),
)
