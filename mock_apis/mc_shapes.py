"""MailChimp Marketing API v3 record shapes: every documented field, `_links` included.

The world tracks what its story needs (status, timestamps, tags, activity); the
other documented fields (address, interests, location, permissions, client, ...)
are derived from the member's identity, so they are deterministic and stay put
unless the member changes. Members are serialised once per change (`MemberParts`)
and their `_links` are filled into a per-list byte template, because a page of
1,000 real-shaped members is ~4 MB of JSON.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from mock_apis.clock import mc_time
from mock_apis.defects import Ops, patch_record
from mock_apis.model import Campaign, MailList, Member, md5

MID = b"@@MID@@"  # placeholder for a member id / subscriber hash in link templates
ACCOUNT_NAME = "Northwind Demo"
FROM_EMAIL = "news@northwind-demo.com"
MERGE_FIELD_COUNT = 6  # FNAME LNAME ADDRESS PHONE BIRTHDAY COMPANY
INTERESTS = ["Product news", "Webinars", "Case studies", "Events", "Offers", "Tips", "Partners"]
PERMISSIONS = ["Email", "Direct Mail", "Customized Online Advertising"]
SOURCES = [
    "Hosted Signup Form",
    "Embedded Form",
    "Signup Form (Popup)",
    "API - Generic",
    "Import",
    "Admin Add",
]
FORM_SOURCES = SOURCES[:3]
CLIENTS = ["", "", "Gmail", "Apple Mail", "Outlook 2016", "iPhone", "Yahoo! Mail", "Android"]
NOTES = [
    "Asked about volume pricing at the spring webinar.",
    "Prefers the monthly digest only.",
    "Met at the Atlanta trade show; follow up in Q3.",
    "Requested a copy of the 2024 report.",
]
NOTE_AUTHORS = ["Dana Whitfield", "Marcus Chen", "Priya Natarajan"]
LOCATIONS = [
    # city, region, zip (a US prefix), country code, latitude, longitude, gmtoff, dstoff, timezone
    ("Atlanta", "GA", "303", "US", 33.749, -84.388, -5, -4, "America/New_York"),
    ("Boston", "MA", "021", "US", 42.3601, -71.0589, -5, -4, "America/New_York"),
    ("New York", "NY", "100", "US", 40.7128, -74.006, -5, -4, "America/New_York"),
    ("Chicago", "IL", "606", "US", 41.8781, -87.6298, -6, -5, "America/Chicago"),
    ("Austin", "TX", "787", "US", 30.2672, -97.7431, -6, -5, "America/Chicago"),
    ("Denver", "CO", "802", "US", 39.7392, -104.9903, -7, -6, "America/Denver"),
    ("Seattle", "WA", "981", "US", 47.6062, -122.3321, -8, -7, "America/Los_Angeles"),
    ("San Francisco", "CA", "941", "US", 37.7749, -122.4194, -8, -7, "America/Los_Angeles"),
    ("Toronto", "ON", "M5V 2T6", "CA", 43.6532, -79.3832, -5, -4, "America/Toronto"),
    ("London", "ENG", "EC1A 1BB", "GB", 51.5074, -0.1278, 0, 1, "Europe/London"),
    ("Dublin", "L", "D02 X285", "IE", 53.3498, -6.2603, 0, 1, "Europe/Dublin"),
    ("Berlin", "BE", "10115", "DE", 52.52, 13.405, 1, 2, "Europe/Berlin"),
    ("Sydney", "NSW", "2000", "AU", -33.8688, 151.2093, 10, 11, "Australia/Sydney"),
]
STREETS = ["Main St", "Oak Ave", "Peachtree Rd", "Market St", "Elm St", "Park Blvd", "High St"]
NO_LOCATION = {
    "latitude": 0,
    "longitude": 0,
    "gmtoff": 0,
    "dstoff": 0,
    "country_code": "",
    "timezone": "",
    "region": "",
}
INDUSTRY_STATS = {
    "type": "Software and Web App",
    "open_rate": 0.2109,
    "click_rate": 0.0261,
    "bounce_rate": 0.0061,
    "unopen_rate": 0.7831,
    "unsub_rate": 0.0023,
    "abuse_rate": 0.0001,
}


# --------------------------------------------------------------------------- links
class Links:
    """Hypermedia links as the real API writes them: absolute hrefs on the account's
    data centre, with the JSON schemas of the target and of the request body."""

    def __init__(self, dc: str) -> None:
        self.dc = dc
        self.api = f"https://{dc}.api.mailchimp.com/3.0"
        self.schema = f"https://{dc}.api.mailchimp.com/schema/3.0"

    def link(
        self,
        rel: str,
        path: str,
        method: str = "GET",
        target: str | None = None,
        schema: str | None = None,
    ) -> dict[str, str]:
        out = {"rel": rel, "href": f"{self.api}{path}", "method": method}
        if target:
            out["targetSchema"] = f"{self.schema}/Definitions/{target}.json"
        if schema:
            out["schema"] = f"{self.schema}/{schema}.json"
        return out

    def collection(
        self, path: str, target: str, parent: tuple[str, str] | None = None, create: bool = False
    ) -> list[dict[str, str]]:
        """Links of a collection envelope: self, parent (path, target) and create."""
        out = [
            self.link(
                "self",
                path,
                target=f"{target}/CollectionResponse",
                schema=f"Paths/{target}/Collection",
            )
        ]
        if parent:
            out.append(self.link("parent", parent[0], target=parent[1]))
        if create:
            out.append(
                self.link(
                    "create", path, "POST", f"{target}/Response", f"Definitions/{target}/POST"
                )
            )
        return out

    def member_template(self, list_id: str) -> bytes:
        """The 10 links of a member, with `MID` where the subscriber hash goes."""
        base = f"/lists/{list_id}/members/{MID.decode()}"
        t = "Lists/Members"
        links = [
            self.link("self", base, target=f"{t}/Response"),
            self.link(
                "parent",
                f"/lists/{list_id}/members",
                target=f"{t}/CollectionResponse",
                schema=f"Paths/{t}/Collection",
            ),
            self.link("update", base, "PATCH", f"{t}/Response", f"Definitions/{t}/PATCH"),
            self.link("upsert", base, "PUT", f"{t}/Response", f"Definitions/{t}/PUT"),
            self.link("delete", base, "DELETE"),
            self.link("activity", f"{base}/activity", target=f"{t}/Activity/Response"),
            self.link("goals", f"{base}/goals", target=f"{t}/Goals/Response"),
            self.link("notes", f"{base}/notes", target=f"{t}/Notes/CollectionResponse"),
            self.link("events", f"{base}/events", "POST", f"{t}/Events/POST"),
            self.link("delete_permanent", f"{base}/actions/delete-permanent", "POST"),
        ]
        return orjson.dumps(links)

    def list_item(self, list_id: str) -> list[dict[str, str]]:
        base = f"/lists/{list_id}"
        out = [
            self.link("self", base, target="Lists/Response"),
            self.link(
                "parent",
                "/lists",
                target="Lists/CollectionResponse",
                schema="Paths/Lists/Collection",
            ),
            self.link("update", base, "PATCH", "Lists/Response", "Definitions/Lists/PATCH"),
            self.link(
                "batch-sub-unsub-members",
                base,
                "POST",
                "Lists/BatchPOST-Response",
                "Definitions/Lists/BatchPOST",
            ),
            self.link("delete", base, "DELETE"),
        ]
        for rel, target in (
            ("abuse-reports", "Abuse"),
            ("activity", "Activity"),
            ("clients", "Clients"),
            ("growth-history", "Growth"),
            ("interest-categories", "InterestCategories"),
            ("members", "Members"),
            ("merge-fields", "MergeFields"),
            ("segments", "Segments"),
            ("webhooks", "Webhooks"),
            ("signup-forms", "SignupForms"),
            ("locations", "Locations"),
        ):
            single = target in ("Activity", "Clients")
            out.append(
                self.link(
                    rel,
                    f"{base}/{rel}",
                    target=f"Lists/{target}/{'Response' if single else 'CollectionResponse'}",
                    schema=None if single else f"Paths/Lists/{target}/Collection",
                )
            )
        return out

    def campaign_item(self, c: Campaign) -> list[dict[str, str]]:
        base, t = f"/campaigns/{c.id}", "Campaigns"
        out = [
            self.link("self", base, target=f"{t}/Response"),
            self.link(
                "parent",
                "/campaigns",
                target=f"{t}/CollectionResponse",
                schema=f"Paths/{t}/Collection",
            ),
            self.link("update", base, "PATCH", f"{t}/Response", f"Definitions/{t}/PATCH"),
            self.link("delete", base, "DELETE"),
            self.link("content", f"{base}/content", target=f"{t}/Content/Response"),
            self.link(
                "feedback",
                f"{base}/feedback",
                target=f"{t}/Feedback/CollectionResponse",
                schema=f"Paths/{t}/Feedback/Collection",
            ),
            self.link("send_checklist", f"{base}/send-checklist", target=f"{t}/Checklist/Response"),
            self.link("replicate", f"{base}/actions/replicate", "POST", f"{t}/Response"),
            self.link("test", f"{base}/actions/test", "POST", schema=f"Definitions/{t}/Test"),
        ]
        actions = {
            "save": ("send", "schedule"),
            "schedule": ("unschedule",),
            "sent": ("create-resend",),
        }.get(c.status, ())
        for action in actions:
            out.append(self.link(action.replace("-", "_"), f"{base}/actions/{action}", "POST"))
        return out

    def report_item(self, campaign_id: str) -> list[dict[str, str]]:
        base = f"/reports/{campaign_id}"
        out = [
            self.link("self", base, target="Reports/Response"),
            self.link(
                "parent",
                "/reports",
                target="Reports/CollectionResponse",
                schema="Paths/Reports/Collection",
            ),
            self.link("campaign", f"/campaigns/{campaign_id}", target="Campaigns/Response"),
        ]
        for rel, target in (
            ("sub-reports", "Sub"),
            ("abuse-reports", "Abuse"),
            ("advice", "Advice"),
            ("click-details", "ClickDetails"),
            ("domain-performance", "DomainPerformance"),
            ("eepurl", "Eepurl"),
            ("email-activity", "EmailActivity"),
            ("locations", "Locations"),
            ("sent-to", "SentTo"),
            ("unsubscribed", "Unsubs"),
            ("open-details", "OpenDetails"),
        ):
            out.append(
                self.link(rel, f"{base}/{rel}", target=f"Reports/{target}/CollectionResponse")
            )
        return out

    def child_template(self, campaign_id: str, child: str, target: str, list_id: str) -> bytes:
        """Links of one email-activity / sent-to / unsubscribed record (`MID` = hash)."""
        base = f"/reports/{campaign_id}/{child}"
        links = [
            self.link("self", f"{base}/{MID.decode()}", target=f"Reports/{target}/Response"),
            self.link(
                "parent",
                base,
                target=f"Reports/{target}/CollectionResponse",
                schema=f"Paths/Reports/{target}/Collection",
            ),
        ]
        if child != "email-activity":
            links.append(
                self.link(
                    "member",
                    f"/lists/{list_id}/members/{MID.decode()}",
                    target="Lists/Members/Response",
                )
            )
        return orjson.dumps(links)


# --------------------------------------------------------------------------- members
@dataclass(frozen=True, slots=True)
class ListShape:
    """What every member of one list shares: interest ids, permissions, link template."""

    list_id: str
    interest_ids: tuple[str, ...]
    permissions: tuple[tuple[str, str], ...]  # (id, text)
    links: bytes


def list_shape(lst: MailList, links: Links) -> ListShape:
    return ListShape(
        lst.id,
        tuple(md5(f"{lst.id}:interest:{name}")[:10] for name in INTERESTS),
        tuple((md5(f"{lst.id}:permission:{t}")[:10], t) for t in PERMISSIONS),
        links.member_template(lst.id),
    )


@dataclass(frozen=True, slots=True)
class MemberParts:
    """One member serialised: the record without its `_links` and closing brace, its
    merge fields (reused by sent-to and unsubscribed), and two values those need."""

    rev: int
    head: bytes
    merge_fields: bytes
    vip: bool
    gmtoff: int

    def record(self, m: Member, shape: ListShape) -> bytes:
        return b'%s,"_links":%s}' % (self.head, shape.links.replace(MID, m.id.encode()))


def _profile(
    m: Member, pr: random.Random, company_names: list[str]
) -> tuple[dict[str, Any], tuple | None]:
    """Person-level values (the same in every list the person is on): merge fields, location.
    Drawn first from `pr`, which is seeded by the person."""
    loc = LOCATIONS[pr.randrange(len(LOCATIONS))]
    address: dict[str, str] | str = ""
    if pr.random() < 0.65:
        address = {
            "addr1": f"{pr.randint(1, 9899)} {pr.choice(STREETS)}",
            "addr2": pr.choice(["", "", "", f"Suite {pr.randint(100, 990)}", "Apt 4"]),
            "city": loc[0],
            "state": loc[1],
            "zip": f"{loc[2]}{pr.randint(10, 99)}" if loc[3] == "US" else loc[2],
            "country": loc[3],
        }
    phone = pr.random() < 0.6
    merge = {
        "FNAME": m.first,
        "LNAME": m.last,
        "ADDRESS": address,
        "PHONE": f"+1 {pr.randint(201, 989)}-555-{pr.randint(1000, 9999)}" if phone else "",
        "BIRTHDAY": f"{pr.randint(1, 12):02d}/{pr.randint(1, 28):02d}" if pr.random() < 0.4 else "",
        "COMPANY": pr.choice(company_names) if company_names and pr.random() < 0.5 else "",
    }
    return merge, (loc if pr.random() < 0.85 else None)


def member_parts(
    m: Member, shape: ListShape, company_names: list[str], ops: Ops = ()
) -> MemberParts:
    """`ops`: an injected defect's overlays on the record (`mock_apis.defects.patch_record`)."""
    mr = random.Random(int(m.id, 16))  # the id is the md5 of the email: one per person
    merge, loc = _profile(m, mr, company_names)
    source = mr.choice(SOURCES)
    sms = mr.random() < 0.06
    vip = mr.random() < 0.02
    rec: dict[str, Any] = {
        "id": m.id,
        "email_address": m.email,
        "unique_email_id": md5(f"ueid:{m.list_id}:{m.id}")[:10],
        "contact_id": md5(f"contact:{m.email.lower()}"),
        "full_name": f"{m.first} {m.last}".strip(),
        "web_id": 400_000_000 + m.seq * 7,
        "email_type": "html" if mr.random() < 0.97 else "text",
        "status": m.status,
    }
    if m.status == "unsubscribed":
        rec["unsubscribe_reason"] = m.unsub_reason or "N/A (Unsubscribed by admin)"
    rec |= {
        "consents_to_one_to_one_messaging": mr.random() < 0.95,
        "sms_phone_number": f"+1404555{mr.randint(1000, 9999)}" if sms else "",
        "sms_subscription_status": mr.choice(["subscribed", "unsubscribed"]) if sms else "",
        "sms_subscription_last_updated": mc_time(m.opt) if sms else "",
        "merge_fields": merge,
        "interests": {iid: mr.random() < 0.3 for iid in shape.interest_ids},
        "stats": _member_stats(mr, m.person.engagement),
        "ip_signup": m.person.ip if source in FORM_SOURCES else "",
        "timestamp_signup": mc_time(m.signup),
        "ip_opt": m.person.ip,
        "timestamp_opt": mc_time(m.opt),
        "member_rating": m.rating,
        "last_changed": mc_time(m.last_changed),
        "language": mr.choice(["en", "en", "en", "en", "", "fr", "de", "es"]),
        "vip": vip,
        "email_client": mr.choice(CLIENTS),
        "location": _location(loc),
        "marketing_permissions": [
            {"marketing_permission_id": pid, "text": text, "enabled": mr.random() < 0.7}
            for pid, text in shape.permissions
        ],
    }
    if mr.random() < 0.04:
        rec["last_note"] = _last_note(m, mr)
    rec |= {
        "source": source,
        "tags_count": len(m.tags),
        "tags": [{"id": 1000 + sum(map(ord, t)), "name": t} for t in m.tags],
        "list_id": m.list_id,
    }
    if ops:
        patch_record(rec, ops)
    gmtoff = loc[6] if loc else 0
    # copies: orjson's buffers keep at least 4 KB of capacity, too much to keep 90,000 of
    return MemberParts(m.rev, orjson.dumps(rec)[:-1], bytes(memoryview(orjson.dumps(merge))),
                       vip, gmtoff)  # fmt: skip


