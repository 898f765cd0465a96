"""MailChimp Marketing API v3 over the world: routes, filters, paging, record shapes.

Handlers are plain functions (world, path args, query) -> payload dict; the ASGI
layer in `mock_apis.app` adds auth, errors as problem+json, faults and caching.
Filters follow the vendor's wording: `since_*` means strictly after, `before_*`
strictly before. Archived members are listed like any other status (the archive
is the deletion signal the raw layer keeps).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from mock_apis.clock import mc_time, parse_time
from mock_apis.errors import ApiError
from mock_apis.memo import MemoizedViews
from mock_apis.world import Campaign, Member, Send, World

MAX_COUNT = 1000
MEMBER_STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}


def _links(path: str) -> list[dict[str, str]]:
    return [
        {"rel": "self", "href": f"/3.0{path}", "method": "GET"},
        {"rel": "parent", "href": f"/3.0{path.rsplit('/', 1)[0] or '/'}", "method": "GET"},
    ]


def _time_param(q: dict[str, str], name: str) -> int | None:
    value = q.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise ApiError(
            400,
            "InvalidResource",
            f"query parameter {name}={value!r} is not an ISO-8601 time "
            "(expected e.g. 2025-03-01T10:00:00+00:00)",
        ) from None


def _paging(q: dict[str, str]) -> tuple[int, int]:
    try:
        count = int(q.get("count", 10))
        offset = int(q.get("offset", 0))
    except ValueError:
        raise ApiError(400, "InvalidResource", "count and offset must be integers") from None
    if not 0 <= count <= MAX_COUNT:
        raise ApiError(400, "InvalidResource", f"count={count} is out of range: 0..{MAX_COUNT}")
    if offset < 0:
        raise ApiError(400, "InvalidResource", f"offset={offset} must be >= 0")
    return offset, count


def _sort(q: dict[str, str], allowed: dict[str, Callable[[Any], Any]], items: list) -> list:
    field = q.get("sort_field")
    if not field:
        return items
    if field not in allowed:
        raise ApiError(
            400, "InvalidResource", f"sort_field={field!r} is not one of {sorted(allowed)}"
        )
    direction = q.get("sort_dir", "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise ApiError(400, "InvalidResource", f"sort_dir={direction!r} must be ASC or DESC")
    return sorted(items, key=allowed[field], reverse=direction == "DESC")


def _envelope(key: str, items: list, q: dict[str, str], path: str, **extra: Any) -> dict:
    offset, count = _paging(q)
    return {
        key: items[offset : offset + count],
        **extra,
        "total_items": len(items),
        "_links": _links(path),
    }


# --------------------------------------------------------------------------- field filters
def apply_fields(payload: dict, fields: str | None, exclude: str | None) -> dict:
    """MailChimp's `fields` / `exclude_fields` (dotted paths, comma-separated)."""
    payload = orjson.loads(orjson.dumps(payload))  # never mutate shared record dicts
    if fields:
        tree: dict = {}
        for path in fields.split(","):
            node = tree
            for part in path.strip().split("."):
                node = node.setdefault(part, {})
        payload = _include(payload, tree)
    if exclude:
        for path in exclude.split(","):
            _exclude(payload, path.strip().split("."))
    return payload


def _include(obj: Any, tree: dict) -> Any:
    if not tree:
        return obj
    if isinstance(obj, list):
        return [_include(x, tree) for x in obj]
    if isinstance(obj, dict):
        return {k: _include(obj[k], sub) for k, sub in tree.items() if k in obj}
    return obj


def _exclude(obj: Any, parts: list[str]) -> None:
    if isinstance(obj, list):
        for x in obj:
            _exclude(x, parts)
    elif isinstance(obj, dict):
        if len(parts) == 1:
            obj.pop(parts[0], None)
        elif parts[0] in obj:
            _exclude(obj[parts[0]], parts[1:])


