"""The world model: record types, the knobs of a world, and the vocabulary both APIs share.

Plain data. `mock_apis.generate` fills a `mock_apis.world.World` with these records,
`mock_apis.advance` changes them, and the API modules (`mailchimp`, `hubspot`,
`groundtruth`) read them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from mock_apis.clock import hs_time
from mock_apis.defects import DefectSpec, coerce_defect
from mock_apis.pipelines import DEFAULT_STAGES
from mock_apis.properties import INDUSTRIES

BASE_COUNTS = {
    "lists": 3,
    "members": 9000,
    "campaigns": 45,
    "contacts": 6000,
    "companies": 1500,
    "deals": 2500,
    "owners": 12,
}
# Streams `WorldConfig.empty_streams` can empty. Entity streams get a count of 0
# (no lists means no members or campaigns either); "reports" leaves every campaign
# unsent (so sent_to, email_activity and unsubscribes are empty too).
EMPTYABLE_STREAMS = (
    "lists",
    "members",
    "campaigns",
    "reports",
    "email_activity",
    "unsubscribes",
    "contacts",
    "companies",
    "deals",
    "contact_companies",
    "deal_contacts",
    "deal_companies",
)
MIDDLE_RATE = 0.15  # share created between 2020-01-01 and the recent ~18 months
PIPELINE_STAGES = DEFAULT_STAGES  # the default pipeline's (id, label, probability, is_closed)
OPEN_STAGES = [s[0] for s in DEFAULT_STAGES if not s[3]]
COMPANY_INDUSTRIES = [*INDUSTRIES, ""]
DEAL_PLANS = ["Starter", "Pro", "Enterprise", "Renewal", "Upsell"]
FREEMAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me"]
TAGS = ["customer", "webinar", "newsletter", "trial", "vip", "event-2024", "partner"]
UNSUB_REASONS = [
    "N/A (Unsubscribed by admin)",
    "I no longer want to receive these emails",
    "I never signed up for this mailing list",
    "The emails are inappropriate",
    "The emails are spam and should be reported",
    "Other",
]
LEGACY_STATUSES = {
    "subscribed": 0.6,
    "unsubscribed": 0.14,
    "cleaned": 0.1,
    "archived": 0.08,
    "pending": 0.03,
    "transactional": 0.05,
}

# HubSpot v4 association type ids (HUBSPOT_DEFINED), per direction: (primary, unlabeled)
ASSOC_TYPES = {
    ("contacts", "companies"): (1, 279),
    ("companies", "contacts"): (2, 280),
    ("deals", "contacts"): (None, 3),
    ("contacts", "deals"): (None, 4),
    ("deals", "companies"): (5, 341),
    ("companies", "deals"): (6, 342),
}

CONTACT_DEFAULT_PROPS = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
COMPANY_DEFAULT_PROPS = ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name")
DEAL_DEFAULT_PROPS = (
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
)
DEFAULT_PROPS = {
    "contacts": CONTACT_DEFAULT_PROPS,
    "companies": COMPANY_DEFAULT_PROPS,
    "deals": DEAL_DEFAULT_PROPS,
}
CURSOR_PROP = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
# Every object carries these, whichever properties were asked for.
ALWAYS_PROPS = {
    kind: ("createdate", "hs_object_id", cursor) for kind, cursor in CURSOR_PROP.items()
}
ID_BASE = {"contacts": 1001, "companies": 5_000_001, "deals": 9_000_001}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def activity_id(campaign_id: str, email_id: str, action: str, timestamp: str, url: str) -> str:
    """The raw layer's email_activity primary key (docs/contracts.md §2)."""
    return md5(f"{campaign_id}|{email_id}|{action}|{timestamp}|{url}")


def association_types(from_type: str, to_type: str, primary: bool) -> list[dict[str, Any]]:
    """The `associationTypes` list HubSpot v4 returns for one association."""
    primary_id, plain_id = ASSOC_TYPES[(from_type, to_type)]
    out = []
    if primary and primary_id is not None:
        out.append({"category": "HUBSPOT_DEFINED", "typeId": primary_id, "label": "Primary"})
    out.append({"category": "HUBSPOT_DEFINED", "typeId": plain_id, "label": None})
    return out


