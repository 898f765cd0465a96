"""MailChimp Marketing API v3 over the world: routes, filters, paging, stats.

Handlers are plain functions (world, path args, query) -> payload; the ASGI layer
in `mock_apis.app` adds auth, errors as problem+json, faults and caching. Record
shapes live in `mock_apis.mc_shapes`. Filters follow the vendor's wording:
`since_*` means strictly after, `before_*` strictly before. Archived members are
listed like any other status (the archive is the deletion signal the raw layer
keeps). Reports exist only for sent campaigns: `/reports/{id}` and its children
answer 404 for a draft or a scheduled one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from mock_apis.clock import mc_time, parse_time
from mock_apis.errors import ApiError
from mock_apis.mc_shapes import (
    MERGE_FIELD_COUNT,
    MID,
    Links,
    ListShape,
    MemberParts,
    activity_record,
    campaign_record,
    list_record,
    list_shape,
    member_parts,
    report_record,
)
from mock_apis.memo import MemoizedViews
from mock_apis.model import Campaign, MailList, Member
from mock_apis.world import World

MAX_COUNT = 1000
MEMBER_STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}


class Assembled(dict):
    """A payload assembled from per-record serialised bytes: rebuilding it costs about
    what storing it would, so the app does not keep it in its response cache."""


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


# --------------------------------------------------------------------------- the API
class MailChimpApi(MemoizedViews):
    """Route table + per-world-version memo of derived views (stats, activity) + a
    per-member cache of serialised records (invalidated by the member's `rev`)."""

    def __init__(self, world: World, dc: str = "us21") -> None:
        super().__init__(world)
        self.links = Links(dc)
        self._shapes: dict[str, ListShape] = {}
        self._parts: dict[int, MemberParts] = {}
        self._child_links: dict[tuple[str, str], bytes] = {}
        self.routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
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

    def handle(self, path: str, q: dict[str, str]) -> Any:
        """The payload for GET `path`: a dict (an `Assembled` one for pages built from
        cached member bytes) or an `orjson.Fragment`, with `fields`/`exclude_fields`
        applied."""
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
    def _list(self, list_id: str) -> MailList:
        lst = self.world.list_by_id.get(list_id)
        if lst is None:
            raise ApiError(404, "ResourceNotFound", f"list {list_id!r} does not exist")
        return lst

    def _campaign(self, campaign_id: str, sent: bool = False) -> Campaign:
        for c in self.world.campaigns:
            if c.id == campaign_id:
                if sent and not c.send_time:
                    raise ApiError(
                        404,
                        "ResourceNotFound",
                        f"campaign {campaign_id!r} has status {c.status!r}: reports exist only "
                        "for sent campaigns (list them with GET /reports)",
                    )
                return c
        raise ApiError(404, "ResourceNotFound", f"campaign {campaign_id!r} does not exist")

    def _child_template(self, c: Campaign, child: str, target: str) -> bytes:
        key = (c.id, child)
        if key not in self._child_links:
            self._child_links[key] = self.links.child_template(c.id, child, target, c.list_id)
        return self._child_links[key]

    # ------------------------------------------------------------------ account & lists
    def root(self, q: dict[str, str]) -> dict:
        return {
            "account_id": "mockaccount",
            "account_name": "Northwind Demo",
            "email": "marketing@northwind-demo.com",
            "total_subscribers": sum(len(m) for m in self.world.members.values()),
            "_links": [self.links.link("self", "/", target="Root/Response")],
        }

    def ping(self, q: dict[str, str]) -> dict:
        return {"health_status": "Everything's Chimpy!"}

    def list_stats(self, lst: MailList) -> dict[str, Any]:
        return self._memoized(("list_stats", lst.id), lambda: self._build_list_stats(lst))

    def _build_list_stats(self, lst: MailList) -> dict[str, Any]:
        now = self.world.now
        sent = [c for c in self.world.campaigns if c.list_id == lst.id and c.send_time]
        last_sent = max((c.send_time for c in sent), default=0)
        counts = {"subscribed": 0, "unsubscribed": 0, "cleaned": 0}
        since = dict.fromkeys(counts, 0)
        last = {"subscribed": 0, "unsubscribed": 0}
        year_ago = now - 365 * 86400
        subs_year = unsubs_year = 0
        for m in self.world.members[lst.id]:
            if m.status in counts:
                counts[m.status] += 1
                since[m.status] += m.last_changed > last_sent
            if m.status in last and m.last_changed <= now:
                ts = m.opt if m.status == "subscribed" and m.opt <= now else m.last_changed
                last[m.status] = max(last[m.status], ts)
            subs_year += m.signup > year_ago
            unsubs_year += m.status == "unsubscribed" and m.last_changed > year_ago
        rates = [self.campaign_stats(c) for c in sent]
        return {
            "member_count": counts["subscribed"],
            "total_contacts": len(self.world.members[lst.id]),
            "unsubscribe_count": counts["unsubscribed"],
            "cleaned_count": counts["cleaned"],
            "member_count_since_send": since["subscribed"],
            "unsubscribe_count_since_send": since["unsubscribed"],
            "cleaned_count_since_send": since["cleaned"],
            "campaign_count": len(sent),
            "campaign_last_sent": mc_time(last_sent) if last_sent else "",
            "merge_field_count": MERGE_FIELD_COUNT,
            "avg_sub_rate": round(subs_year / 12),
            "avg_unsub_rate": round(unsubs_year / 12),
            "target_sub_rate": round(subs_year / 12 * 1.2),
            "open_rate": round(100 * sum(r["open_rate"] for r in rates) / max(1, len(rates)), 2),
            "click_rate": round(100 * sum(r["click_rate"] for r in rates) / max(1, len(rates)), 2),
            "last_sub_date": mc_time(last["subscribed"]) if last["subscribed"] else "",
            "last_unsub_date": mc_time(last["unsubscribed"]) if last["unsubscribed"] else "",
        }

    def list_record(self, lst: MailList) -> dict:
        return list_record(lst, self.list_stats(lst), self.links, self.world.config.seed)

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
        return {
            "lists": [self.list_record(x) for x in items[offset : offset + count]],
            "total_items": len(items),
            "constraints": {
                "may_create": True,
                "max_instances": 100,
                "current_total_instances": len(self.world.lists),
            },
            "_links": self.links.collection("/lists", "Lists", create=True),
        }

    def list_one(self, q: dict[str, str], list_id: str) -> dict:
        return self.list_record(self._list(list_id))

    # ------------------------------------------------------------------ members
    def _member_parts(self, m: Member) -> MemberParts:
        parts = self._parts.get(id(m))
        if parts is None or parts.rev != m.rev:
            shape = self._shapes.get(m.list_id)
            if shape is None:
                shape = self._shapes[m.list_id] = list_shape(self._list(m.list_id), self.links)
            ops = ()
            if self.world.defects.active:  # defects bump `rev`, so this reruns when they change
                ops = self.world.defects.ops["members"].get(f"{m.list_id}|{m.id}", ())
            parts = member_parts(m, shape, self.world.company_names, ops)
            self._parts[id(m)] = parts
        return parts

    def member_json(self, m: Member) -> bytes:
        """The member as the API serialises it (cached until the member changes)."""
        return self._member_parts(m).record(m, self._shapes[m.list_id])

    def members(self, q: dict[str, str], list_id: str) -> Assembled:
        self._list(list_id)
        status = q.get("status")
        if status and status not in MEMBER_STATUSES:
            raise ApiError(
                400, "InvalidResource", f"status={status!r} is not one of {sorted(MEMBER_STATUSES)}"
            )
        names = ("since_last_changed", "before_last_changed", "since_timestamp_opt",
                 "before_timestamp_opt")  # fmt: skip
        filters = {name: _time_param(q, name) for name in names}
        key = (
            "members",
            list_id,
            status,
            tuple(filters.values()),
            q.get("sort_field"),
            q.get("sort_dir"),
        )
        items = self._memoized(key, lambda: self._member_view(q, list_id, status, filters))
        offset, count = _paging(q)
        return Assembled(
            members=[orjson.Fragment(self.member_json(m)) for m in items[offset : offset + count]],
            list_id=list_id,
            total_items=len(items),
            _links=self.links.collection(
                f"/lists/{list_id}/members",
                "Lists/Members",
                parent=(f"/lists/{list_id}", "Lists/Response"),
                create=True,
            ),
        )

    def _member_view(
        self, q: dict[str, str], list_id: str, status: str | None, f: dict[str, int | None]
    ) -> list[Member]:
        if self.world.defects and self.world.defects.is_empty("members"):
            return []
        items = self.world.members[list_id]
        if status:
            items = [m for m in items if m.status == status]
        if f["since_last_changed"] is not None:
            items = [m for m in items if m.last_changed > f["since_last_changed"]]
        if f["before_last_changed"] is not None:
            items = [m for m in items if m.last_changed < f["before_last_changed"]]
        if f["since_timestamp_opt"] is not None:
            items = [m for m in items if m.opt > f["since_timestamp_opt"]]
        if f["before_timestamp_opt"] is not None:
            items = [m for m in items if m.opt < f["before_timestamp_opt"]]
        return _sort(
            q,
            {
                "last_changed": lambda m: (m.last_changed, m.seq),
                "timestamp_opt": lambda m: (m.opt, m.seq),
                "timestamp_signup": lambda m: (m.signup, m.seq),
            },
            items,
        )

    def member_one(self, q: dict[str, str], list_id: str, hash: str) -> orjson.Fragment:
        self._list(list_id)
        key = hash.lower() if len(hash) == 32 else hash.strip().lower()
        empty = self.world.defects and self.world.defects.is_empty("members")
        for m in () if empty else self.world.members[list_id]:
            if m.id == key or m.email.lower() == key:
                return orjson.Fragment(self.member_json(m))
        raise ApiError(404, "ResourceNotFound", f"member {hash!r} is not in list {list_id!r}")

    # ------------------------------------------------------------------ campaigns & reports
    def campaign_stats(self, c: Campaign) -> dict[str, Any]:
        return self._memoized(("stats", c.id), lambda: self._build_stats(c))

    def _build_stats(self, c: Campaign) -> dict[str, Any]:
        now = self.world.now
        t = _tally(c, now)
        hard, soft, subscriber_clicks = t["hard"], t["soft"], t["subscriber_clicks"]
        unique_opens, last_open, last_click = t["unique_opens"], t["last_open"], t["last_click"]
        delivered = max(1, len(c.sends) - hard - soft)
        orders = subscriber_clicks // 12
        hour0 = c.send_time - c.send_time % 3600
        return {
            "emails_sent": len(c.sends),
            "hard_bounces": hard,
            "soft_bounces": soft,
            "opens_total": t["opens"],
            "unique_opens": unique_opens,
            "open_rate": round(unique_opens / delivered, 6),
            "last_open": mc_time(last_open) if last_open else "",
            "clicks_total": t["clicks"],
            "unique_clicks": t["unique_clicks"],
            "unique_subscriber_clicks": subscriber_clicks,
            "click_rate": round(subscriber_clicks / delivered, 6),
            "last_click": mc_time(last_click) if last_click else "",
            "unsubscribed": sum(1 for u in c.unsubs if u.ts <= now),
            "forwards": unique_opens // 150,
            "timeseries": [
                {
                    "timestamp": mc_time(hour0 + h * 3600),
                    "emails_sent": len(c.sends) if h == 0 else 0,
                    "unique_opens": t["hourly_opens"][h],
                    "recipients_clicks": t["hourly_clicks"][h],
                }
                for h in range(24)
                if hour0 + h * 3600 <= now
            ],
            "ecommerce": {
                "total_orders": orders,
                "total_spent": round(orders * 61.5, 2),
                "total_revenue": round(orders * 57.25, 2),
                "currency_code": "USD",
            },
        }

    def campaign_record(self, c: Campaign) -> dict:
        st = self.campaign_stats(c) if c.send_time else None
        rec = campaign_record(c, self._list(c.list_id), st, self.links, self.world.config.seed)
        return self.world.defects.patch("campaigns", c.id, rec) if self.world.defects else rec

    def campaigns(self, q: dict[str, str]) -> dict:
        names = ("since_create_time", "before_create_time", "since_send_time", "before_send_time")
        f = {n: _time_param(q, n) for n in names}
        status, list_id = q.get("status"), q.get("list_id")
        empty = self.world.defects and self.world.defects.is_empty("campaigns")
        items = [
            c
            for c in (() if empty else self.world.campaigns)
            if not (status and c.status != status)
            and not (list_id and c.list_id != list_id)
            and _within(c.create_time, f["since_create_time"], f["before_create_time"])
            and (
                (f["since_send_time"] is None and f["before_send_time"] is None)
                or (
                    c.send_time
                    and _within(c.send_time, f["since_send_time"], f["before_send_time"])
                )
            )
        ]
        items = _sort(
            q,
            {
                "create_time": lambda c: (c.create_time, c.seq),
                "send_time": lambda c: (c.send_time, c.seq),
            },
            items,
        )
        offset, count = _paging(q)
        return {
            "campaigns": [self.campaign_record(c) for c in items[offset : offset + count]],
            "total_items": len(items),
            "_links": self.links.collection("/campaigns", "Campaigns", create=True),
        }

    def campaign_one(self, q: dict[str, str], campaign_id: str) -> dict:
        if self.world.defects and self.world.defects.is_empty("campaigns"):
            raise ApiError(404, "ResourceNotFound", f"campaign {campaign_id!r} does not exist")
        return self.campaign_record(self._campaign(campaign_id))

    def report_record(self, c: Campaign) -> dict:
        lst = self._list(c.list_id)
        return report_record(c, lst, self.campaign_stats(c), self.list_stats(lst), self.links)

    def reports(self, q: dict[str, str]) -> dict:
        since, before = _time_param(q, "since_send_time"), _time_param(q, "before_send_time")
        items = [
            c for c in self.world.campaigns if c.send_time and _within(c.send_time, since, before)
        ]
        offset, count = _paging(q)
        return {
            "reports": [self.report_record(c) for c in items[offset : offset + count]],
            "total_items": len(items),
            "_links": self.links.collection("/reports", "Reports"),
        }

    def report_one(self, q: dict[str, str], campaign_id: str) -> dict:
        return self.report_record(self._campaign(campaign_id, sent=True))

    # ------------------------------------------------------------------ report children
    def _child_envelope(
        self, key: str, c: Campaign, child: str, target: str, items: list, total: int
    ) -> dict:
        base = f"/reports/{c.id}/{child}"
        return {
            key: items,
            "campaign_id": c.id,
            "total_items": total,
            "_links": [
                self.links.link("self", base, target=f"Reports/{target}/CollectionResponse",
                                schema=f"Paths/Reports/{target}/Collection"),
                self.links.link("parent", f"/reports/{c.id}", target="Reports/Response"),
            ],
        }  # fmt: skip

    def _activity_view(self, c: Campaign, since: int | None) -> list[tuple[Member, list]]:
        def build() -> list[tuple[Member, list]]:
            if self.world.defects:
                return self.world.defects.activity_view(c, since)
            now = self.world.now
            out = []
            for s in c.sends:
                acts = [a for a in s.actions if a[1] <= now and (since is None or a[1] > since)]
                if acts:
                    out.append((s.member, acts))
            return out

        return self._memoized(("activity", c.id, since), build)

    def email_activity(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        items = self._activity_view(c, _time_param(q, "since"))
        offset, count = _paging(q)
        links = self._child_template(c, "email-activity", "EmailActivity")
        page = [
            {
                "campaign_id": c.id,
                "list_id": c.list_id,
                "list_is_active": True,
                "email_id": m.id,
                "email_address": m.email,
                "activity": [activity_record(a) for a in acts],
                "_links": orjson.Fragment(links.replace(MID, m.id.encode())),
            }
            for m, acts in items[offset : offset + count]
        ]
        if self.world.defects:
            for rec in page:
                self.world.defects.patch("email_activity", f"{c.id}|{rec['email_id']}", rec)
        return self._child_envelope(
            "emails", c, "email-activity", "EmailActivity", page, len(items)
        )

    def unsubscribed(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        now = self.world.now
        items = [u for u in c.unsubs if u.ts <= now]
        offset, count = _paging(q)
        links = self._child_template(c, "unsubscribed", "Unsubs")
        page = []
        for u in items[offset : offset + count]:
            parts = self._member_parts(u.member)
            page.append(
                {
                    "email_id": u.member.id,
                    "email_address": u.member.email,
                    "merge_fields": orjson.Fragment(parts.merge_fields),
                    "vip": parts.vip,
                    "timestamp": mc_time(u.ts),
                    "reason": u.reason,
                    "campaign_id": c.id,
                    "list_id": c.list_id,
                    "list_is_active": True,
                    "_links": orjson.Fragment(links.replace(MID, u.member.id.encode())),
                }
            )
        return self._child_envelope("unsubscribes", c, "unsubscribed", "Unsubs", page, len(items))

    def sent_to(self, q: dict[str, str], campaign_id: str) -> dict:
        c = self._campaign(campaign_id, sent=True)
        offset, count = _paging(q)
        links = self._child_template(c, "sent-to", "SentTo")
        now = self.world.now
        page = []
        for s in c.sends[offset : offset + count]:
            parts = self._member_parts(s.member)
            opens = [a[1] for a in s.actions if a[0] == "open" and a[1] <= now]
            page.append(
                {
                    "email_id": s.member.id,
                    "email_address": s.member.email,
                    "merge_fields": orjson.Fragment(parts.merge_fields),
                    "vip": parts.vip,
                    "status": s.status,
                    "open_count": len(opens),
                    "last_open": mc_time(max(opens)) if opens else "",
                    "absplit_group": "",
                    "gmt_offset": parts.gmtoff,
                    "campaign_id": c.id,
                    "list_id": c.list_id,
                    "list_is_active": True,
                    "_links": orjson.Fragment(links.replace(MID, s.member.id.encode())),
                }
            )
        return self._child_envelope("sent_to", c, "sent-to", "SentTo", page, len(c.sends))


def _tally(c: Campaign, now: int) -> dict[str, Any]:
    """Count a campaign's visible activity: bounces, opens, clicks, first-day curve."""
    counters = "hard soft opens clicks unique_opens subscriber_clicks last_open last_click"
    t: dict[str, Any] = dict.fromkeys(counters.split(), 0)
    unique_clicks: set[tuple[str, str]] = set()
    t["hourly_opens"], t["hourly_clicks"] = [0] * 24, [0] * 24
    for s in c.sends:
        t["hard"] += s.status == "hard"
        t["soft"] += s.status == "soft"
        first_open = first_click = 0
        for action, ts, url, _ip, _t in s.actions:
            if ts > now:
                break
            if action == "open":
                t["opens"] += 1
                first_open = first_open or ts
                t["last_open"] = max(t["last_open"], ts)
            elif action == "click":
                t["clicks"] += 1
                first_click = first_click or ts
                unique_clicks.add((s.member.id, url))
                t["last_click"] = max(t["last_click"], ts)
        t["unique_opens"] += bool(first_open)
        t["subscriber_clicks"] += bool(first_click)
        for first, hourly in ((first_open, t["hourly_opens"]), (first_click, t["hourly_clicks"])):
            if first and (first - c.send_time) // 3600 < 24:
                hourly[(first - c.send_time) // 3600] += 1
    t["unique_clicks"] = len(unique_clicks)
    return t


def _within(ts: int, since: int | None, before: int | None) -> bool:
    return (since is None or ts > since) and (before is None or ts < before)
