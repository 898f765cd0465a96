"""The mock company's data: one seed and a scale knob -> one deterministic world.

The world is what both APIs serve. It is generated once (plain Python, Faker only
for small name pools, explicit `random.Random`s) against a fixed reference clock,
and `advance()` moves that clock, producing new, updated, unsubscribed and
archived records stamped inside the new window.

The story the data tells, so the warehouse has something to find:
- MailChimp lists collect members over ~18 months; campaigns go to each list's
  subscribed members, who open, click, bounce (hard bounces clean the member) and
  unsubscribe. Opens and clicks are generated ahead of the clock and only become
  visible once the clock passes them, so time advances reveal new activity.
- A share (`overlap_rate`) of HubSpot contacts are MailChimp people, picked from the
  most engaged first, with the email differing only in case or whitespace. Many of
  them get a deal created within 30 days of their first campaign click or open.
- A share (`dirty_rate`) of records are dirty: invalid/missing emails, duplicate
  contacts, blank names, empty deal amounts, timestamps in the future. Cursor
  fields (last_changed, lastmodifieddate, hs_lastmodifieddate) are never in the
  future, so incremental syncs stay checkable; the future timestamps are in
  members' timestamp_opt, contacts' createdate property and deals' closedate.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from mock_apis.clock import DAY, HISTORY_DAYS, WORLD_START, hs_time

BASE_COUNTS = {
    "lists": 3,
    "members": 9000,
    "campaigns": 45,
    "contacts": 6000,
    "companies": 1500,
    "deals": 2500,
    "owners": 12,
}

PIPELINE_STAGES = [
    # id, label, probability, is_closed
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
]
OPEN_STAGES = [s[0] for s in PIPELINE_STAGES if not s[3]]
LIFECYCLE_STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "CONSTRUCTION",
    "FOOD_BEVERAGES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "",
]
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
    """Knobs of the world. Per-entity counts override `scale` (e.g. contacts=12000)."""

    seed: int = 42
    scale: float = 1.0
    overlap_rate: float = 0.3
    dirty_rate: float = 0.03
    lists: int | None = None
    members: int | None = None
    campaigns: int | None = None
    contacts: int | None = None
    companies: int | None = None
    deals: int | None = None
    owners: int | None = None

    def count(self, entity: str) -> int:
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
    api: dict | None = None

    @property
    def email(self) -> str:
        return self.person.email

    def touch(self, ts: int) -> None:
        self.last_changed = ts
        self.api = None


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
    status: str
    urls: tuple[str, ...]
    seq: int
    sends: list[Send] = field(default_factory=list)
    unsubs: list[Unsub] = field(default_factory=list)


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
        self.members: dict[str, list[Member]] = {}
        self.campaigns: list[Campaign] = []
        self.owners: list[Owner] = []
        self.objects: dict[str, list[CrmObject]] = {"contacts": [], "companies": [], "deals": []}
        self.by_id: dict[str, dict[int, CrmObject]] = {"contacts": {}, "companies": {}, "deals": {}}
        # associations: contact -> [(company_id, primary)], deal -> [contact_id],
        # deal -> [(company_id, primary)]
        self.contact_companies: dict[int, list[tuple[int, bool]]] = {}
        self.deal_contacts: dict[int, list[int]] = {}
        self.deal_companies: dict[int, list[tuple[int, bool]]] = {}
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

    # ------------------------------------------------------------------ generation
    def _generate(self) -> None:
        cfg, rng = self.config, self._rng
        self._pools()
        start = WORLD_START - HISTORY_DAYS * DAY
        self._gen_owners(rng, start)
        self._gen_companies(rng, start)
        self._gen_lists_members(rng, start)
        self._gen_campaigns(rng, start)
        self._gen_contacts(rng, start)
        self._gen_deals(rng, start)
        del cfg

    def _gen_owners(self, rng: random.Random, start: int) -> None:
        for i in range(self.config.count("owners")):
            first, last = rng.choice(self.first_names), rng.choice(self.last_names)
            created = self._ms(rng, start - rng.randint(30, 400) * DAY)
            self.owners.append(
                Owner(
                    id=70_000_001 + i * 17,
                    user_id=4_000_001 + i * 3,
                    email=f"{first}.{last}{i}@northwind-demo.com".lower(),
                    first=first,
                    last=last,
                    created=created,
                    updated=created + rng.randint(0, 200) * DAY * 1000,
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

    def _company_props(self, rng: random.Random, i: int) -> dict[str, str]:
        name = self.company_names[i % len(self.company_names)]
        slug = "".join(c for c in name.lower() if c.isalnum())[:24] or f"co{i}"
        return {
            "name": name,
            "domain": f"{slug}.{rng.choice(['com', 'io', 'net', 'co'])}",
            "industry": rng.choice(INDUSTRIES),
            "city": rng.choice(self.words).capitalize(),
            "numberofemployees": str(rng.choice([5, 12, 40, 120, 450, 1200, 5000])),
            "hubspot_owner_id": str(rng.choice(self.owners).id),
        }

    def _gen_companies(self, rng: random.Random, start: int) -> None:
        n = self.config.count("companies")
        for i in range(n):
            created = self._ms(rng, rng.randint(start, self.now - DAY))
            obj = self._new_object("companies", self._company_props(rng, i), created)
            if rng.random() < 0.3:
                obj.touch(
                    min(self._ms(rng, rng.randint(created // 1000, self.now)), self.now * 1000)
                )
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

    def _pick(
        self, rng: random.Random, items: list, n_total: int, pool: list | None = None
    ) -> list:
        """Exactly round(dirty_rate * n_total) distinct records from `pool` (default `items`)."""
        k = round(self.config.dirty_rate * n_total)
        pool = items if pool is None else pool
        return rng.sample(pool, min(k, len(pool)))

    def _gen_lists_members(self, rng: random.Random, start: int) -> None:
        n_lists, n_members = self.config.count("lists"), self.config.count("members")
        list_names = ["Newsletter", "Product Updates", "Webinar Attendees", "Customers", "Events"]
        weights = [max(0.2, 1.0 - 0.25 * i) for i in range(n_lists)]
        total_w = sum(weights)
        people_l0: list[Person] = []
        seq = 0
        for li in range(n_lists):
            lst = MailList(
                id=md5(f"{self.config.seed}:list:{li}")[:10],
                web_id=100000 + li * 7,
                name=f"{list_names[li % len(list_names)]}"
                + (f" {li // len(list_names) + 1}" if li >= 5 else ""),
                date_created=start - rng.randint(10, 300) * DAY,
                rating=rng.randint(0, 5),
                seq=li,
            )
            self.lists.append(lst)
            members: list[Member] = []
            self.members[lst.id] = members
            size = round(n_members * weights[li] / total_w) if li < n_lists - 1 else None
            if size is None:
                size = n_members - sum(len(m) for m in self.members.values())
            seen_ids: set[str] = set()
            for _ in range(max(0, size)):
                if li > 0 and people_l0 and rng.random() < 0.12:
                    person = rng.choice(people_l0)
                else:
                    person = self._new_person(rng)
                mid = md5(person.email.lower())
                if mid in seen_ids:
                    person = self._new_person(rng)
                    mid = md5(person.email.lower())
                seen_ids.add(mid)
                if li == 0:
                    people_l0.append(person)
                signup = start + int((self.now - DAY - start) * rng.random() ** 1.6)
                status = rng.choices(
                    ["subscribed", "pending", "transactional"], [0.91, 0.04, 0.05]
                )[0]
                opt = signup + rng.randint(0, 3600)
                members.append(
                    Member(
                        list_id=lst.id,
                        id=mid,
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
                )
                seq += 1
            members.sort(key=lambda m: m.signup)
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
        self._member_seq = seq

    def _send_campaign(self, rng: random.Random, camp: Campaign, allow_unsubs_until: int) -> None:
        """Deliver `camp` to its list's subscribed members; generate their engagement."""
        recipients = [
            m
            for m in self.members[camp.list_id]
            if m.status == "subscribed" and m.signup < camp.send_time
        ]
        for m in recipients:
            p = m.person
            roll = rng.random()
            if roll < 0.006:
                status = "hard"
            elif roll < 0.025:
                status = "soft"
            else:
                status = "sent"
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
            camp.sends.append(Send(m, status, actions))
            if status == "hard" and t0 <= allow_unsubs_until:
                m.status = "cleaned"
                m.touch(min(actions[0][1], allow_unsubs_until))
            elif status == "sent" and rng.random() < 0.004:
                ts = t0 + rng.randint(600, 4 * DAY)
                if ts <= allow_unsubs_until:
                    m.status = "unsubscribed"
                    m.touch(ts)
                    camp.unsubs.append(Unsub(m, ts, rng.choice(UNSUB_REASONS)))
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

    def _gen_campaigns(self, rng: random.Random, start: int) -> None:
        n = self.config.count("campaigns")
        slots = sorted(rng.randint(start + 30 * DAY, self.now - 2 * 3600) for _ in range(n))
        for i, send in enumerate(slots):
            lst = self.lists[i % len(self.lists)]
            is_draft = i >= n - max(1, n // 15)  # the last few are drafts, never sent
            create = send - rng.randint(2 * 3600, 6 * DAY)
            camp = self._new_campaign(rng, lst, create, 0 if is_draft else send)
            if not is_draft:
                self._send_campaign(rng, camp, self.now)
        # MailChimp-side churn not tied to a campaign
        members = [m for ms in self.members.values() for m in ms if m.status == "subscribed"]
        for m in rng.sample(members, len(members) // 30):
            m.status = rng.choice(["unsubscribed", "archived", "archived"])
            m.touch(rng.randint(m.last_changed, self.now - 60))
        for m in rng.sample(members, len(members) // 8):  # profile edits
            if m.status == "subscribed":
                m.touch(rng.randint(m.last_changed, self.now - 60))

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
        if not companies or rng.random() > 0.85:
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

    def _gen_contacts(self, rng: random.Random, start: int) -> None:
        cfg = self.config
        n = cfg.count("contacts")
        n_dup = round(cfg.dirty_rate * n / 5)
        n_base = n - n_dup
        n_overlap = min(round(cfg.overlap_rate * n_base), n_base)
        people: dict[int, Person] = {}
        for ms in self.members.values():
            for m in ms:
                people.setdefault(id(m.person), m.person)
        mc_people = list(people.values())
        # engaged people first, with some noise, so attribution has something to find
        mc_people.sort(key=lambda p: (-(p.first_engaged > 0) - rng.random() * 0.8, p.email))
        overlap = mc_people[:n_overlap]
        rows: list[tuple[int, Person, str, bool]] = []
        for p in overlap:
            if p.first_engaged:
                created = min(p.first_engaged + rng.randint(3600, 10 * DAY), self.now - 60)
            else:
                created = rng.randint(start, self.now - DAY)
            rows.append((created, p, self._variant(rng, p.email), True))
        companies = self.objects["companies"]
        for _ in range(n_base - len(overlap)):
            comp_domain = (
                companies[rng.randrange(len(companies))].props.get("domain") if companies else None
            )
            p = self._new_person(rng, comp_domain if rng.random() < 0.6 else None)
            rows.append((rng.randint(start, self.now - DAY), p, p.email, False))
        rows.sort(key=lambda r: (r[0], r[2]))
        plain: list[CrmObject] = []
        for created, p, email, is_overlap in rows:
            obj = self._new_object(
                "contacts", self._contact_props(rng, p, email), self._ms(rng, created)
            )
            obj.person = p
            self._link_company(rng, obj, companies)
            if rng.random() < 0.35:
                obj.touch(min(self._ms(rng, rng.randint(created, self.now - 1)), self.now * 1000))
            if not is_overlap:
                plain.append(obj)
        # dirty: duplicates (extra records) + invalid/missing emails, blank names, future createdate
        kinds = ["invalid_email", "missing_email", "blank_name", "future_timestamp"]
        n_other = round(cfg.dirty_rate * n) - n_dup
        targets = rng.sample(plain, min(max(0, n_other), len(plain)))
        for i, obj in enumerate(targets):
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

    def _new_deal(
        self, rng: random.Random, contact: CrmObject | None, created_s: int, now: int
    ) -> CrmObject:
        stage = rng.choices(
            [*OPEN_STAGES, "closedwon", "closedlost"], [1.2, 1, 0.8, 0.6, 0.5, 2.5, 2.0]
        )[0]
        age_days = (now - created_s) / DAY
        if age_days < 20 and stage in ("closedwon", "closedlost"):
            stage = rng.choice(OPEN_STAGES)
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
            "pipeline": "default",
            "dealtype": rng.choice(["newbusiness", "existingbusiness"]),
            "hubspot_owner_id": str(rng.choice(self.owners).id),
        }
        created_ms = self._ms(rng, created_s)
        if stage in ("closedwon", "closedlost"):
            close = min(created_s + rng.randint(5, 90) * DAY, now - 60)
        else:
            close = created_s + rng.randint(20, 120) * DAY  # expected close: often in the future
        props["closedate"] = hs_time(self._ms(rng, max(close, created_s)))
        obj = self._new_object("deals", props, created_ms)
        last = min(close, now - 1) if stage in ("closedwon", "closedlost") else created_s
        if last > created_s:
            obj.touch(self._ms(rng, last))
        if contact is not None:
            self.deal_contacts[obj.id] = [contact.id]
            if comp_id:
                self.deal_companies[obj.id] = [(comp_id, True)]
        return obj

    def _gen_deals(self, rng: random.Random, start: int) -> None:
        n = self.config.count("deals")
        contacts = self.objects["contacts"]
        engaged = [c for c in contacts if c.person and c.person.first_engaged and not c.dirty]
        plans: list[tuple[int, CrmObject | None]] = []
        for i in range(n):
            if engaged and i < n * 0.35:
                c = engaged[i % len(engaged)]
                created = c.person.first_engaged + rng.randint(DAY, 25 * DAY)
                if created >= self.now - 60:
                    created = rng.randint(c.created // 1000, self.now - 60)
            else:
                c = rng.choice(contacts) if contacts and rng.random() < 0.92 else None
                created = rng.randint(start, self.now - 60)
                if c is not None:
                    created = max(created, c.created // 1000)
            plans.append((max(created, c.created // 1000) if c else created, c))
        plans.sort(key=lambda p: p[0])
        for created, c in plans:
            self._new_deal(rng, c, created, self.now)
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
                d.props["dealstage"] = "closedwon"
                d.props["closedate"] = hs_time(self._ms(rng, self.now + rng.randint(60, 900) * DAY))

    # ------------------------------------------------------------------ advance
    def advance(self, days: float = 1.0, change_rate: float = 0.01) -> dict[str, int]:
        """Move the clock forward and change records inside the new window.

        Every change is stamped in (old now, new now]; about one in five reuses a
        timestamp already issued in this call, so cursor ties exist. Returns how
        many records of each kind were created/updated/archived.
        """
        if days <= 0:
            raise ValueError(f"advance: days must be > 0, got {days}")
        if not 0 <= change_rate <= 1:
            raise ValueError(f"advance: change_rate must be within [0, 1], got {change_rate}")
        self.advances += 1
        rng = random.Random(f"advance:{self.config.seed}:{self.advances}:{days}:{change_rate}")
        lo, hi = self.now + 1, self.now + max(1, int(days * DAY))
        issued: list[int] = []

        def stamp() -> int:
            if issued and rng.random() < 0.2:
                return rng.choice(issued)
            ts = rng.randint(lo, hi)
            issued.append(ts)
            return ts

        def stamp_ms() -> int:
            ts = stamp()
            return ts * 1000 + (ts * 7919) % 1000  # same second -> same ms, so ties survive

        def k_of(n: int) -> int:
            return round(n * change_rate * days) if change_rate > 0 else 0

        summary: dict[str, int] = {}

        def bump(key: str) -> None:
            summary[key] = summary.get(key, 0) + 1

        all_members = [m for ms in self.members.values() for m in ms]
        k = k_of(len(all_members))
        # new members
        for _ in range(max(1, round(k * 0.4)) if k else 0):
            lst = rng.choice(self.lists)
            p = self._new_person(rng)
            ts = stamp()
            m = Member(
                lst.id,
                md5(p.email.lower()),
                p,
                p.first,
                p.last,
                "subscribed",
                ts,
                ts,
                ts,
                rng.randint(1, 5),
                (),
                self._member_seq,
            )
            self._member_seq += 1
            self.members[lst.id].append(m)
            bump("members_created")
        subscribed = [m for m in all_members if m.status == "subscribed"]
        for m in rng.sample(subscribed, min(len(subscribed), round(k * 0.3))):
            m.last = m.last or rng.choice(self.last_names)
            m.tags = tuple(sorted(set(m.tags) | {rng.choice(TAGS)}))
            m.touch(stamp())
            bump("members_updated")
        # unsubscribes through the latest sent campaign of each list
        sent = [c for c in self.campaigns if c.send_time]
        latest = {c.list_id: c for c in sent}
        for _ in range(round(k * 0.15)):
            camp = latest.get(rng.choice(self.lists).id)
            if camp is None:
                continue
            cands = [s.member for s in camp.sends if s.member.status == "subscribed"]
            if not cands:
                continue
            m = rng.choice(cands)
            ts = stamp()
            m.status = "unsubscribed"
            m.touch(ts)
            camp.unsubs.append(Unsub(m, ts, rng.choice(UNSUB_REASONS)))
            bump("members_unsubscribed")
        for status, share in (("archived", 0.1), ("cleaned", 0.05)):
            pool = [m for m in all_members if m.status in ("subscribed", "unsubscribed")]
            for m in rng.sample(pool, min(len(pool), round(k * share))):
                m.status = status
                m.touch(stamp())
                bump(f"members_{status}")
        # new campaigns, sent inside the window
        n_camp = max(1, k_of(len(self.campaigns))) if change_rate > 0 else 0
        for _ in range(n_camp):
            lst = rng.choice(self.lists)
            send = stamp()
            camp = self._new_campaign(rng, lst, max(lo, send - rng.randint(600, 3 * 3600)), send)
            self._send_campaign(rng, camp, hi)
            for u in camp.unsubs:  # unsubscribe stamps must stay inside the window
                if u.ts > hi:
                    u.ts = hi
                    u.member.touch(hi)
            bump("campaigns_created")
        # HubSpot
        now_ms = hi * 1000
        for kind in ("companies", "contacts", "deals"):
            live = [o for o in self.objects[kind] if not o.archived]
            kk = k_of(len(self.objects[kind]))
            for _ in range(max(1, round(kk * 0.4)) if kk else 0):
                ts = stamp()
                if kind == "companies":
                    obj = self._new_object(
                        kind, self._company_props(rng, len(self.objects[kind])), ts * 1000
                    )
                elif kind == "contacts":
                    p = self._pick_contact_person(rng)
                    email = self._variant(rng, p.email) if p.first_engaged else p.email
                    obj = self._new_object(kind, self._contact_props(rng, p, email), ts * 1000)
                    obj.person = p
                    self._link_company(
                        rng, obj, [c for c in self.objects["companies"] if not c.archived]
                    )
                else:
                    contacts = [c for c in self.objects["contacts"] if not c.archived]
                    obj = self._new_deal(rng, rng.choice(contacts) if contacts else None, ts, hi)
                obj.created = obj.updated = ts * 1000 + (ts * 7919) % 1000
                obj.props["createdate"] = hs_time(obj.created)
                obj.touch(obj.created)
                bump(f"{kind}_created")
            for obj in rng.sample(live, min(len(live), round(kk * 0.4))):
                if kind == "deals" and obj.props.get("dealstage") in OPEN_STAGES:
                    stage = obj.props["dealstage"]
                    nxt = OPEN_STAGES.index(stage) + 1
                    roll = rng.random()
                    new_ms = stamp_ms()
                    if roll < 0.2:
                        obj.props["dealstage"] = "closedlost"
                        obj.props["closedate"] = hs_time(new_ms)
                    elif nxt >= len(OPEN_STAGES) or roll < 0.35:
                        obj.props["dealstage"] = "closedwon"
                        obj.props["closedate"] = hs_time(new_ms)
                    else:
                        obj.props["dealstage"] = OPEN_STAGES[nxt]
                    obj.touch(new_ms)
                elif kind == "deals":
                    obj.props["amount"] = str(
                        rng.choice([900, 3000, 7000, 12000]) + rng.randint(0, 20) * 50
                    )
                    obj.touch(stamp_ms())
                elif kind == "contacts":
                    obj.props["lifecyclestage"] = rng.choice(LIFECYCLE_STAGES)
                    obj.touch(stamp_ms())
                else:
                    obj.props["numberofemployees"] = str(rng.choice([15, 60, 250, 900, 3000]))
                    obj.touch(stamp_ms())
                bump(f"{kind}_updated")
            still_live = [o for o in live if o.updated <= self.now * 1000]
            for obj in rng.sample(still_live, min(len(still_live), round(kk * 0.1))):
                obj.archived = True
                obj.archived_at = stamp_ms()
                obj.touch(obj.archived_at)
                bump(f"{kind}_archived")
        del now_ms
        self.now = hi
        self.version += 1
        summary["now"] = hi
        return summary

    def _pick_contact_person(self, rng: random.Random) -> Person:
        """A new contact: an engaged MailChimp person with the overlap rate, else a stranger."""
        if rng.random() < self.config.overlap_rate:
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