# --------------------------------------------------------------------------- records
def member_record(m: Member) -> dict:
    if m.api is None:
        name = f"{m.first} {m.last}".strip()
        m.api = {
            "id": m.id,
            "email_address": m.email,
            "unique_email_id": m.id[:10],
            "contact_id": m.id[::-1][:32],
            "full_name": name,
            "web_id": 300000 + m.seq,
            "email_type": "html",
            "status": m.status,
            "merge_fields": {"FNAME": m.first, "LNAME": m.last, "ADDRESS": "", "PHONE": ""},
            "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
            "ip_signup": "",
            "timestamp_signup": mc_time(m.signup),
            "ip_opt": m.person.ip,
            "timestamp_opt": mc_time(m.opt),
            "member_rating": m.rating,
            "last_changed": mc_time(m.last_changed),
            "language": "en",
            "vip": False,
            "email_client": "",
            "source": "API - Generic",
            "tags_count": len(m.tags),
            "tags": [{"id": 1000 + sum(map(ord, t)), "name": t} for t in m.tags],
            "list_id": m.list_id,
        }
    return m.api


def _merge(m: Member) -> dict[str, str]:
    return {"FNAME": m.first, "LNAME": m.last}


class MailChimpApi(MemoizedViews):
    """Route table + per-world-version memo of derived views (reports, activity)."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.routes: list[tuple[re.Pattern[str], Callable[..., dict]]] = [
            (re.compile(r"^/?$"), self.root),
            (re.compile(r"^/ping$"), self.ping),
            (re.compile(r"^/lists$"), self.lists),
            (re.compile(r"^/lists/(?P<list_id>[^/]+)$"), self.list_one),
            (re.compile(r"^/lists/(?P<list_id>[^/]+)/members$"), self.members),
            (re.compile(r"^/lists/(?P<list_id>[^/]+)/members/(?P<hash>[^/]+)$"), self.member_one),
            (re.compile(r"^/campaigns$"), self.campaigns),
            (re.compile(r"^/campaigns/(?P<campaign_id>[^/]+)$"), self.campaign_one),
            (re.compile(r"^/reports$"), self.reports),
            (re.compile(r"^/reports/(?P<campaign_id>[^/]+)$"), self.report_one),
            (re.compile(r"^/reports/(?P<campaign_id>[^/]+)/email-activity$"), self.email_activity),
            (re.compile(r"^/reports/(?P<campaign_id>[^/]+)/unsubscribed$"), self.unsubscribed),
            (re.compile(r"^/reports/(?P<campaign_id>[^/]+)/sent-to$"), self.sent_to),
        ]

    def handle(self, path: str, q: dict[str, str]) -> dict:
        for pattern, fn in self.routes:
            match = pattern.match(path)
            if match:
                payload = fn(q=q, **match.groupdict())
                if q.get("fields") or q.get("exclude_fields"):
                    payload = apply_fields(payload, q.get("fields"), q.get("exclude_fields"))
                return payload
        raise ApiError(404, "ResourceNotFound", f"no MailChimp endpoint at /3.0{path}")

    def _eager(self, key: tuple) -> bool:
        """Views that do not depend on a client's cursor (those change with every sync)."""
        if key[0] == "members":
            return not any(v is not None for v in key[3])
        if key[0] == "activity":
            return key[2] is None
        return True

    # ------------------------------------------------------------------ lookups
    def _list(self, list_id: str):
        for lst in self.world.lists:
            if lst.id == list_id:
                return lst
        raise ApiError(404, "ResourceNotFound", f"list {list_id!r} does not exist")

    def _campaign(self, campaign_id: str, sent: bool = False) -> Campaign:
        for c in self.world.campaigns:
            if c.id == campaign_id and (c.send_time or not sent):
                return c
        what = "sent campaign (reports exist only once sent)" if sent else "campaign"
        raise ApiError(404, "ResourceNotFound", f"{what} {campaign_id!r} does not exist")

    # ------------------------------------------------------------------ endpoints
    def root(self, q: dict[str, str]) -> dict:
        return {
            "account_id": "mockaccount",
            "account_name": "Northwind Demo",
            "email": "marketing@northwind-demo.com",
            "total_subscribers": sum(len(m) for m in self.world.members.values()),
        }

    def ping(self, q: dict[str, str]) -> dict:
        return {"health_status": "Everything's Chimpy!"}

    def list_record(self, lst) -> dict:
        members = self.world.members[lst.id]
        counts = {"subscribed": 0, "unsubscribed": 0, "cleaned": 0}
        last_sub = 0
        for m in members:
            if m.status in counts:
                counts[m.status] += 1
            if m.status == "subscribed" and m.opt > last_sub and m.opt <= self.world.now:
                last_sub = m.opt
        sent = [c for c in self.world.campaigns if c.list_id == lst.id and c.send_time]
        return {
            "id": lst.id,
            "web_id": lst.web_id,
            "name": lst.name,
            "contact": {"company": "Northwind Demo", "city": "Atlanta", "country": "US"},
            "permission_reminder": "You signed up on our website.",
            "campaign_defaults": {
                "from_name": "Northwind",
                "from_email": "news@northwind-demo.com",
                "subject": "",
                "language": "en",
            },
            "date_created": mc_time(lst.date_created),
            "list_rating": lst.rating,
            "email_type_option": False,
            "visibility": "pub",
            "double_optin": False,
            "stats": {
                "member_count": counts["subscribed"],
                "unsubscribe_count": counts["unsubscribed"],
                "cleaned_count": counts["cleaned"],
                "campaign_count": len(sent),
                "campaign_last_sent": mc_time(max(c.send_time for c in sent)) if sent else "",
                "last_sub_date": mc_time(last_sub) if last_sub else "",
            },
            "_links": _links(f"/lists/{lst.id}"),
        }

    def lists(self, q: dict[str, str]) -> dict:
        since, before = _time_param(q, "since_date_created"), _time_param(q, "before_date_created")
        items = [
            lst
            for lst in self.world.lists
            if (since is None or lst.date_created > since)
            and (before is None or lst.date_created < before)
        ]
        items = _sort(q, {"date_created": lambda x: x.date_created}, items)
        offset, count = _paging(q)
        page = [self.list_record(x) for x in items[offset : offset + count]]
        return {"lists": page, "total_items": len(items), "_links": _links("/lists")}

    def list_one(self, q: dict[str, str], list_id: str) -> dict:
        return self.list_record(self._list(list_id))

    def members(self, q: dict[str, str], list_id: str) -> dict:
        self._list(list_id)
        status = q.get("status")
        if status and status not in MEMBER_STATUSES:
            raise ApiError(
                400, "InvalidResource", f"status={status!r} is not one of {sorted(MEMBER_STATUSES)}"
            )
        filters = {
            name: _time_param(q, name)
            for name in (
                "since_last_changed",
                "before_last_changed",
                "since_timestamp_opt",
                "before_timestamp_opt",
            )
        }
        key = (
            "members",
            list_id,
            status,
            tuple(filters.values()),
            q.get("sort_field"),
            q.get("sort_dir"),
        )

        def build() -> list[Member]:
            items = self.world.members[list_id]
            if status:
                items = [m for m in items if m.status == status]
            if filters["since_last_changed"] is not None:
                items = [m for m in items if m.last_changed > filters["since_last_changed"]]
            if filters["before_last_changed"] is not None:
                items = [m for m in items if m.last_changed < filters["before_last_changed"]]
            if filters["since_timestamp_opt"] is not None:
                items = [m for m in items if m.opt > filters["since_timestamp_opt"]]
            if filters["before_timestamp_opt"] is not None:
                items = [m for m in items if m.opt < filters["before_timestamp_opt"]]
            return _sort(
                q,
                {
                    "last_changed": lambda m: (m.last_changed, m.seq),
                    "timestamp_opt": lambda m: (m.opt, m.seq),
                    "timestamp_signup": lambda m: (m.signup, m.seq),
                },
                items,
            )

        items = self._memoized(key, build)
        offset, count = _paging(q)
        return {
            "members": [member_record(m) for m in items[offset : offset + count]],
            "list_id": list_id,
            "total_items": len(items),
            "_links": _links(f"/lists/{list_id}/members"),
        }

    def member_one(self, q: dict[str, str], list_id: str, hash: str) -> dict:
        self._list(list_id)
        key = hash.lower() if len(hash) == 32 else hash.strip().lower()
        for m in self.world.members[list_id]:
            if m.id == key or m.email.lower() == key:
                return member_record(m)
        raise ApiError(404, "ResourceNotFound", f"member {hash!r} is not in list {list_id!r}")

    # ------------------------------------------------------------------ campaigns & reports
    def campaign_stats(self, c: Campaign) -> dict:
        def build() -> dict:
            now = self.world.now
            hard = soft = opens = clicks = unique_opens = subscriber_clicks = 0
            unique_clicks: set[tuple[str, str]] = set()
            last_open = last_click = 0
            for s in c.sends:
                if s.status == "hard":
                    hard += 1
                elif s.status == "soft":
                    soft += 1
                opened = clicked = False
                for action, ts, url, _ip, _t in s.actions:
                    if ts > now:
                        break
                    if action == "open":
                        opens += 1
                        opened = True
                        last_open = max(last_open, ts)
                    elif action == "click":
                        clicks += 1
                        clicked = True
                        unique_clicks.add((s.member.id, url))
                        last_click = max(last_click, ts)
                unique_opens += opened
                subscriber_clicks += clicked
            delivered = max(1, len(c.sends) - hard - soft)
            return {
                "emails_sent": len(c.sends),
                "hard_bounces": hard,
                "soft_bounces": soft,
                "opens_total": opens,
                "unique_opens": unique_opens,
                "open_rate": round(unique_opens / delivered, 6),
                "last_open": mc_time(last_open) if last_open else "",
                "clicks_total": clicks,
                "unique_clicks": len(unique_clicks),
                "unique_subscriber_clicks": subscriber_clicks,
                "click_rate": round(subscriber_clicks / delivered, 6),
                "last_click": mc_time(last_click) if last_click else "",
                "unsubscribed": sum(1 for u in c.unsubs if u.ts <= now),
            }

        return self._memoized(("stats", c.id), build)

    def campaign_record(self, c: Campaign) -> dict:
        lst = self._list(c.list_id)
        st = self.campaign_stats(c) if c.send_time else None
        return {
            "id": c.id,
            "web_id": c.web_id,
            "type": "regular",
            "create_time": mc_time(c.create_time),
            "archive_url": f"https://mock.list-manage.com/campaign/{c.id}",
            "status": c.status,
            "emails_sent": st["emails_sent"] if st else 0,
            "send_time": mc_time(c.send_time) if c.send_time else "",
            "content_type": "template",
            "recipients": {
                "list_id": c.list_id,
                "list_is_active": True,
                "list_name": lst.name,
                "segment_text": "",
                "recipient_count": st["emails_sent"] if st else 0,
            },
            "settings": {
                "subject_line": c.subject,
                "title": c.title,
                "from_name": "Northwind",
                "reply_to": "news@northwind-demo.com",
            },
            "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
            "report_summary": (
                {
                    "opens": st["opens_total"],
                    "unique_opens": st["unique_opens"],
                    "open_rate": st["open_rate"],
                    "clicks": st["clicks_total"],
                    "subscriber_clicks": st["unique_subscriber_clicks"],
                    "click_rate": st["click_rate"],
                }
                if st
                else {}
            ),
            "_links": _links(f"/campaigns/{c.id}"),
        }

    def campaigns(self, q: dict[str, str]) -> dict:
        f = {
            n: _time_param(q, n)
            for n in (
                "since_create_time",
                "before_create_time",
                "since_send_time",
                "before_send_time",
            )
        }
        status, list_id = q.get("status"), q.get("list_id")
        items = []
        for c in self.world.campaigns:
            if (status and c.status != status) or (list_id and c.list_id != list_id):
                continue
            if f["since_create_time"] is not None and not c.create_time > f["since_create_time"]:
                continue
            if f["before_create_time"] is not None and not c.create_time < f["before_create_time"]:
                continue
            if f["since_send_time"] is not None and not (
                c.send_time and c.send_time > f["since_send_time"]
            ):
                continue
            if f["before_send_time"] is not None and not (
                c.send_time and c.send_time < f["before_send_time"]
            ):
                continue
            items.append(c)
        items = _sort(
            q,
            {
                "create_time": lambda c: (c.create_time, c.seq),
                "send_time": lambda c: (c.send_time, c.seq),
            },
            items,
        )
        offset, count = _paging(q)
        page = [self.campaign_record(c) for c in items[offset : offset + count]]
        return {"campaigns": page, "total_items": len(items), "_links": _links("/campaigns")}

    def campaign_one(self, q: dict[str, str], campaign_id: str) -> dict:
        return self.campaign_record(self._campaign(campaign_id))

    def report_record(self, c: Campaign) -> dict:
        st = self.campaign_stats(c)
        lst = self._list(c.list_id)
        return {
            "id": c.id,
            "campaign_title": c.title,
            "type": "regular",
            "list_id": c.list_id,
            "list_is_active": True,
            "list_name": lst.name,
            "subject_line": c.subject,
            "emails_sent": st["emails_sent"],
            "abuse_reports": 0,
            "unsubscribed": st["unsubscribed"],
            "send_time": mc_time(c.send_time),
            "bounces": {
                "hard_bounces": st["hard_bounces"],
                "soft_bounces": st["soft_bounces"],
                "syntax_errors": 0,
            },
            "forwards": {"forwards_count": 0, "forwards_opens": 0},
            "opens": {
                "opens_total": st["opens_total"],
                "unique_opens": st["unique_opens"],
                "open_rate": st["open_rate"],
                "last_open": st["last_open"],
            },
            "clicks": {
                "clicks_total": st["clicks_total"],
                "unique_clicks": st["unique_clicks"],
                "unique_subscriber_clicks": st["unique_subscriber_clicks"],
                "click_rate": st["click_rate"],
                "last_click": st["last_click"],
            },
            "_links": _links(f"/reports/{c.id}"),
        }

    def reports(self, q: dict[str, str]) -> dict:
        since, before = _time_param(q, "since_send_time"), _time_param(q, "before_send_time")
        items = [
            c
            for c in self.world.campaigns
            if c.send_time
            and (since is None or c.send_time > since)
            and (before is None or c.send_time < before)
        ]
        offset, count = _paging(q)
        page = [self.report_record(c) for c in items[offset : offset + count]]
        return {"reports": page, "total_items": len(items), "_links": _links("/reports")}

    def report_one(self, q: dict[str, str], campaign_id: str) -> dict:
        return self.report_record(self._campaign(campaign_id, sent=True))

    def _activity_items(self, c: Campaign, since: int | None) -> list[dict]:
        def build() -> list[dict]:
            now = self.world.now
            out = []
            for s in c.sends:
                acts = [a for a in s.actions if a[1] <= now and (since is None or a[1] > since)]
                if acts:
                    out.append(
                        {
                            "campaign_id": c.id,
                            "list_id": c.list_id,
                            "list_is_active": True,
                            "email_id": s.member.id,
                            "email_address": s.member.email,
                            "activity": [activity_record(a) for a in acts],
                        }
                    )
            return out

        return self._memoized(("activity", c.id, since), build)

    def email_activity(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        items = self._activity_items(c, _time_param(q, "since"))
        path = f"/reports/{campaign_id}/email-activity"
        return _envelope("emails", items, q, path, campaign_id=c.id)

    def unsubscribed(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        now = self.world.now
        items = [
            {
                "email_id": u.member.id,
                "email_address": u.member.email,
                "merge_fields": _merge(u.member),
                "vip": False,
                "timestamp": mc_time(u.ts),
                "reason": u.reason,
                "campaign_id": c.id,
                "list_id": c.list_id,
                "list_is_active": True,
            }
            for u in c.unsubs
            if u.ts <= now
        ]
        return _envelope(
            "unsubscribes", items, q, f"/reports/{campaign_id}/unsubscribed", campaign_id=c.id
        )

    def sent_to(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        offset, count = _paging(q)
        page = [sent_to_record(self.world, c, s) for s in c.sends[offset : offset + count]]
        return {
            "sent_to": page,
            "campaign_id": c.id,
            "total_items": len(c.sends),
            "_links": _links(f"/reports/{campaign_id}/sent-to"),
        }


def activity_record(a: tuple[str, int, str, str, str]) -> dict:
    action, ts, url, ip, btype = a
    if action == "bounce":
        return {"action": "bounce", "type": btype, "timestamp": mc_time(ts)}
    if action == "click":
        return {"action": "click", "timestamp": mc_time(ts), "url": url, "ip": ip}
    return {"action": "open", "timestamp": mc_time(ts), "ip": ip}


def sent_to_record(world: World, c: Campaign, s: Send) -> dict:
    opens = [a[1] for a in s.actions if a[0] == "open" and a[1] <= world.now]
    return {
        "email_id": s.member.id,
        "email_address": s.member.email,
        "merge_fields": _merge(s.member),
        "vip": False,
        "status": s.status,
        "open_count": len(opens),
        "last_open": mc_time(max(opens)) if opens else "",
        "absplit_group": "",
        "gmt_offset": 0,
        "campaign_id": c.id,
        "list_id": c.list_id,
        "list_is_active": True,
    }
