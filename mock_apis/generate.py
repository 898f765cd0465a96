"""The generator: fills a `World` from one seed, against the fixed reference clock.

Plain Python, Faker only for small name pools, one explicit `random.Random` per world
(draw order is part of the output: reordering calls changes every record). The
record-level helpers (`new_person`, `new_object`, `new_deal`, `send_campaign`, ...) are
also what `mock_apis.advance` uses to create records after the clock moves.

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
- `empty_streams` empties whole streams (see `mock_apis.model.EMPTYABLE_STREAMS`), so
  downstream code can be tested on an account where, say, nobody ever unsubscribed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from faker import Faker

from mock_apis.clock import DAY, HISTORY_DAYS, LEGACY_END, LEGACY_START, WORLD_START, hs_time
from mock_apis.model import (
    COMPANY_INDUSTRIES,
    DEAL_PLANS,
    FREEMAIL,
    ID_BASE,
    LEGACY_STATUSES,
    MIDDLE_RATE,
    TAGS,
    UNSUB_REASONS,
    Campaign,
    CrmObject,
    MailList,
    Member,
    Owner,
    Person,
    Send,
    Unsub,
    md5,
)
from mock_apis.pipelines import Pipeline
from mock_apis.properties import CITIES, LIFECYCLE_STAGES

if TYPE_CHECKING:
    from mock_apis.world import World


def populate(world: World) -> None:
    """Fill an empty `world` from its config: names, owners, companies, lists and members,
    campaigns and their activity, contacts, deals (in that order: each draws on the last)."""
    rng = random.Random(f"world:{world.config.seed}")
    _pools(world)
    start = WORLD_START - HISTORY_DAYS * DAY
    _gen_owners(world, rng, start)
    _gen_companies(world, rng, start)
    _gen_lists_members(world, rng, start)
    _gen_campaigns(world, rng, start)
    _gen_contacts(world, rng, start)
    _gen_deals(world, rng, start)


# --------------------------------------------------------------------------- shared helpers
def _pools(world: World) -> None:
    fake = Faker("en_US")
    fake.seed_instance(world.config.seed)
    world.first_names = sorted({fake.first_name() for _ in range(600)})
    world.last_names = sorted({fake.last_name() for _ in range(800)})
    n_comp = world.config.count("companies") + 50
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_comp:
        name = fake.company()
        if name in seen:
            name = f"{name} {len(names)}"
        seen.add(name)
        names.append(name)
    world.company_names = names
    world.words = [fake.word() for _ in range(200)]


def new_person(world: World, rng: random.Random, domain: str | None = None) -> Person:
    first = rng.choice(world.first_names)
    last = rng.choice(world.last_names)
    domain = domain or rng.choice(FREEMAIL)
    base = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    email = f"{base}@{domain}"
    n = 1
    while email in world.taken_emails:
        n += 1
        email = f"{base}{n}@{domain}"
    world.taken_emails.add(email)
    if rng.random() < 0.06:  # some people type their address in mixed case
        local, _, dom = email.partition("@")
        email = f"{local.capitalize()}@{dom}"
    ip = ".".join(str(rng.randint(lo, hi)) for lo, hi in ((11, 223), (0, 255), (0, 255), (1, 254)))
    return Person(first, last, email, rng.random() ** 1.7, ip)


def _ms(rng: random.Random, ts: int) -> int:
    return ts * 1000 + rng.randint(0, 999)


def _pick(
    world: World, rng: random.Random, items: list, n_total: int, pool: list | None = None
) -> list:
    """Exactly round(dirty_rate * n_total) distinct records from `pool` (default `items`)."""
    k = round(world.config.dirty_rate * n_total)
    pool = items if pool is None else pool
    return rng.sample(pool, min(k, len(pool)))


def _era(rng: random.Random, legacy_p: float, recent_lo: int, hi: int) -> tuple[int, bool]:
    """A creation time (s): legacy (2016-2019, to stay unchanged) with probability
    `legacy_p`, else between 2020 and `recent_lo` (MIDDLE_RATE), else recent."""
    roll = rng.random()
    if roll < legacy_p:
        return rng.randint(LEGACY_START + 30 * DAY, LEGACY_END - 2 * DAY), True
    if roll < legacy_p + MIDDLE_RATE:
        return rng.randint(LEGACY_END, recent_lo), False
    return rng.randint(recent_lo, hi), False


# --------------------------------------------------------------------------- owners, companies
def _gen_owners(world: World, rng: random.Random, start: int) -> None:
    for i in range(world.config.count("owners")):
        first, last = rng.choice(world.first_names), rng.choice(world.last_names)
        joined = (
            LEGACY_START - rng.randint(30, 400) * DAY if i < 3 else rng.randint(LEGACY_START, start)
        )
        created = _ms(rng, joined)
        updated = min(created + rng.randint(0, 900) * DAY * 1000, world.now * 1000)
        world.owners.append(
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


def new_object(world: World, kind: str, props: dict[str, str], created_ms: int) -> CrmObject:
    oid = ID_BASE[kind] + len(world.objects[kind])
    props["hs_object_id"] = str(oid)
    props["createdate"] = hs_time(created_ms)
    obj = CrmObject(kind, oid, props, created_ms, created_ms)
    obj.touch(created_ms)
    world.objects[kind].append(obj)
    world.by_id[kind][oid] = obj
    return obj


def _touch_later(world: World, rng: random.Random, obj: CrmObject, legacy: bool) -> None:
    """A later edit: before 2020 for a legacy record (which then stays untouched)."""
    hi = LEGACY_END - 1 if legacy else world.now
    obj.touch(min(_ms(rng, rng.randint(obj.created // 1000, hi)), hi * 1000))


def company_props(world: World, rng: random.Random, i: int) -> dict[str, str]:
    name = world.company_names[i % len(world.company_names)]
    slug = "".join(c for c in name.lower() if c.isalnum())[:24] or f"co{i}"
    return {
        "name": name,
        "domain": f"{slug}.{rng.choice(['com', 'io', 'net', 'co'])}",
        "industry": rng.choice(COMPANY_INDUSTRIES),
        "city": rng.choice(CITIES)[0],
        "numberofemployees": str(rng.choice([5, 12, 40, 120, 450, 1200, 5000])),
        "hubspot_owner_id": str(rng.choice(world.owners).id),
    }


def _gen_companies(world: World, rng: random.Random, start: int) -> None:
    n = world.config.count("companies")
    for i in range(n):
        created_s, legacy = _era(rng, world.config.legacy_rate, start, world.now - DAY)
        obj = new_object(world, "companies", company_props(world, rng, i), _ms(rng, created_s))
        if legacy:
            world.legacy_companies.append(obj)
        if rng.random() < 0.3:
            _touch_later(world, rng, obj, legacy)
    for obj, kind in zip(
        _pick(world, rng, world.objects["companies"], n),
        ["blank_name", "missing_domain"] * n,
        strict=False,
    ):
        obj.dirty = (kind,)
        if kind == "blank_name":
            obj.props["name"] = rng.choice(["", " "])
        else:
            obj.props.pop("domain", None)


# --------------------------------------------------------------------------- MailChimp
def _new_list(world: World, rng: random.Random, li: int, n_lists: int) -> MailList:
    names = ["Newsletter", "Product Updates", "Webinar Attendees", "Customers", "Events"]
    lst = MailList(
        id=md5(f"{world.config.seed}:list:{li}")[:10],
        web_id=100000 + li * 7,
        name=f"{names[li % len(names)]}" + (f" {li // len(names) + 1}" if li >= 5 else ""),
        date_created=LEGACY_START + rng.randint(10, 330) * DAY + rng.randint(0, DAY - 1),
        rating=rng.randint(0, 5),
        seq=li,
        quiet=world.config.quiet_list and n_lists >= 2 and li == n_lists - 1,
    )
    world.lists.append(lst)
    world.list_by_id[lst.id] = lst
    world.members[lst.id] = []
    return lst


def _gen_lists_members(world: World, rng: random.Random, start: int) -> None:
    n_lists, n_members = world.config.count("lists"), world.config.count("members")
    weights = [max(0.2, 1.0 - 0.25 * i) for i in range(n_lists)]
    people_l0: list[Person] = []
    for li in range(n_lists):
        lst = _new_list(world, rng, li, n_lists)
        members = world.members[lst.id]
        if li < n_lists - 1:
            size = round(n_members * weights[li] / sum(weights))
        else:
            size = n_members - sum(len(m) for m in world.members.values())
        seen_ids: set[str] = set()
        for _ in range(max(0, size)):
            if li > 0 and people_l0 and rng.random() < 0.12:
                person = rng.choice(people_l0)
            else:
                person = new_person(world, rng)
            if md5(person.email.lower()) in seen_ids:
                person = new_person(world, rng)
            seen_ids.add(md5(person.email.lower()))
            if li == 0:
                people_l0.append(person)
            members.append(_new_member(world, rng, lst, person, start))
        members.sort(key=lambda m: m.signup)
    _dirty_members(world, rng)


def _new_member(
    world: World, rng: random.Random, lst: MailList, person: Person, start: int
) -> Member:
    seq = world.member_seq
    world.member_seq += 1
    roll = rng.random()
    if roll < world.config.legacy_rate:
        return _legacy_member(world, rng, lst, person, seq)
    if roll < world.config.legacy_rate + MIDDLE_RATE:
        signup = rng.randint(LEGACY_END, start)
    else:
        signup = start + int((world.now - DAY - start) * rng.random() ** 1.6)
    status = rng.choices(["subscribed", "pending", "transactional"], [0.91, 0.04, 0.05])[0]
    opt = signup + rng.randint(0, 3600)
    return _member(rng, lst, person, seq, (status, signup, opt, opt), TAGS, [0, 0, 1, 1, 2])


def _member(
    rng: random.Random,
    lst: MailList,
    person: Person,
    seq: int,
    when: tuple[str, int, int, int],
    tag_pool: list[str],
    tag_counts: list[int],
) -> Member:
    """A member of `lst`; `when` is (status, signup, opt-in, last changed). The rating,
    then the tags, are drawn from `rng` here."""
    status, signup, opt, changed = when
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
        tags=tuple(rng.sample(tag_pool, rng.choice(tag_counts))),
        seq=seq,
    )


def _legacy_member(
    world: World, rng: random.Random, lst: MailList, person: Person, seq: int
) -> Member:
    """Joined 2016-2019 and last changed then: every status, unchanged since."""
    signup = rng.randint(lst.date_created + DAY, LEGACY_END - 30 * DAY)
    opt = signup + rng.randint(0, 3600)
    statuses = {s: w for s, w in LEGACY_STATUSES.items() if not (lst.quiet and s == "unsubscribed")}
    status = rng.choices(list(statuses), list(statuses.values()))[0]
    changed = opt if status != "subscribed" or rng.random() < 0.5 else 0
    if status not in ("subscribed", "pending", "transactional") or not changed:
        changed = rng.randint(opt, LEGACY_END - 1)
    member = _member(rng, lst, person, seq, (status, signup, opt, changed), TAGS[:4], [0, 0, 0, 1])
    member.legacy = True
    member.unsub_reason = rng.choice(UNSUB_REASONS) if status == "unsubscribed" else ""
    return member


def _dirty_members(world: World, rng: random.Random) -> None:
    all_members = [m for ms in world.members.values() for m in ms]
    for m, kind in zip(
        _pick(world, rng, all_members, len(all_members)),
        ["blank_name", "future_timestamp"] * len(all_members),
        strict=False,
    ):
        m.dirty = (kind,)
        if kind == "blank_name":
            m.first, m.last = "", rng.choice(["", " "])
        else:
            m.opt = world.now + rng.randint(30, 900) * DAY


def _engagement(
    world: World, rng: random.Random, camp: Campaign, m: Member
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


def send_campaign(
    world: World, rng: random.Random, camp: Campaign, allow_unsubs_until: int
) -> None:
    """Deliver `camp` to its list's subscribed members; generate their engagement."""
    cfg, lst = world.config, world.list_by_id[camp.list_id]
    silent = camp.quiet or cfg.empty("email_activity")
    no_unsubs = lst.quiet or cfg.empty("unsubscribes")
    t0 = camp.send_time
    for m in world.members[camp.list_id]:
        if m.status != "subscribed" or m.signup >= t0:
            continue
        status, actions = ("sent", []) if silent else _engagement(world, rng, camp, m)
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