@dataclass
class WorldConfig:
    """Knobs of the world. Per-entity counts override `scale` (e.g. contacts=12000; 0 is
    allowed except for owners); `empty_streams` empties streams by name; `defects`
    (`DefectSpec`s, dicts or `KIND[:STREAM][,opt=value]` strings, see `mock_apis.defects`)
    are injected, in order, into the generated world."""

    seed: int = 42
    scale: float = 1.0
    overlap_rate: float = 0.3
    dirty_rate: float = 0.03
    legacy_rate: float = 0.2  # created and last changed before 2020-01-01, unchanged since
    quiet_list: bool = True  # smallest list: no unsubscribes; its last campaign: no activity
    deal_pipelines: int = 3  # the default "Sales Pipeline" + custom ones with numeric ids
    custom_contact_properties: int = 150
    custom_company_properties: int = 40
    custom_deal_properties: int = 40
    empty_streams: tuple[str, ...] = ()
    lists: int | None = None
    members: int | None = None
    campaigns: int | None = None
    contacts: int | None = None
    companies: int | None = None
    deals: int | None = None
    owners: int | None = None
    defects: tuple[DefectSpec, ...] = ()

    def __post_init__(self) -> None:
        self.empty_streams = tuple(self.empty_streams)
        self.defects = tuple(coerce_defect(d) for d in self.defects)
        unknown = set(self.empty_streams) - set(EMPTYABLE_STREAMS)
        if unknown:
            raise ValueError(
                f"empty_streams: {sorted(unknown)} cannot be emptied; "
                f"choose from {list(EMPTYABLE_STREAMS)}"
            )
        for name in ("overlap_rate", "dirty_rate", "legacy_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be within [0, 1], got {getattr(self, name)}")
        if self.legacy_rate + MIDDLE_RATE > 1:
            raise ValueError(f"legacy_rate must be <= {1 - MIDDLE_RATE}, got {self.legacy_rate}")
        for entity in BASE_COUNTS:
            value = getattr(self, entity)
            if value is not None and (value < 0 or (entity == "owners" and value < 1)):
                raise ValueError(f"{entity}={value}: counts are >= 0 (owners >= 1)")

    def empty(self, stream: str) -> bool:
        return stream in self.empty_streams

    def count(self, entity: str) -> int:
        if self.empty(entity):
            return 0
        if entity in ("members", "campaigns") and self.count("lists") == 0:
            return 0
        override = getattr(self, entity)
        if override is not None:
            return int(override)
        floor = 3 if entity == "owners" else 1  # deals need a few owners to spread over
        return max(floor, round(BASE_COUNTS[entity] * self.scale))


# --------------------------------------------------------------------------- records
@dataclass(slots=True, eq=False)
class Person:
    first: str
    last: str
    email: str  # as MailChimp holds it (may be mixed case)
    engagement: float
    ip: str
    first_engaged: int = 0  # epoch s of first open/click, 0 if none


@dataclass(slots=True, eq=False)
class MailList:
    id: str
    web_id: int
    name: str
    date_created: int
    rating: int
    seq: int
    quiet: bool = False  # never an unsubscribe; its last sent campaign has no activity


@dataclass(slots=True, eq=False)
class Member:
    list_id: str
    id: str
    person: Person
    first: str
    last: str
    status: str
    signup: int
    opt: int
    last_changed: int
    rating: int
    tags: tuple[str, ...]
    seq: int
    dirty: tuple[str, ...] = ()
    legacy: bool = False  # joined before 2020 and frozen since (during generation)
    unsub_reason: str = ""
    rev: int = 0  # bumped by every change, so serialized copies know they are stale

    @property
    def email(self) -> str:
        return self.person.email

    def touch(self, ts: int) -> None:
        self.last_changed = ts
        self.rev += 1


@dataclass(slots=True, eq=False)
class Send:
    member: Member
    status: str  # sent | hard | soft
    # (action, ts, url, ip, bounce_type), sorted by ts; may lie ahead of the clock
    actions: list[tuple[str, int, str, str, str]]


@dataclass(slots=True, eq=False)
class Unsub:
    member: Member
    ts: int
    reason: str


@dataclass(slots=True, eq=False)
class Campaign:
    id: str
    web_id: int
    list_id: str
    title: str
    subject: str
    create_time: int
    send_time: int  # 0 = not sent
    status: str  # sent | save | schedule
    urls: tuple[str, ...]
    seq: int
    sends: list[Send] = field(default_factory=list)
    unsubs: list[Unsub] = field(default_factory=list)
    schedule_time: int = 0  # status "schedule": when it will go out
    quiet: bool = False  # sent, but nobody opened, clicked or bounced


@dataclass(slots=True, eq=False)
class CrmObject:
    kind: str
    id: int
    props: dict[str, str]
    created: int  # ms
    updated: int  # ms
    archived: bool = False
    archived_at: int = 0
    dirty: tuple[str, ...] = ()
    person: Person | None = None

    def touch(self, ms: int) -> None:
        self.updated = ms
        self.props[CURSOR_PROP[self.kind]] = hs_time(ms)


@dataclass(slots=True, eq=False)
class Owner:
    id: int
    user_id: int
    email: str
    first: str
    last: str
    created: int
    updated: int