def _last_note(m: Member, mr: random.Random) -> dict[str, Any]:
    return {
        "note_id": 10_000 + m.seq,
        "created_at": mc_time(mr.randint(m.signup, max(m.signup, m.last_changed))),
        "created_by": mr.choice(NOTE_AUTHORS),
        "note": mr.choice(NOTES),
    }


def _member_stats(mr: random.Random, engagement: float) -> dict[str, Any]:
    open_rate = round(min(1.0, engagement * 0.9 + mr.random() * 0.05), 2)
    orders = mr.choice([1, 2, 3, 6]) if mr.random() < 0.15 else 0
    return {
        "avg_open_rate": open_rate,
        "avg_click_rate": round(open_rate * mr.uniform(0.1, 0.4), 2),
        "ecommerce_data": {
            "total_revenue": round(orders * mr.uniform(20, 180), 2),
            "number_of_orders": orders,
            "currency_code": "USD",
        },
    }


def _location(loc: tuple | None) -> dict[str, Any]:
    if loc is None:
        return dict(NO_LOCATION)
    _city, region, _zip, cc, lat, lon, gmtoff, dstoff, tz = loc
    return {
        "latitude": lat,
        "longitude": lon,
        "gmtoff": gmtoff,
        "dstoff": dstoff,
        "country_code": cc,
        "timezone": tz,
        "region": region,
    }


