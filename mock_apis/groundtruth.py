"""What the server currently holds, per raw stream, so a test can prove a load lost
nothing and doubled nothing.

Shape: ``{stream: [record, ...]}`` with one record per row the raw table should
hold after a full sync, for every stream in docs/contracts.md §2. Each record has
the stream's primary-key columns, ``cursor`` (the incremental cursor value exactly
as the API returns it, or ``None`` for streams without one) and a few value
columns a test can compare:

- lists: id, cursor=None, name, member_count (subscribed)
- members: list_id, id, cursor=last_changed, email_address, status, dirty
- campaigns: id, cursor=create_time, status (sent/save/schedule), send_time (the scheduled
  time for status "schedule", "" for a draft), list_id
- reports: id, cursor=send_time, emails_sent, unique_opens, clicks_total, unsubscribed (sent
  campaigns only: the API has no report for a draft or a scheduled campaign)
- sent_to: campaign_id, email_id, cursor=None, list_id, status, open_count
- email_activity: activity_id, cursor=timestamp, campaign_id, list_id, email_id, action,
  timestamp, url ("" if none); activity_id = md5("campaign_id|email_id|action|timestamp|url")
- unsubscribes: campaign_id, email_id, cursor=timestamp, list_id, reason
- contacts: id, cursor=lastmodifieddate, archived, email (None if missing), firstname,
  lastname, lifecyclestage, dirty
- companies: id, cursor=hs_lastmodifieddate, archived, name, domain, dirty
- deals: id, cursor=hs_lastmodifieddate, archived, amount (None if missing), dealstage,
  pipeline, closedate, dirty
- owners: id, cursor=updatedAt, email, archived
- deal_pipelines: id, cursor=None, label, archived (every pipeline: "default" and the
  custom ones with numeric ids)
- deal_pipeline_stages: pipeline_id, id, cursor=None, label, is_closed, probability (the
  stages of every pipeline)
- contact_companies / deal_contacts / deal_companies: the two ids, cursor=None,
  association_types (as the v4 API returns them for that direction); only between
  records that are not archived

HubSpot ids are strings, as the API sends them. ``dirty`` lists the dirty kinds a
record was given by the generator (empty when clean): invalid_email, missing_email,
duplicate, blank_name, future_timestamp, empty_amount, missing_amount, missing_domain.

Injected defects (`mock_apis.inject`) show as served and leave ``dirty`` alone: an
emptied stream has no rows, and defected values (an email, a status, a converted
cursor, a dropped property as None, an activity's time and so its activity_id) are
the served ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_apis.clock import hs_time, mc_time
from mock_apis.model import Campaign, activity_id
from mock_apis.world import World

STREAMS = (
    "lists",
    "members",
    "campaigns",
    "reports",
    "sent_to",
    "email_activity",
    "unsubscribes",
    "contacts",
    "companies",
    "deals",
    "owners",
    "deal_pipelines",
    "deal_pipeline_stages",
    "contact_companies",
    "deal_contacts",
    "deal_companies",
)


Rows = list[dict[str, Any]]


def ground_truth(world: World, streams: list[str] | None = None) -> dict[str, Rows]:
    wanted = set(streams or STREAMS)
    unknown = wanted - set(STREAMS)
    if unknown:
        raise ValueError(f"unknown ground-truth streams {sorted(unknown)}; known: {list(STREAMS)}")
    out: dict[str, Rows] = {}
    for stream in STREAMS:
        if stream in wanted and stream in BUILDERS:
            out[stream] = BUILDERS[stream](world)
    for stream in ("contacts", "companies", "deals"):
        if stream in wanted:
            out[stream] = _crm(world, stream)
    assoc = {"contact_companies", "deal_contacts", "deal_companies"}
    if wanted & assoc:
        out |= _associations(world, wanted & assoc)
    if world.defects:
        world.defects.adjust_truth(out)
    return {stream: out[stream] for stream in STREAMS if stream in out}


# --------------------------------------------------------------------------- MailChimp
def _lists(world: World) -> Rows:
    return [
        {
            "id": lst.id,
            "cursor": None,
            "name": lst.name,
            "member_count": sum(1 for m in world.members[lst.id] if m.status == "subscribed"),
        }
        for lst in world.lists
    ]


def _members(world: World) -> Rows:
    return [
        {
            "list_id": m.list_id,
            "id": m.id,
            "cursor": mc_time(m.last_changed),
            "email_address": m.email,
            "status": m.status,
            "dirty": list(m.dirty),
        }
        for lst in world.lists
        for m in world.members[lst.id]
    ]


def _campaigns(world: World) -> Rows:
    return [
        {
            "id": c.id,
            "cursor": mc_time(c.create_time),
            "status": c.status,
            "send_time": mc_time(c.send_time or c.schedule_time)
            if c.send_time or c.schedule_time
            else "",
            "list_id": c.list_id,
        }
        for c in world.campaigns
    ]


def _sent(world: World) -> list[Campaign]:
    return [c for c in world.campaigns if c.send_time]


def _reports(world: World) -> Rows:
    now = world.now
    rows = []
    for c in _sent(world):
        visible = [a for s in c.sends for a in s.actions if a[1] <= now]
        rows.append(
            {
                "id": c.id,
                "cursor": mc_time(c.send_time),
                "emails_sent": len(c.sends),
                "unique_opens": sum(
                    1 for s in c.sends if any(a[0] == "open" and a[1] <= now for a in s.actions)
                ),
                "clicks_total": sum(1 for a in visible if a[0] == "click"),
                "unsubscribed": sum(1 for u in c.unsubs if u.ts <= now),
            }
        )
    return rows


def _sent_to(world: World) -> Rows:
    now = world.now
    return [
        {
            "campaign_id": c.id,
            "email_id": s.member.id,
            "cursor": None,
            "list_id": c.list_id,
            "status": s.status,
            "open_count": sum(1 for a in s.actions if a[0] == "open" and a[1] <= now),
        }
        for c in _sent(world)
        for s in c.sends
    ]


def _email_activity(world: World) -> Rows:
    rows = []
    for c in _sent(world):
        for s in c.sends:
            for action, ts, url, _ip, _t in s.actions:
                if ts > world.now:
                    continue
                stamp = mc_time(ts)
                rows.append(
                    {
                        "activity_id": activity_id(c.id, s.member.id, action, stamp, url),
                        "cursor": stamp,
                        "campaign_id": c.id,
                        "list_id": c.list_id,
                        "email_id": s.member.id,
                        "action": action,
                        "timestamp": stamp,
                        "url": url,
                    }
                )
    return rows


def _unsubscribes(world: World) -> Rows:
    return [
        {
            "campaign_id": c.id,
            "email_id": u.member.id,
            "cursor": mc_time(u.ts),
            "list_id": c.list_id,
            "reason": u.reason,
        }
        for c in _sent(world)
        for u in c.unsubs
        if u.ts <= world.now
    ]


# --------------------------------------------------------------------------- HubSpot
CRM_FIELDS = {
    "contacts": ("lastmodifieddate", ("email", "firstname", "lastname", "lifecyclestage")),
    "companies": ("hs_lastmodifieddate", ("name", "domain")),
    "deals": ("hs_lastmodifieddate", ("amount", "dealstage", "pipeline", "closedate")),
}


def _crm(world: World, kind: str) -> Rows:
    cursor, fields = CRM_FIELDS[kind]
    return [
        {
            "id": str(o.id),
            "cursor": o.props[cursor],
            "archived": o.archived,
            **{f: o.props.get(f) for f in fields},
            "dirty": list(o.dirty),
        }
        for o in world.objects[kind]
    ]


def _owners(world: World) -> Rows:
    return [
        {"id": str(o.id), "cursor": hs_time(o.updated), "email": o.email, "archived": False}
        for o in world.owners
    ]


def _pipelines(world: World) -> Rows:
    return [
        {"id": p.id, "cursor": None, "label": p.label, "archived": False} for p in world.pipelines
    ]


def _stages(world: World) -> Rows:
    return [
        {
            "pipeline_id": p.id,
            "id": s.id,
            "cursor": None,
            "label": s.label,
            "is_closed": s.is_closed,
            "probability": s.probability,
        }
        for p in world.pipelines
        for s in p.stages
    ]


ASSOC_KEYS = {
    "contact_companies": ("contact_id", "company_id"),
    "deal_contacts": ("deal_id", "contact_id"),
    "deal_companies": ("deal_id", "company_id"),
}


def _associations(world: World, streams: set[str]) -> dict[str, Rows]:
    live = world.live_associations()
    return {
        stream: [
            {a_key: str(a), b_key: str(b), "cursor": None, "association_types": types}
            for a, b, types in live[stream]
        ]
        for stream, (a_key, b_key) in ASSOC_KEYS.items()
        if stream in streams
    }


BUILDERS: dict[str, Callable[[World], Rows]] = {
    "lists": _lists,
    "members": _members,
    "campaigns": _campaigns,
    "reports": _reports,
    "sent_to": _sent_to,
    "email_activity": _email_activity,
    "unsubscribes": _unsubscribes,
    "owners": _owners,
    "deal_pipelines": _pipelines,
    "deal_pipeline_stages": _stages,
}
