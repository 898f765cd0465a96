"""The mock company's data: one seed and a scale knob -> one deterministic world.

The world is what both APIs serve. It is generated once (plain Python, Faker only
for small name pools, explicit `random.Random`s) against a fixed reference clock,
and `advance()` (see `mock_apis.advance`) moves that clock, producing new,
updated, unsubscribed and archived records stamped inside the new window.

The story the data tells, so the warehouse has something to find:
- The accounts are old: MailChimp lists were created in 2016 and a share
  (`legacy_rate`) of members, contacts, companies and deals were created and last
  changed before 2020-01-01 (the connectors' default start date) and never since.
  Others arrived between 2020 and the last ~18 months; most arrived in those months.
- Campaigns go to each list's subscribed members, who open, click, bounce (hard
  bounces clean the member) and unsubscribe. Opens and clicks are generated ahead
  of the clock and only become visible once the clock passes them, so time
  advances reveal new activity. A few campaigns are drafts (`save`) or scheduled
  (`schedule`, sent when an advance passes their time); only sent ones have reports.
- Accounts have quiet corners: with `quiet_list` (default), the smallest list never
  has an unsubscribe and its last sent campaign has no activity at all.
- A share (`overlap_rate`) of HubSpot contacts are MailChimp people, picked from the
  most engaged first, with the email differing only in case or whitespace. Many of
  them get a deal created within 30 days of their first campaign click or open.
  Deals spread over `deal_pipelines` pipelines.
- A share (`dirty_rate`) of records are dirty: invalid/missing emails, duplicate
  contacts, blank names, empty deal amounts, timestamps in the future. Cursor
  fields (last_changed, lastmodifieddate, hs_lastmodifieddate) are never in the
  future, so incremental syncs stay checkable; the future timestamps are in
  members' timestamp_opt, contacts' createdate property and deals' closedate.
- `empty_streams` empties whole streams (see `EMPTYABLE_STREAMS`), so downstream
  code can be tested on an account where, say, nobody ever unsubscribed.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from mock_apis.clock import DAY, HISTORY_DAYS, LEGACY_END, LEGACY_START, WORLD_START, hs_time
from mock_apis.pipelines import DEFAULT_STAGES, Pipeline, Stage, build_pipelines
from mock_apis.properties import CITIES, INDUSTRIES, LIFECYCLE_STAGES, PropDef, build_catalog

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
    allowed except for owners); `empty_streams` empties streams by name."""

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

    def __post_init__(self) -> None:
        self.empty_streams = tuple(self.empty_streams)
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