def new_campaign(
    world: World, rng: random.Random, lst: MailList, create: int, send: int
) -> Campaign:
    idx = len(world.campaigns)
    topic = " ".join(rng.sample(world.words, 2)).title()
    slug = topic.lower().replace(" ", "-")
    camp = Campaign(
        id=md5(f"{world.config.seed}:campaign:{idx}")[:10],
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
    world.campaigns.append(camp)
    return camp


def _unsent_plan(world: World, n: int) -> dict[int, str]:
    """Which of `n` campaigns (by index) stay unsent: the last few, drafts and
    scheduled ones alternating (all of them when "reports" is emptied)."""
    k = n if world.config.empty("reports") else 0 if n < 3 else max(2, n // 9)
    return {i: ("save", "schedule")[(n - 1 - i) % 2] for i in range(n - k, n)}


def _gen_campaigns(world: World, rng: random.Random, start: int) -> None:
    n = world.config.count("campaigns")
    if not world.lists:
        return
    slots = sorted(rng.randint(start + 30 * DAY, world.now - 2 * 3600) for _ in range(n))
    unsent = _unsent_plan(world, n)
    lists = world.lists
    quiet_idx = max(
        (i for i in range(n) if lists[i % len(lists)].quiet and i not in unsent), default=-1
    )
    for i, send in enumerate(slots):
        lst = lists[i % len(lists)]
        create = send - rng.randint(2 * 3600, 6 * DAY)
        status = unsent.get(i, "sent")
        camp = new_campaign(world, rng, lst, create, send if status == "sent" else 0)
        if status == "schedule":
            camp.status = "schedule"
            camp.schedule_time = world.now + rng.randint(3, 45) * DAY + rng.randint(0, 95) * 900
        elif status == "sent":
            camp.quiet = i == quiet_idx
            send_campaign(world, rng, camp, world.now)
    _churn(world, rng)


def _churn(world: World, rng: random.Random) -> None:
    """MailChimp-side changes not tied to a campaign (legacy members stay as they were)."""
    members = [
        m for ms in world.members.values() for m in ms if m.status == "subscribed" and not m.legacy
    ]
    for m in rng.sample(members, len(members) // 30):
        status = rng.choice(["unsubscribed", "archived", "archived"])
        if status == "unsubscribed" and world.list_by_id[m.list_id].quiet:
            status = "archived"
        m.status = status
        if status == "unsubscribed":
            m.unsub_reason = UNSUB_REASONS[0]
        m.touch(rng.randint(m.last_changed, world.now - 60))
    for m in rng.sample(members, len(members) // 8):  # profile edits
        if m.status == "subscribed":
            m.touch(rng.randint(m.last_changed, world.now - 60))


# --------------------------------------------------------------------------- HubSpot
def email_variant(rng: random.Random, email: str) -> str:
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


def contact_props(world: World, rng: random.Random, person: Person, email: str) -> dict[str, str]:
    return {
        "email": email,
        "firstname": person.first,
        "lastname": person.last,
        "jobtitle": rng.choice(
            ["Manager", "Director", "Engineer", "Analyst", "VP Sales", "Owner", ""]
        ),
        "phone": f"+1-{rng.randint(200, 989)}-555-{rng.randint(1000, 9999)}",
        "lifecyclestage": rng.choices([*LIFECYCLE_STAGES, ""], [3, 5, 3, 2, 1, 1, 0.3, 0.5, 0.5])[
            0
        ],
        "hubspot_owner_id": str(rng.choice(world.owners).id),
    }


def link_company(
    world: World, rng: random.Random, contact: CrmObject, companies: list[CrmObject]
) -> None:
    if not companies or rng.random() > 0.85 or world.config.empty("contact_companies"):
        return
    comp = rng.choice(companies)
    links = [(comp.id, True)]
    if rng.random() < 0.08:
        other = rng.choice(companies)
        if other.id != comp.id:
            links.append((other.id, False))
    world.contact_companies[contact.id] = links
    contact.props["company"] = comp.props.get("name", "")
    contact.props["associatedcompanyid"] = str(comp.id)


def _contact_rows(
    world: World, rng: random.Random, start: int, n_base: int
) -> list[tuple[int, Person, str, bool, bool]]:
    """(created, person, email, is_overlap, legacy) for every non-duplicate contact.
    Engaged MailChimp people become contacts soon after they engage; everyone else
    gets an era, legacy often enough that `legacy_rate` of all contacts are legacy."""
    n_overlap = min(round(world.config.overlap_rate * n_base), n_base)
    people: dict[int, Person] = {}
    for ms in world.members.values():
        for m in ms:
            people.setdefault(id(m.person), m.person)
    mc_people = list(people.values())
    # engaged people first, with some noise, so attribution has something to find
    mc_people.sort(key=lambda p: (-(p.first_engaged > 0) - rng.random() * 0.8, p.email))
    overlap = mc_people[:n_overlap]
    eligible = n_base - sum(1 for p in overlap if p.first_engaged)
    legacy_p = min(0.9, world.config.legacy_rate * n_base / max(1, eligible))
    rows: list[tuple[int, Person, str, bool, bool]] = []
    for p in overlap:
        if p.first_engaged:
            created = min(p.first_engaged + rng.randint(3600, 10 * DAY), world.now - 60)
            rows.append((created, p, email_variant(rng, p.email), True, False))
        else:
            created, legacy = _era(rng, legacy_p, start, world.now - DAY)
            rows.append((created, p, email_variant(rng, p.email), True, legacy))
    companies = world.objects["companies"]
    for _ in range(n_base - len(overlap)):
        comp_domain = (
            companies[rng.randrange(len(companies))].props.get("domain") if companies else None
        )
        p = new_person(world, rng, comp_domain if rng.random() < 0.6 else None)
        created, legacy = _era(rng, legacy_p, start, world.now - DAY)
        rows.append((created, p, p.email, False, legacy))
    rows.sort(key=lambda r: (r[0], r[2]))
    return rows


def _gen_contacts(world: World, rng: random.Random, start: int) -> None:
    n = world.config.count("contacts")
    n_dup = round(world.config.dirty_rate * n / 5)
    companies = world.objects["companies"]
    plain: list[CrmObject] = []
    for created, p, email, is_overlap, legacy in _contact_rows(world, rng, start, n - n_dup):
        obj = new_object(world, "contacts", contact_props(world, rng, p, email), _ms(rng, created))
        obj.person = p
        link_company(world, rng, obj, world.legacy_companies if legacy else companies)
        if rng.random() < 0.35:
            _touch_later(world, rng, obj, legacy)
        if legacy:
            world.legacy_contacts.append(obj)
        if not is_overlap:
            plain.append(obj)
    _dirty_contacts(world, rng, plain, round(world.config.dirty_rate * n) - n_dup)
    _duplicate_contacts(world, rng, plain, n_dup)


def _dirty_contacts(world: World, rng: random.Random, plain: list[CrmObject], n_other: int) -> None:
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
            obj.props["createdate"] = hs_time(_ms(rng, world.now + rng.randint(30, 700) * DAY))


def _duplicate_contacts(
    world: World, rng: random.Random, plain: list[CrmObject], n_dup: int
) -> None:
    """Extra records for people already in the CRM (same email, up to case/space)."""
    clean = [o for o in plain if not o.dirty]
    for src in rng.sample(clean, min(n_dup, len(clean))):
        created = _ms(rng, rng.randint(src.created // 1000, world.now - 1))
        props = dict(src.props)
        props.pop("hs_object_id")
        props["email"] = rng.choice([props["email"], props["email"].upper(), f"{props['email']} "])
        dup = new_object(world, "contacts", props, created)
        dup.person, dup.dirty = src.person, ("duplicate",)
        if src.id in world.contact_companies:
            world.contact_companies[dup.id] = list(world.contact_companies[src.id])


def _pick_pipeline(world: World, rng: random.Random) -> Pipeline:
    others = len(world.pipelines) - 1
    if not others:
        return world.pipelines[0]
    return rng.choices(world.pipelines, [0.6] + [0.4 / others] * others)[0]


def _deal_stage(rng: random.Random, pipe: Pipeline, age_days: float) -> str:
    opens = pipe.open_stages
    if pipe.id == "default":
        weights = [1.2, 1, 0.8, 0.6, 0.5]
    else:
        weights = [1.2 - 0.15 * i for i in range(len(opens))]
    stage = rng.choices([*opens, pipe.won, pipe.lost], [*weights, 2.5, 2.0])[0]
    if age_days < 20 and stage in (pipe.won, pipe.lost):
        stage = rng.choice(opens)
    return stage


def new_deal(
    world: World, rng: random.Random, contact: CrmObject | None, created_s: int, now: int
) -> CrmObject:
    """A deal created at `created_s` as it stands at `now` (2020-01-01 for a legacy deal,
    which stays as it was then)."""
    pipe = _pick_pipeline(world, rng)
    stage = _deal_stage(rng, pipe, (now - created_s) / DAY)
    comp_id = None
    if contact is not None and contact.id in world.contact_companies:
        comp_id = world.contact_companies[contact.id][0][0]
    comp = world.by_id["companies"].get(comp_id) if comp_id else None
    label = comp.props.get("name") if comp else (contact.props.get("lastname") if contact else "")
    props = {
        "dealname": f"{label or 'New'} - {rng.choice(DEAL_PLANS)}",
        "amount": str(
            rng.choice([500, 1200, 2500, 4800, 9900, 15000, 25000, 60000]) + rng.randint(0, 40) * 25
        ),
        "dealstage": stage,
        "pipeline": pipe.id,
        "dealtype": rng.choice(["newbusiness", "existingbusiness"]),
        "hubspot_owner_id": str(rng.choice(world.owners).id),
    }
    closed = stage in (pipe.won, pipe.lost)
    if closed:
        close = min(created_s + rng.randint(5, 90) * DAY, now - 60)
    else:
        close = created_s + rng.randint(20, 120) * DAY  # expected close: often in the future
    props["closedate"] = hs_time(_ms(rng, max(close, created_s)))
    obj = new_object(world, "deals", props, _ms(rng, created_s))
    last = min(close, now - 1) if closed else created_s
    if last > created_s:
        obj.touch(_ms(rng, last))
    if contact is not None and not world.config.empty("deal_contacts"):
        world.deal_contacts[obj.id] = [contact.id]
    if comp_id and not world.config.empty("deal_companies"):
        world.deal_companies[obj.id] = [(comp_id, True)]
    return obj


def _deal_plans(
    world: World, rng: random.Random, start: int, n: int
) -> list[tuple[int, CrmObject | None, bool]]:
    """(created, contact, legacy) per deal: a third follow campaign engagement, the rest
    get an era (a legacy deal belongs to a legacy contact, or to nobody)."""
    contacts = world.objects["contacts"]
    engaged = [c for c in contacts if c.person and c.person.first_engaged and not c.dirty]
    n_engaged = sum(1 for i in range(n) if i < n * 0.35) if engaged else 0
    legacy_p = min(0.9, world.config.legacy_rate * n / max(1, n - n_engaged))
    plans: list[tuple[int, CrmObject | None, bool]] = []
    for i in range(n):
        if engaged and i < n * 0.35:
            c = engaged[i % len(engaged)]
            created = c.person.first_engaged + rng.randint(DAY, 25 * DAY)
            if created >= world.now - 60:
                created = rng.randint(c.created // 1000, world.now - 60)
            plans.append((max(created, c.created // 1000), c, False))
            continue
        created, legacy = _era(rng, legacy_p, start, world.now - 60)
        pool = world.legacy_contacts if legacy else contacts
        c = rng.choice(pool) if pool and rng.random() < 0.92 else None
        if c is not None:
            created = max(created, c.created // 1000)
        if legacy:
            created = min(created, LEGACY_END - DAY)
        plans.append((created, c, legacy))
    plans.sort(key=lambda p: p[0])
    return plans


def _gen_deals(world: World, rng: random.Random, start: int) -> None:
    n = world.config.count("deals")
    for created, c, legacy in _deal_plans(world, rng, start, n):
        new_deal(world, rng, c, created, LEGACY_END if legacy else world.now)
    deals = world.objects["deals"]
    kinds = ["empty_amount", "missing_amount", "blank_name", "future_timestamp"]
    for i, d in enumerate(_pick(world, rng, deals, len(deals))):
        kind = kinds[i % len(kinds)]
        d.dirty = (kind,)
        if kind == "empty_amount":
            d.props["amount"] = ""
        elif kind == "missing_amount":
            d.props.pop("amount", None)
        elif kind == "blank_name":
            d.props["dealname"] = ""
        else:
            d.props["dealstage"] = world.pipeline_of(d).won
            d.props["closedate"] = hs_time(_ms(rng, world.now + rng.randint(60, 900) * DAY))


def pick_contact_person(world: World, rng: random.Random) -> Person:
    """A new contact: an engaged MailChimp person with the overlap rate, else a stranger."""
    if world.lists and rng.random() < world.config.overlap_rate:
        members = world.members[rng.choice(world.lists).id]
        if members:
            return rng.choice(members).person
    return new_person(world, rng)