# --------------------------------------------------------------------------- lists, campaigns
def account_id(seed: int) -> str:
    return md5(f"account:{seed}")[:25]


def list_record(lst: MailList, stats: dict[str, Any], links: Links, seed: int) -> dict[str, Any]:
    code = md5(f"eepurl:{lst.id}")[:6]
    return {
        "id": lst.id,
        "web_id": lst.web_id,
        "name": lst.name,
        "contact": {
            "company": ACCOUNT_NAME,
            "address1": "675 Ponce de Leon Ave NE",
            "address2": "Suite 5000",
            "city": "Atlanta",
            "state": "GA",
            "zip": "30308",
            "country": "US",
            "phone": "+1 404-555-0142",
        },
        "permission_reminder": "You are receiving this email because you signed up on our website.",
        "use_archive_bar": True,
        "campaign_defaults": {
            "from_name": "Northwind",
            "from_email": FROM_EMAIL,
            "subject": "",
            "language": "en",
        },
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": mc_time(lst.date_created),
        "list_rating": lst.rating,
        "email_type_option": False,
        "subscribe_url_short": f"http://eepurl.com/{code}",
        "subscribe_url_long": f"https://northwind-demo.{links.dc}.list-manage.com/subscribe"
        f"?u={account_id(seed)}&id={lst.id}",
        "beamer_address": f"{links.dc}-{md5(f'beamer:{seed}')[:10]}-{md5(lst.id)[:10]}"
        "@inbound.mailchimp.com",
        "visibility": "pub",
        "double_optin": lst.seq % 2 == 1,
        "has_welcome": lst.seq == 0,
        "marketing_permissions": True,
        "modules": [],
        "stats": stats,
        "_links": links.list_item(lst.id),
    }