# --------------------------------------------------------------------------- world
class World:
    """All records both APIs serve, plus the clock. Mutated only by `advance()`."""

    def __init__(self, config: WorldConfig | None = None, **overrides: Any) -> None:
        self.config = config or WorldConfig(**overrides)
        self.now = WORLD_START
        self.version = 0
        self.advances = 0
        self._emails: set[str] = set()
        self._rng = random.Random(f"world:{self.config.seed}")
        self.lists: list[MailList] = []
        self.list_by_id: dict[str, MailList] = {}
        self.members: dict[str, list[Member]] = {}
        self.campaigns: list[Campaign] = []
        self.owners: list[Owner] = []
        self.pipelines: list[Pipeline] = build_pipelines(self.config.deal_pipelines)
        self.pipeline_by_id = {p.id: p for p in self.pipelines}
        self.stage_index: dict[str, Stage] = {s.id: s for p in self.pipelines for s in p.stages}
        self.properties: dict[str, list[PropDef]] = {
            kind: build_catalog(kind, n, self.config.seed, self.pipelines)
            for kind, n in (
                ("contacts", self.config.custom_contact_properties),
                ("companies", self.config.custom_company_properties),
                ("deals", self.config.custom_deal_properties),
            )
        }
        self.objects: dict[str, list[CrmObject]] = {"contacts": [], "companies": [], "deals": []}
        self.by_id: dict[str, dict[int, CrmObject]] = {"contacts": {}, "companies": {}, "deals": {}}
        # associations: contact -> [(company_id, primary)], deal -> [contact_id],
        # deal -> [(company_id, primary)]
        self.contact_companies: dict[int, list[tuple[int, bool]]] = {}
        self.deal_contacts: dict[int, list[int]] = {}
        self.deal_companies: dict[int, list[tuple[int, bool]]] = {}
        self._member_seq = 0
        self._generate()

    # ------------------------------------------------------------------ helpers
    def _pools(self) -> None:
        fake = Faker("en_US")
        fake.seed_instance(self.config.seed)
        self.first_names = sorted({fake.first_name() for _ in range(600)})
        self.last_names = sorted({fake.last_name() for _ in range(800)})
        n_comp = self.config.count("companies") + 50
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < n_comp:
            name = fake.company()
            if name in seen:
                name = f"{name} {len(names)}"
            seen.add(name)
            names.append(name)
        self.company_names = names
        self.words = [fake.word() for _ in range(200)]

    def _new_person(self, rng: random.Random, domain: str | None = None) -> Person:
        first = rng.choice(self.first_names)
        last = rng.choice(self.last_names)
        domain = domain or rng.choice(FREEMAIL)
        base = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
        email = f"{base}@{domain}"
        n = 1
        while email in self._emails:
            n += 1
            email = f"{base}{n}@{domain}"
        self._emails.add(email)
        if rng.random() < 0.06:  # some people type their address in mixed case
            local, _, dom = email.partition("@")
            email = f"{local.capitalize()}@{dom}"
        ip = ".".join(
            str(rng.randint(lo, hi)) for lo, hi in ((11, 223), (0, 255), (0, 255), (1, 254))
        )
        return Person(first, last, email, rng.random() ** 1.7, ip)

    def _ms(self, rng: random.Random, ts: int) -> int:
        return ts * 1000 + rng.randint(0, 999)

    def _pick(
        self, rng: random.Random, items: list, n_total: int, pool: list | None = None
    ) -> list:
        """Exactly round(dirty_rate * n_total) distinct records from `pool` (default `items`)."""
        k = round(self.config.dirty_rate * n_total)
        pool = items if pool is None else pool
        return rng.sample(pool, min(k, len(pool)))

    def _era(
        self, rng: random.Random, legacy_p: float, recent_lo: int, hi: int
    ) -> tuple[int, bool]:
        """A creation time (s): legacy (2016-2019, to stay unchanged) with probability
        `legacy_p`, else between 2020 and `recent_lo` (MIDDLE_RATE), else recent."""
        roll = rng.random()
        if roll < legacy_p:
            return rng.randint(LEGACY_START + 30 * DAY, LEGACY_END - 2 * DAY), True
        if roll < legacy_p + MIDDLE_RATE:
            return rng.randint(LEGACY_END, recent_lo), False
        return rng.randint(recent_lo, hi), False

    def pipeline_of(self, deal: CrmObject) -> Pipeline:
        return self.pipeline_by_id.get(deal.props.get("pipeline", ""), self.pipelines[0])

    # ------------------------------------------------------------------ generation
    def _generate(self) -> None:
        rng = self._rng
        self._pools()
        start = WORLD_START - HISTORY_DAYS * DAY
        self._gen_owners(rng, start)
        self._gen_companies(rng, start)
        self._gen_lists_members(rng, start)
        self._gen_campaigns(rng, start)
        self._gen_contacts(rng, start)
        self._gen_deals(rng, start)

    def _gen_owners(self, rng: random.Random, start: int) -> None:
        for i in range(self.config.count("owners")):
            first, last = rng.choice(self.first_names), rng.choice(self.last_names)
            joined = (
                LEGACY_START - rng.randint(30, 400) * DAY
                if i < 3
                else rng.randint(LEGACY_START, start)
            )
            created = self._ms(rng, joined)
            updated = min(created + rng.randint(0, 900) * DAY * 1000, self.now * 1000)
            self.owners.append(
                Owner(
                    id=70_000_001 + i * 17,
                    user_id=4_000_001 + i * 3,
                    email=f"{first}.{last}{i}@northwind-demo.com".lower(),
                    first=first,
                    last=last,
                    created=created,
                    updated=updated,
                )
            )

    def _new_object(self, kind: str, props: dict[str, str], created_ms: int) -> CrmObject:
        oid = ID_BASE[kind] + len(self.objects[kind])
        props["hs_object_id"] = str(oid)
        props["createdate"] = hs_time(created_ms)
        obj = CrmObject(kind, oid, props, created_ms, created_ms)
        obj.touch(created_ms)
        self.objects[kind].append(obj)
        self.by_id[kind][oid] = obj
        return obj

    def _touch_later(self, rng: random.Random, obj: CrmObject, legacy: bool) -> None:
        """A later edit: before 2020 for a legacy record (which then stays untouched)."""
        hi = LEGACY_END - 1 if legacy else self.now
        obj.touch(min(self._ms(rng, rng.randint(obj.created // 1000, hi)), hi * 1000))

    def _company_props(self, rng: random.Random, i: int) -> dict[str, str]:
        name = self.company_names[i % len(self.company_names)]
        slug = "".join(c for c in name.lower() if c.isalnum())[:24] or f"co{i}"
        return {
            "name": name,
            "domain": f"{slug}.{rng.choice(['com', 'io', 'net', 'co'])}",
            "industry": rng.choice(COMPANY_INDUSTRIES),
            "city": rng.choice(CITIES)[0],
            "numberofemployees": str(rng.choice([5, 12, 40, 120, 450, 1200, 5000])),
            "hubspot_owner_id": str(rng.choice(self.owners).id),
        }

    def _gen_companies(self, rng: random.Random, start: int) -> None:
        n = self.config.count("companies")
        self.legacy_companies: list[CrmObject] = []
        for i in range(n):
            created_s, legacy = self._era(rng, self.config.legacy_rate, start, self.now - DAY)
            obj = self._new_object(
                "companies", self._company_props(rng, i), self._ms(rng, created_s)
            )
            if legacy:
                self.legacy_companies.append(obj)
            if rng.random() < 0.3:
                self._touch_later(rng, obj, legacy)
        for obj, kind in zip(
            self._pick(rng, self.objects["companies"], n),
            ["blank_name", "missing_domain"] * n,
            strict=False,
        ):
            obj.dirty = (kind,)
            if kind == "blank_name":
                obj.props["name"] = rng.choice(["", " "])
            else:
                obj.props.pop("domain", None)

    # ------------------------------------------------------------------ MailChimp
    def _new_list(self, rng: random.Random, li: int, n_lists: int) -> MailList:
        names = ["Newsletter", "Product Updates", "Webinar Attendees", "Customers", "Events"]
        lst = MailList(
            id=md5(f"{self.config.seed}:list:{li}")[:10],
            web_id=100000 + li * 7,
            name=f"{names[li % len(names)]}" + (f" {li // len(names) + 1}" if li >= 5 else ""),
            date_created=LEGACY_START + rng.randint(10, 330) * DAY + rng.randint(0, DAY - 1),
            rating=rng.randint(0, 5),
            seq=li,
            quiet=self.config.quiet_list and n_lists >= 2 and li == n_lists - 1,
        )
        self.lists.append(lst)
        self.list_by_id[lst.id] = lst
        self.members[lst.id] = []
        return lst

    def _gen_lists_members(self, rng: random.Random, start: int) -> None:
        n_lists, n_members = self.config.count("lists"), self.config.count("members")
        weights = [max(0.2, 1.0 - 0.25 * i) for i in range(n_lists)]
        people_l0: list[Person] = []
        for li in range(n_lists):
            lst = self._new_list(rng, li, n_lists)
            members = self.members[lst.id]
            if li < n_lists - 1:
                size = round(n_members * weights[li] / sum(weights))
            else:
                size = n_members - sum(len(m) for m in self.members.values())
            seen_ids: set[str] = set()
            for _ in range(max(0, size)):
                if li > 0 and people_l0 and rng.random() < 0.12:
                    person = rng.choice(people_l0)
                else:
                    person = self._new_person(rng)
                if md5(person.email.lower()) in seen_ids:
                    person = self._new_person(rng)
                seen_ids.add(md5(person.email.lower()))
                if li == 0:
                    people_l0.append(person)
                members.append(self._new_member(rng, lst, person, start))
            members.sort(key=lambda m: m.signup)
        self._dirty_members(rng)

    def _new_member(self, rng: random.Random, lst: MailList, person: Person, start: int) -> Member:
        seq = self._member_seq
        self._member_seq += 1
        roll = rng.random()
        if roll < self.config.legacy_rate:
            return self._legacy_member(rng, lst, person, seq)
        if roll < self.config.legacy_rate + MIDDLE_RATE:
            signup = rng.randint(LEGACY_END, start)
        else:
            signup = start + int((self.now - DAY - start) * rng.random() ** 1.6)
        status = rng.choices(["subscribed", "pending", "transactional"], [0.91, 0.04, 0.05])[0]
        opt = signup + rng.randint(0, 3600)
        return Member(
            list_id=lst.id,
            id=md5(person.email.lower()),
            person=person,
            first=person.first,
            last=person.last,
            status=status,
            signup=signup,
            opt=opt,
            last_changed=opt,
            rating=rng.randint(1, 5),
            tags=tuple(rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2]))),
            seq=seq,
        )

    def _legacy_member(self, rng: random.Random, lst: MailList, person: Person, seq: int) -> Member:
        """Joined 2016-2019 and last changed then: every status, unchanged since."""
        signup = rng.randint(lst.date_created + DAY, LEGACY_END - 30 * DAY)
        opt = signup + rng.randint(0, 3600)
        statuses = {
            s: w for s, w in LEGACY_STATUSES.items() if not (lst.quiet and s == "unsubscribed")
        }
        status = rng.choices(list(statuses), list(statuses.values()))[0]
        changed = opt if status != "subscribed" or rng.random() < 0.5 else 0
        if status not in ("subscribed", "pending", "transactional") or not changed:
            changed = rng.randint(opt, LEGACY_END - 1)
        return Member(
            list_id=lst.id,
            id=md5(person.email.lower()),
            person=person,
            first=person.first,
            last=person.last,
            status=status,
            signup=signup,
            opt=opt,
            last_changed=changed,
            rating=rng.randint(1, 5),
            tags=tuple(rng.sample(TAGS[:4], rng.choice([0, 0, 0, 1]))),
            seq=seq,
            legacy=True,
            unsub_reason=rng.choice(UNSUB_REASONS) if status == "unsubscribed" else "",
        )

    def _dirty_members(self, rng: random.Random) -> None:
        all_members = [m for ms in self.members.values() for m in ms]
        for m, kind in zip(
            self._pick(rng, all_members, len(all_members)),
            ["blank_name", "future_timestamp"] * len(all_members),
            strict=False,
        ):
            m.dirty = (kind,)
            if kind == "blank_name":
                m.first, m.last = "", rng.choice(["", " "])
            else:
                m.opt = self.now + rng.randint(30, 900) * DAY

    def _engagement(
        self, rng: random.Random, camp: Campaign, m: Member
    ) -> tuple[str, list[tuple[str, int, str, str, str]]]:
        """How one recipient met a campaign: delivery status and actions (sorted by time)."""
        p = m.person
        roll = rng.random()
        status = "hard" if roll < 0.006 else "soft" if roll < 0.025 else "sent"
        if status == "hard" and m.legacy:
            status = "soft"  # a legacy member stays unchanged: no bounce cleans it
        actions: list[tuple[str, int, str, str, str]] = []
        t0 = camp.send_time
        if status != "sent":
            actions.append(("bounce", t0 + rng.randint(5, 600), "", "", status))
        elif rng.random() < 0.08 + 0.7 * p.engagement:
            t = t0 + int(rng.expovariate(1 / 30000)) + 60
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
                actions.append(("open", t, "", p.ip, ""))
                t += rng.randint(60, 3 * DAY)
            if rng.random() < 0.15 + 0.5 * p.engagement:
                tc = actions[0][1] + rng.randint(5, 900)
                for _ in range(rng.choice([1, 1, 2, 3])):
                    actions.append(("click", tc, rng.choice(camp.urls), p.ip, ""))
                    tc += rng.randint(5, 4000)
            actions.sort(key=lambda a: a[1])
        return status, actions

    def _send_campaign(self, rng: random.Random, camp: Campaign, allow_unsubs_until: int) -> None:
        """Deliver `camp` to its list's subscribed members; generate their engagement."""
        cfg, lst = self.config, self.list_by_id[camp.list_id]
        silent = camp.quiet or cfg.empty("email_activity")
        no_unsubs = lst.quiet or cfg.empty("unsubscribes")
        t0 = camp.send_time
        for m in self.members[camp.list_id]:
            if m.status != "subscribed" or m.signup >= t0:
                continue
            status, actions = ("sent", []) if silent else self._engagement(rng, camp, m)
            camp.sends.append(Send(m, status, actions))
            if status == "hard" and t0 <= allow_unsubs_until:
                m.status = "cleaned"
                m.touch(min(actions[0][1], allow_unsubs_until))
            elif status == "sent" and not silent and rng.random() < 0.004:
                ts = t0 + rng.randint(600, 4 * DAY)
                if ts <= allow_unsubs_until and not no_unsubs and not m.legacy:
                    m.status = "unsubscribed"
                    m.unsub_reason = rng.choice(UNSUB_REASONS)
                    m.touch(ts)
                    camp.unsubs.append(Unsub(m, ts, m.unsub_reason))
            p = m.person
            for a in actions:
                if a[0] in ("open", "click") and (p.first_engaged == 0 or a[1] < p.first_engaged):
                    p.first_engaged = a[1]
                    break

    def _new_campaign(self, rng: random.Random, lst: MailList, create: int, send: int) -> Campaign:
        idx = len(self.campaigns)
        topic = " ".join(rng.sample(self.words, 2)).title()
        slug = topic.lower().replace(" ", "-")
        camp = Campaign(
            id=md5(f"{self.config.seed}:campaign:{idx}")[:10],
            web_id=200000 + idx * 11,
            list_id=lst.id,
            title=f"{lst.name} #{idx + 1}: {topic}",
            subject=f"{topic} - {rng.choice(['news', 'offer', 'guide', 'update', 'invite'])}",
            create_time=create,
            send_time=send,
            status="sent" if send else "save",
            urls=tuple(f"https://northwind-demo.com/{slug}/{k}" for k in range(rng.randint(1, 4))),
            seq=idx,
        )
        self.campaigns.append(camp)
        return camp

    def _unsent_plan(self, n: int) -> dict[int, str]:
        """Which of `n` campaigns (by index) stay unsent: the last few, drafts and
        scheduled ones alternating (all of them when "reports" is emptied)."""
        k = n if self.config.empty("reports") else 0 if n < 3 else max(2, n // 9)
        return {i: ("save", "schedule")[(n - 1 - i) % 2] for i in range(n - k, n)}

    def _gen_campaigns(self, rng: random.Random, start: int) -> None:
        n = self.config.count("campaigns")
        if not self.lists:
            return
        slots = sorted(rng.randint(start + 30 * DAY, self.now - 2 * 3600) for _ in range(n))
        unsent = self._unsent_plan(n)
        lists = self.lists
        quiet_idx = max(
            (i for i in range(n) if lists[i % len(lists)].quiet and i not in unsent), default=-1
        )
        for i, send in enumerate(slots):
            lst = lists[i % len(lists)]
            create = send - rng.randint(2 * 3600, 6 * DAY)
            status = unsent.get(i, "sent")
            camp = self._new_campaign(rng, lst, create, send if status == "sent" else 0)
            if status == "schedule":
                camp.status = "schedule"
                camp.schedule_time = self.now + rng.randint(3, 45) * DAY + rng.randint(0, 95) * 900
            elif status == "sent":
                camp.quiet = i == quiet_idx
                self._send_campaign(rng, camp, self.now)
        self._churn(rng)

    def _churn(self, rng: random.Random) -> None:
        """MailChimp-side changes not tied to a campaign (legacy members stay as they were)."""
        members = [
            m
            for ms in self.members.values()
            for m in ms
            if m.status == "subscribed" and not m.legacy
        ]
        for m in rng.sample(members, len(members) // 30):
            status = rng.choice(["unsubscribed", "archived", "archived"])
            if status == "unsubscribed" and self.list_by_id[m.list_id].quiet:
                status = "archived"
            m.status = status
            if status == "unsubscribed":
                m.unsub_reason = UNSUB_REASONS[0]
            m.touch(rng.randint(m.last_changed, self.now - 60))
        for m in rng.sample(members, len(members) // 8):  # profile edits
            if m.status == "subscribed":
                m.touch(rng.randint(m.last_changed, self.now - 60))

    # ------------------------------------------------------------------ HubSpot
    def _variant(self, rng: random.Random, email: str) -> str:
        """The same address the way a salesperson typed it into the CRM."""
        local, _, dom = email.lower().partition("@")
        choice = rng.randrange(4)
        if choice == 0:
            out = f"{local.capitalize()}@{dom.capitalize()}"
        elif choice == 1:
            out = email.upper()
        elif choice == 2:
            out = f" {email.lower()} "
        else:
            out = f"{local.title()}@{dom} "
        return out if out != email else f"{out} "

    def _contact_props(self, rng: random.Random, person: Person, email: str) -> dict[str, str]:
        return {
            "email": email,
            "firstname": person.first,
            "lastname": person.last,
            "jobtitle": rng.choice(
                ["Manager", "Director", "Engineer", "Analyst", "VP Sales", "Owner", ""]
            ),
            "phone": f"+1-{rng.randint(200, 989)}-555-{rng.randint(1000, 9999)}",
            "lifecyclestage": rng.choices(
                [*LIFECYCLE_STAGES, ""], [3, 5, 3, 2, 1, 1, 0.3, 0.5, 0.5]
            )[0],
            "hubspot_owner_id": str(rng.choice(self.owners).id),
        }

    def _link_company(
        self, rng: random.Random, contact: CrmObject, companies: list[CrmObject]
    ) -> None:
        if not companies or rng.random() > 0.85 or self.config.empty("contact_companies"):
            return
        comp = rng.choice(companies)
        links = [(comp.id, True)]
        if rng.random() < 0.08:
            other = rng.choice(companies)
            if other.id != comp.id:
                links.append((other.id, False))
        self.contact_companies[contact.id] = links
        contact.props["company"] = comp.props.get("name", "")
        contact.props["associatedcompanyid"] = str(comp.id)

    def _contact_rows(
        self, rng: random.Random, start: int, n_base: int
    ) -> list[tuple[int, Person, str, bool, bool]]:
        """(created, person, email, is_overlap, legacy) for every non-duplicate contact.
        Engaged MailChimp people become contacts soon after they engage; everyone else
        gets an era, legacy often enough that `legacy_rate` of all contacts are legacy."""
        n_overlap = min(round(self.config.overlap_rate * n_base), n_base)
        people: dict[int, Person] = {}
        for ms in self.members.values():
            for m in ms:
                people.setdefault(id(m.person), m.person)
        mc_people = list(people.values())
        # engaged people first, with some noise, so attribution has something to find
        mc_people.sort(key=lambda p: (-(p.first_engaged > 0) - rng.random() * 0.8, p.email))
        overlap = mc_people[:n_overlap]
        eligible = n_base - sum(1 for p in overlap if p.first_engaged)
        legacy_p = min(0.9, self.config.legacy_rate * n_base / max(1, eligible))
        rows: list[tuple[int, Person, str, bool, bool]] = []
        for p in overlap:
            if p.first_engaged:
                created = min(p.first_engaged + rng.randint(3600, 10 * DAY), self.now - 60)
                rows.append((created, p, self._variant(rng, p.email), True, False))
            else:
                created, legacy = self._era(rng, legacy_p, start, self.now - DAY)
                rows.append((created, p, self._variant(rng, p.email), True, legacy))
        companies = self.objects["companies"]
        for _ in range(n_base - len(overlap)):
            comp_domain = (
                companies[rng.randrange(len(companies))].props.get("domain") if companies else None
            )
            p = self._new_person(rng, comp_domain if rng.random() < 0.6 else None)
            created, legacy = self._era(rng, legacy_p, start, self.now - DAY)
            rows.append((created, p, p.email, False, legacy))
        rows.sort(key=lambda r: (r[0], r[2]))
        return rows

    def _gen_contacts(self, rng: random.Random, start: int) -> None:
        n = self.config.count("contacts")
        n_dup = round(self.config.dirty_rate * n / 5)
        companies = self.objects["companies"]
        plain: list[CrmObject] = []
        self.legacy_contacts: list[CrmObject] = []
        for created, p, email, is_overlap, legacy in self._contact_rows(rng, start, n - n_dup):
            obj = self._new_object(
                "contacts", self._contact_props(rng, p, email), self._ms(rng, created)
            )
            obj.person = p
            self._link_company(rng, obj, self.legacy_companies if legacy else companies)
            if rng.random() < 0.35:
                self._touch_later(rng, obj, legacy)
            if legacy:
                self.legacy_contacts.append(obj)
            if not is_overlap:
                plain.append(obj)
        self._dirty_contacts(rng, plain, round(self.config.dirty_rate * n) - n_dup)
        self._duplicate_contacts(rng, plain, n_dup)

    def _dirty_contacts(self, rng: random.Random, plain: list[CrmObject], n_other: int) -> None:
        """Invalid/missing emails, blank names, a createdate in the future."""
        kinds = ["invalid_email", "missing_email", "blank_name", "future_timestamp"]
        for i, obj in enumerate(rng.sample(plain, min(max(0, n_other), len(plain)))):
            kind = kinds[i % len(kinds)]
            obj.dirty = (kind,)
            if kind == "invalid_email":
                local = obj.props["email"].split("@")[0]
                obj.props["email"] = rng.choice(
                    [f"{local}@", f"{local} at gmail.com", f"{local}.gmail.com", "n/a"]
                )
            elif kind == "missing_email":
                del obj.props["email"]
            elif kind == "blank_name":
                obj.props["firstname"] = ""
                obj.props["lastname"] = rng.choice(["", " "])
            else:
                obj.props["createdate"] = hs_time(
                    self._ms(rng, self.now + rng.randint(30, 700) * DAY)
                )

    def _duplicate_contacts(self, rng: random.Random, plain: list[CrmObject], n_dup: int) -> None:
        """Extra records for people already in the CRM (same email, up to case/space)."""
        clean = [o for o in plain if not o.dirty]
        for src in rng.sample(clean, min(n_dup, len(clean))):
            created = self._ms(rng, rng.randint(src.created // 1000, self.now - 1))
            props = dict(src.props)
            props.pop("hs_object_id")
            props["email"] = rng.choice(
                [props["email"], props["email"].upper(), f"{props['email']} "]
            )
            dup = self._new_object("contacts", props, created)
            dup.person, dup.dirty = src.person, ("duplicate",)
            if src.id in self.contact_companies:
                self.contact_companies[dup.id] = list(self.contact_companies[src.id])

    def _pick_pipeline(self, rng: random.Random) -> Pipeline:
        others = len(self.pipelines) - 1
        if not others:
            return self.pipelines[0]
        return rng.choices(self.pipelines, [0.6] + [0.4 / others] * others)[0]

    def _deal_stage(self, rng: random.Random, pipe: Pipeline, age_days: float) -> str:
        opens = pipe.open_stages
        if pipe.id == "default":
            weights = [1.2, 1, 0.8, 0.6, 0.5]
        else:
            weights = [1.2 - 0.15 * i for i in range(len(opens))]
        stage = rng.choices([*opens, pipe.won, pipe.lost], [*weights, 2.5, 2.0])[0]
        if age_days < 20 and stage in (pipe.won, pipe.lost):
            stage = rng.choice(opens)
        return stage

    def _new_deal(
        self, rng: random.Random, contact: CrmObject | None, created_s: int, now: int
    ) -> CrmObject:
        """A deal created at `created_s` as it stands at `now` (2020-01-01 for a legacy deal,
        which stays as it was then)."""
        pipe = self._pick_pipeline(rng)
        stage = self._deal_stage(rng, pipe, (now - created_s) / DAY)
        comp_id = None
        if contact is not None and contact.id in self.contact_companies:
            comp_id = self.contact_companies[contact.id][0][0]
        comp = self.by_id["companies"].get(comp_id) if comp_id else None
        label = (
            comp.props.get("name") if comp else (contact.props.get("lastname") if contact else "")
        )
        props = {
            "dealname": f"{label or 'New'} - {rng.choice(DEAL_PLANS)}",
            "amount": str(
                rng.choice([500, 1200, 2500, 4800, 9900, 15000, 25000, 60000])
                + rng.randint(0, 40) * 25
            ),
            "dealstage": stage,
            "pipeline": pipe.id,
            "dealtype": rng.choice(["newbusiness", "existingbusiness"]),
            "hubspot_owner_id": str(rng.choice(self.owners).id),
        }
        closed = stage in (pipe.won, pipe.lost)
        if closed:
            close = min(created_s + rng.randint(5, 90) * DAY, now - 60)
        else:
            close = created_s + rng.randint(20, 120) * DAY  # expected close: often in the future
        props["closedate"] = hs_time(self._ms(rng, max(close, created_s)))
        obj = self._new_object("deals", props, self._ms(rng, created_s))
        last = min(close, now - 1) if closed else created_s
        if last > created_s:
            obj.touch(self._ms(rng, last))
        if contact is not None and not self.config.empty("deal_contacts"):
            self.deal_contacts[obj.id] = [contact.id]
        if comp_id and not self.config.empty("deal_companies"):
            self.deal_companies[obj.id] = [(comp_id, True)]
        return obj

    def _deal_plans(
        self, rng: random.Random, start: int, n: int
    ) -> list[tuple[int, CrmObject | None, bool]]:
        """(created, contact, legacy) per deal: a third follow campaign engagement, the rest
        get an era (a legacy deal belongs to a legacy contact, or to nobody)."""
        contacts = self.objects["contacts"]
        engaged = [c for c in contacts if c.person and c.person.first_engaged and not c.dirty]
        n_engaged = sum(1 for i in range(n) if i < n * 0.35) if engaged else 0
        legacy_p = min(0.9, self.config.legacy_rate * n / max(1, n - n_engaged))
        plans: list[tuple[int, CrmObject | None, bool]] = []
        for i in range(n):
            if engaged and i < n * 0.35:
                c = engaged[i % len(engaged)]
                created = c.person.first_engaged + rng.randint(DAY, 25 * DAY)
                if created >= self.now - 60:
                    created = rng.randint(c.created // 1000, self.now - 60)
                plans.append((max(created, c.created // 1000), c, False))
                continue
            created, legacy = self._era(rng, legacy_p, start, self.now - 60)
            pool = self.legacy_contacts if legacy else contacts
            c = rng.choice(pool) if pool and rng.random() < 0.92 else None
            if c is not None:
                created = max(created, c.created // 1000)
            if legacy:
                created = min(created, LEGACY_END - DAY)
            plans.append((created, c, legacy))
        plans.sort(key=lambda p: p[0])
        return plans

    def _gen_deals(self, rng: random.Random, start: int) -> None:
        n = self.config.count("deals")
        for created, c, legacy in self._deal_plans(rng, start, n):
            self._new_deal(rng, c, created, LEGACY_END if legacy else self.now)
        deals = self.objects["deals"]
        kinds = ["empty_amount", "missing_amount", "blank_name", "future_timestamp"]
        for i, d in enumerate(self._pick(rng, deals, len(deals))):
            kind = kinds[i % len(kinds)]
            d.dirty = (kind,)
            if kind == "empty_amount":
                d.props["amount"] = ""
            elif kind == "missing_amount":
                d.props.pop("amount", None)
            elif kind == "blank_name":
                d.props["dealname"] = ""
            else:
                d.props["dealstage"] = self.pipeline_of(d).won
                d.props["closedate"] = hs_time(self._ms(rng, self.now + rng.randint(60, 900) * DAY))

    # ------------------------------------------------------------------ advance
    def advance(self, days: float = 1.0, change_rate: float = 0.01) -> dict[str, int]:
        """Move the clock forward and change records inside the new window (see
        `mock_apis.advance`). Returns how many records of each kind changed."""
        from mock_apis.advance import advance_world

        return advance_world(self, days, change_rate)

    def _pick_contact_person(self, rng: random.Random) -> Person:
        """A new contact: an engaged MailChimp person with the overlap rate, else a stranger."""
        if self.lists and rng.random() < self.config.overlap_rate:
            members = self.members[rng.choice(self.lists).id]
            if members:
                return rng.choice(members).person
        return self._new_person(rng)

    # ------------------------------------------------------------------ views used by the APIs
    def visible_actions(self, send: Send) -> list[tuple[str, int, str, str, str]]:
        now = self.now
        return [a for a in send.actions if a[1] <= now]

    def live_associations(self) -> dict[str, list[tuple[int, int, list[dict[str, Any]]]]]:
        """Associations between records that are not archived, per ground-truth stream."""
        contacts, companies, deals = (self.by_id[k] for k in ("contacts", "companies", "deals"))

        def live(table: dict[int, CrmObject], oid: int) -> bool:
            o = table.get(oid)
            return o is not None and not o.archived

        out: dict[str, list[tuple[int, int, list[dict[str, Any]]]]] = {
            "contact_companies": [],
            "deal_contacts": [],
            "deal_companies": [],
        }
        for cid, links in self.contact_companies.items():
            if live(contacts, cid):
                for comp, primary in links:
                    if live(companies, comp):
                        out["contact_companies"].append(
                            (cid, comp, association_types("contacts", "companies", primary))
                        )
        for did, cids in self.deal_contacts.items():
            if live(deals, did):
                for cid in cids:
                    if live(contacts, cid):
                        out["deal_contacts"].append(
                            (did, cid, association_types("deals", "contacts", False))
                        )
        for did, links in self.deal_companies.items():
            if live(deals, did):
                for comp, primary in links:
                    if live(companies, comp):
                        out["deal_companies"].append(
                            (did, comp, association_types("deals", "companies", primary))
                        )
        return out
