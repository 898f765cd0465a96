"""`World.advance`: move the clock and change records inside the new window.

Every change is stamped in (old now, new now]; about one in five reuses a
timestamp already issued in this call, so cursor ties exist. Scheduled campaigns
whose time falls inside the window are sent. Streams emptied by the world's
config stay empty.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING

from mock_apis.clock import DAY, hs_time
from mock_apis.generate import (
    company_props,
    contact_props,
    email_variant,
    link_company,
    new_campaign,
    new_deal,
    new_object,
    new_person,
    pick_contact_person,
    send_campaign,
)
from mock_apis.model import TAGS, UNSUB_REASONS, Campaign, CrmObject, Member, Unsub, md5
from mock_apis.properties import LIFECYCLE_STAGES

if TYPE_CHECKING:
    from mock_apis.world import World

SUMMARY_KEYS = [
    "members_created",
    "members_updated",
    "members_unsubscribed",
    "members_archived",
    "members_cleaned",
    "campaigns_created",
    "campaigns_sent",
    *(f"{kind}_{what}" for kind in ("companies", "contacts", "deals")
      for what in ("created", "updated", "archived")),
]  # fmt: skip


class Window:
    """Change stamps for one advance, inside (lo, hi]. About one in five reuses one of the
    last few stamps issued, as changes made together (an import, a workflow) do."""

    def __init__(self, rng: random.Random, lo: int, hi: int) -> None:
        self.rng, self.lo, self.hi = rng, lo, hi
        self.issued: list[int] = []

    def stamp(self) -> int:
        if self.issued and self.rng.random() < 0.2:
            return self.rng.choice(self.issued[-8:])
        ts = self.rng.randint(self.lo, self.hi)
        self.issued.append(ts)
        return ts

    def stamp_ms(self) -> int:
        ts = self.stamp()
        return ts * 1000 + (ts * 7919) % 1000  # same second -> same ms, so ties survive


def advance_world(world: World, days: float = 1.0, change_rate: float = 0.01) -> dict[str, int]:
    if days <= 0:
        raise ValueError(f"advance: days must be > 0, got {days}")
    if not 0 <= change_rate <= 1:
        raise ValueError(f"advance: change_rate must be within [0, 1], got {change_rate}")
    world.advances += 1
    rng = random.Random(f"advance:{world.config.seed}:{world.advances}:{days}:{change_rate}")
    win = Window(rng, world.now + 1, world.now + max(1, int(days * DAY)))
    summary: Counter[str] = Counter(dict.fromkeys(SUMMARY_KEYS, 0))

    def k_of(n: int) -> int:
        return round(n * change_rate * days) if change_rate > 0 else 0

    members = [m for ms in world.members.values() for m in ms]
    _advance_members(world, rng, win, members, k_of(len(members)), summary)
    _send_due(world, rng, win, summary)
    n_camp = max(1, k_of(len(world.campaigns))) if change_rate > 0 and world.lists else 0
    _new_campaigns(world, rng, win, n_camp, summary)
    for kind in ("companies", "contacts", "deals"):
        _advance_crm(world, kind, rng, win, k_of(len(world.objects[kind])), summary)
    world.now = win.hi
    world.version += 1
    return {**summary, "now": win.hi}


# --------------------------------------------------------------------------- MailChimp
def _advance_members(
    world: World, rng: random.Random, win: Window, members: list[Member], k: int, summary: Counter
) -> None:
    for _ in range(max(1, round(k * 0.4)) if k else 0):
        lst = rng.choice(world.lists)
        p = new_person(world, rng)
        ts = win.stamp()
        rating = rng.randint(1, 5)
        m = Member(lst.id, md5(p.email.lower()), p, p.first, p.last, "subscribed", ts, ts, ts,
                   rating, (), world.member_seq)  # fmt: skip
        world.member_seq += 1
        world.members[lst.id].append(m)
        summary["members_created"] += 1
    subscribed = [m for m in members if m.status == "subscribed"]
    for m in rng.sample(subscribed, min(len(subscribed), round(k * 0.3))):
        m.last = m.last or rng.choice(world.last_names)
        m.tags = tuple(sorted(set(m.tags) | {rng.choice(TAGS)}))
        m.touch(win.stamp())
        summary["members_updated"] += 1
    _unsubscribe(world, rng, win, round(k * 0.15), summary)
    for status, share in (("archived", 0.1), ("cleaned", 0.05)):
        pool = [m for m in members if m.status in ("subscribed", "unsubscribed")]
        for m in rng.sample(pool, min(len(pool), round(k * share))):
            m.status = status
            m.touch(win.stamp())
            summary[f"members_{status}"] += 1


def _unsubscribe(world: World, rng: random.Random, win: Window, n: int, summary: Counter) -> None:
    """Unsubscribes through the latest sent campaign of each (not quiet) list."""
    if world.config.empty("unsubscribes"):
        return
    latest = {c.list_id: c for c in world.campaigns if c.send_time}
    for _ in range(n):
        lst = rng.choice(world.lists)
        camp = latest.get(lst.id)
        if camp is None or lst.quiet:
            continue
        cands = [s.member for s in camp.sends if s.member.status == "subscribed"]
        if not cands:
            continue
        m = rng.choice(cands)
        ts = win.stamp()
        m.status = "unsubscribed"
        m.unsub_reason = rng.choice(UNSUB_REASONS)
        m.touch(ts)
        camp.unsubs.append(Unsub(m, ts, m.unsub_reason))
        summary["members_unsubscribed"] += 1


def _send_due(world: World, rng: random.Random, win: Window, summary: Counter) -> None:
    """Scheduled campaigns whose time has come go out (unless reports are emptied)."""
    if world.config.empty("reports"):
        return
    for camp in world.campaigns:
        if camp.status == "schedule" and camp.schedule_time <= win.hi:
            camp.status = "sent"
            camp.send_time = max(camp.schedule_time, win.lo)
            send_campaign(world, rng, camp, win.hi)
            summary["campaigns_sent"] += 1


def _new_campaigns(world: World, rng: random.Random, win: Window, n: int, summary: Counter) -> None:
    """New campaigns, sent inside the window (drafts when "reports" is emptied)."""
    for _ in range(n):
        lst = rng.choice(world.lists)
        send = win.stamp()
        create = max(win.lo, send - rng.randint(600, 3 * 3600))
        if world.config.empty("reports"):
            new_campaign(world, rng, lst, create, 0)
        else:
            camp: Campaign = new_campaign(world, rng, lst, create, send)
            send_campaign(world, rng, camp, win.hi)
        summary["campaigns_created"] += 1


# --------------------------------------------------------------------------- HubSpot
def _advance_crm(
    world: World, kind: str, rng: random.Random, win: Window, kk: int, summary: Counter
) -> None:
    live = [o for o in world.objects[kind] if not o.archived]
    for _ in range(max(1, round(kk * 0.4)) if kk else 0):
        _create(world, kind, rng, win.stamp(), win.hi)
        summary[f"{kind}_created"] += 1
    for obj in rng.sample(live, min(len(live), round(kk * 0.4))):
        _update(world, obj, rng, win)
        summary[f"{kind}_updated"] += 1
    still_live = [o for o in live if o.updated <= world.now * 1000]
    for obj in rng.sample(still_live, min(len(still_live), round(kk * 0.1))):
        obj.archived = True
        obj.archived_at = win.stamp_ms()
        obj.touch(obj.archived_at)
        summary[f"{kind}_archived"] += 1


def _create(world: World, kind: str, rng: random.Random, ts: int, hi: int) -> None:
    if kind == "companies":
        props = company_props(world, rng, len(world.objects[kind]))
        obj = new_object(world, kind, props, ts * 1000)
    elif kind == "contacts":
        p = pick_contact_person(world, rng)
        email = email_variant(rng, p.email) if p.first_engaged else p.email
        obj = new_object(world, kind, contact_props(world, rng, p, email), ts * 1000)
        obj.person = p
        link_company(world, rng, obj, [c for c in world.objects["companies"] if not c.archived])
    else:
        contacts = [c for c in world.objects["contacts"] if not c.archived]
        obj = new_deal(world, rng, rng.choice(contacts) if contacts else None, ts, hi)
    obj.created = obj.updated = ts * 1000 + (ts * 7919) % 1000
    obj.props["createdate"] = hs_time(obj.created)
    obj.touch(obj.created)


def _update(world: World, obj: CrmObject, rng: random.Random, win: Window) -> None:
    if obj.kind == "deals":
        pipe = world.pipeline_of(obj)
        opens = pipe.open_stages
        stage = obj.props.get("dealstage", "")
        if stage in opens:
            nxt = opens.index(stage) + 1
            roll = rng.random()
            new_ms = win.stamp_ms()
            if roll < 0.2:
                obj.props["dealstage"] = pipe.lost
                obj.props["closedate"] = hs_time(new_ms)
            elif nxt >= len(opens) or roll < 0.35:
                obj.props["dealstage"] = pipe.won
                obj.props["closedate"] = hs_time(new_ms)
            else:
                obj.props["dealstage"] = opens[nxt]
            obj.touch(new_ms)
            return
        obj.props["amount"] = str(rng.choice([900, 3000, 7000, 12000]) + rng.randint(0, 20) * 50)
    elif obj.kind == "contacts":
        obj.props["lifecyclestage"] = rng.choice(LIFECYCLE_STAGES)
    else:
        obj.props["numberofemployees"] = str(rng.choice([15, 60, 250, 900, 3000]))
    obj.touch(win.stamp_ms())