def campaign_record(
    c: Campaign, lst: MailList, st: dict[str, Any] | None, links: Links, seed: int
) -> dict[str, Any]:
    """`st` is the campaign's stats (None while it is unsent)."""
    send = c.send_time or c.schedule_time
    rec: dict[str, Any] = {
        "id": c.id,
        "web_id": c.web_id,
        "parent_campaign_id": "",
        "type": "regular",
        "create_time": mc_time(c.create_time),
        "archive_url": f"http://eepurl.com/{md5(f'archive:{c.id}')[:6]}",
        "long_archive_url": f"https://us{links.dc[2:]}.campaign-archive.com/"
        f"?u={account_id(seed)}&id={c.id}",
        "status": c.status,
        "emails_sent": st["emails_sent"] if st else 0,
        "send_time": mc_time(send) if send else "",
        "content_type": "template",
        "needs_block_refresh": False,
        "resendable": False,
        "recipients": {
            "list_id": c.list_id,
            "list_is_active": True,
            "list_name": lst.name,
            "segment_text": "",
            "recipient_count": st["emails_sent"] if st else 0,
        },
        "settings": _campaign_settings(c),
        "tracking": {
            "opens": True,
            "html_clicks": True,
            "text_clicks": False,
            "goal_tracking": False,
            "ecomm360": False,
            "google_analytics": "",
            "clicktale": "",
        },
    }
    if st:
        rec["report_summary"] = {
            "opens": st["opens_total"],
            "unique_opens": st["unique_opens"],
            "open_rate": st["open_rate"],
            "clicks": st["clicks_total"],
            "subscriber_clicks": st["unique_subscriber_clicks"],
            "click_rate": st["click_rate"],
            "ecommerce": {
                k: st["ecommerce"][k] for k in ("total_orders", "total_spent", "total_revenue")
            },
        }
    rec["delivery_status"] = {"enabled": False}
    rec["_links"] = links.campaign_item(c)
    return rec


def _campaign_settings(c: Campaign) -> dict[str, Any]:
    return {
        "subject_line": c.subject,
        "preview_text": f"{c.title.split(': ')[-1]} inside",
        "title": c.title,
        "from_name": "Northwind",
        "reply_to": FROM_EMAIL,
        "use_conversation": False,
        "to_name": "*|FNAME|*",
        "folder_id": "",
        "authenticate": True,
        "auto_footer": False,
        "inline_css": False,
        "auto_tweet": False,
        "fb_comments": True,
        "timewarp": False,
        "template_id": 10_000 + c.seq % 7,
        "drag_and_drop": True,
    }


def report_record(
    c: Campaign, lst: MailList, st: dict[str, Any], list_stats: dict[str, Any], links: Links
) -> dict[str, Any]:
    return {
        "id": c.id,
        "campaign_title": c.title,
        "type": "regular",
        "list_id": c.list_id,
        "list_is_active": True,
        "list_name": lst.name,
        "subject_line": c.subject,
        "preview_text": f"{c.title.split(': ')[-1]} inside",
        "emails_sent": st["emails_sent"],
        "abuse_reports": 0,
        "unsubscribed": st["unsubscribed"],
        "send_time": mc_time(c.send_time),
        "bounces": {
            "hard_bounces": st["hard_bounces"],
            "soft_bounces": st["soft_bounces"],
            "syntax_errors": 0,
        },
        "forwards": {"forwards_count": st["forwards"], "forwards_opens": st["forwards"] // 2},
        "opens": {
            "opens_total": st["opens_total"],
            "proxy_excluded_opens": st["opens_total"],
            "unique_opens": st["unique_opens"],
            "proxy_excluded_unique_opens": st["unique_opens"],
            "open_rate": st["open_rate"],
            "proxy_excluded_open_rate": st["open_rate"],
            "last_open": st["last_open"],
        },
        "clicks": {
            "clicks_total": st["clicks_total"],
            "unique_clicks": st["unique_clicks"],
            "unique_subscriber_clicks": st["unique_subscriber_clicks"],
            "click_rate": st["click_rate"],
            "last_click": st["last_click"],
        },
        "facebook_likes": {"recipient_likes": 0, "unique_likes": 0, "facebook_likes": 0},
        "industry_stats": INDUSTRY_STATS,
        "list_stats": {
            "sub_rate": list_stats["avg_sub_rate"],
            "unsub_rate": list_stats["avg_unsub_rate"],
            "open_rate": list_stats["open_rate"],
            "click_rate": list_stats["click_rate"],
        },
        "timeseries": st["timeseries"],
        "ecommerce": st["ecommerce"],
        "delivery_status": {"enabled": False},
        "_links": links.report_item(c.id),
    }


def activity_record(a: tuple[str, int, str, str, str]) -> dict[str, str]:
    action, ts, url, ip, btype = a
    if action == "bounce":
        return {"action": "bounce", "type": btype, "timestamp": mc_time(ts)}
    if action == "click":
        return {"action": "click", "timestamp": mc_time(ts), "url": url, "ip": ip}
    return {"action": "open", "timestamp": mc_time(ts), "ip": ip}
