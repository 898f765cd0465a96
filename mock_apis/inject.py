"""`DefectBook`: the defects injected into one world, what each touched, and their undo.

Every `World` has one (`world.defects`); it is falsy while no defect is active, and
the APIs and `mock_apis.groundtruth` consult it only then, so a clean world serves
exactly what it would without it. A defect is applied in one of two ways:

- stored values change (HubSpot properties, a member's or campaign's status, a
  member's opt-in time, new duplicate contacts): filters, search and ground truth
  see the defected value like any other. An advance that later changes the value
  writes a clean one over it, as a real edit would.
- serialisation overlays (MailChimp fields added, dropped or converted, a member's
  email address, email-activity timestamps, empty streams): the stored record stays
  clean, so filters keep using the stored value, and only the output changes.

Records are picked from the stream with a sub-seed of the world's seed (the
defect's serial number, kind, stream and `seed` option), so the same calls give the
same keys. A record already holding an active defect on the same field is not
picked again. Each changed record's last-modified cursor moves to the world's clock
(`Member.touch`, `CrmObject.touch`) on injection and again on clear, unless the spec
says `touch=false`; campaigns have no last-modified cursor (connectors re-read them
whole) and an email activity's cursor is its event time, part of its key.

Keys are the raw layer's primary keys: members `list_id|id`, campaigns `id`, HubSpot
objects `id` (a string), email activity `activity_id` (md5 of
`campaign_id|email_id|action|timestamp|url`, with the timestamp as served).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_apis.clock import mc_time, parse_time
from mock_apis.defects import (
    MC_STREAMS,
    MISSING,
    DefectSpec,
    Op,
    coerce_defect,
    convert,
    patch_record,
)
from mock_apis.inject_kinds import APPLY
from mock_apis.model import ALWAYS_PROPS, Campaign, CrmObject, Member, Send, activity_id
from mock_apis.properties import PropDef

if TYPE_CHECKING:
    from mock_apis.world import World

Action = tuple[str, int, str, str, str]
StampKey = tuple[str, str, str, int, str]  # campaign_id, email_id, action, time, url


@dataclass(eq=False)
class Change:
    """One stored value a defect replaced. Reverted only while it still holds the defect's
    value: an advance that changed it since has written a clean one already."""

    target: Any
    name: str
    prop: bool  # a HubSpot property (target.props[name]) rather than an attribute
    before: Any
    after: Any

    def get(self) -> Any:
        if self.prop:
            return self.target.props.get(self.name, MISSING)
        return getattr(self.target, self.name)

    def set(self, value: Any) -> None:
        if not self.prop:
            setattr(self.target, self.name, value)
        elif value is MISSING:
            self.target.props.pop(self.name, None)
        else:
            self.target.props[self.name] = value

    def revert(self) -> None:
        now = self.get()
        if now is self.after or (type(now) is type(self.after) and now == self.after):
            self.set(self.before)


@dataclass(eq=False)
class Injected:
    """One active defect: its spec and everything needed to describe and undo it."""

    id: int
    spec: DefectSpec
    at: int  # the world's clock when injected
    keys: list[str] = field(default_factory=list)
    originals: dict[str, str] = field(default_factory=dict)  # key -> the clean record's key
    records: list[Any] = field(default_factory=list)  # Members / CrmObjects to bump on clear
    changes: list[Change] = field(default_factory=list)
    ops: dict[str, list[Op]] = field(default_factory=dict)  # MailChimp record key -> overlays
    stamps: dict[StampKey, int] = field(default_factory=dict)  # activity -> served time
    created: list[CrmObject] = field(default_factory=list)  # archived on clear
    claims: set[str] = field(default_factory=set)  # record keys whose `spec.field` it holds
    new_prop: PropDef | None = None
    dropped_prop: str | None = None
    empty: bool = False

    def describe(self) -> dict[str, Any]:
        out = {"id": self.id, **self.spec.describe(), "injected_at": mc_time(self.at)}
        out |= {"affected": len(self.keys), "keys": self.keys}
        if self.originals:
            out["originals"] = self.originals
        return out


class DefectBook:
    """The active defects of `world` and the overlays the APIs read while any is active."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.active: list[Injected] = []
        self.serial = 0
        self.schema_version = 0
        self._index()

    def __bool__(self) -> bool:
        return bool(self.active)

    # ------------------------------------------------------------------ inject / clear
    def inject(self, spec: DefectSpec | dict[str, Any] | str) -> Injected:
        """Apply one defect now; returns it with the keys it affected."""
        spec = coerce_defect(spec)
        self.serial += 1
        inj = Injected(self.serial, spec, self.world.now)
        seed = f"defect:{self.world.config.seed}:{self.serial}:{spec.kind}:{spec.stream}"
        try:
            APPLY[spec.kind](self, inj, random.Random(f"{seed}:{spec.seed}"))
        except Exception:
            self._undo(inj)
            raise
        inj.keys = list(dict.fromkeys(inj.keys))
        self.active.append(inj)
        self._index()
        self.world.version += 1
        return inj

    def clear(self, defect_id: int | None = None) -> list[Injected]:
        """Remove one defect (by id) or all: records get their clean values back and, unless
        a defect said `touch=false`, a cursor at the world's clock. Returns those removed."""
        gone = [d for d in self.active if defect_id is None or d.id == defect_id]
        if defect_id is not None and not gone:
            known = [d.id for d in self.active]
            raise ValueError(f"no active defect with id {defect_id}; active ids: {known}")
        self.active = [d for d in self.active if d not in gone]
        self._index()
        for inj in reversed(gone):
            self._undo(inj)
        self.world.version += 1
        return gone

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.active]

    def _undo(self, inj: Injected) -> None:
        for change in reversed(inj.changes):
            change.revert()
        ms = self.world.now * 1000
        for obj in inj.created:
            if not obj.archived:
                obj.archived, obj.archived_at = True, ms
                obj.touch(ms)
        for rec in dict.fromkeys(inj.records):
            self.bump(rec, inj.spec.touch)

    def _index(self) -> None:
        """Merge the active defects' overlays into the lookups the APIs read."""
        self.ops: dict[str, dict[str, tuple[Op, ...]]] = {s: {} for s in MC_STREAMS}
        self.stamps: dict[StampKey, int] = {}
        self.empty: set[str] = set()
        self.new_props: dict[str, list[PropDef]] = {}
        self.dropped: dict[str, set[str]] = {}
        for inj in self.active:
            stream = inj.spec.stream
            for key, ops in inj.ops.items():
                self.ops[stream][key] = self.ops[stream].get(key, ()) + tuple(ops)
            self.stamps.update(inj.stamps)
            if inj.empty:
                self.empty.add(stream)
            if inj.new_prop is not None:
                self.new_props.setdefault(stream, []).append(inj.new_prop)
            if inj.dropped_prop is not None:
                self.dropped.setdefault(stream, set()).add(inj.dropped_prop)
        self.schema_version += 1

    # ------------------------------------------------------------------ used by the appliers
    def bump(self, rec: Any, touch: bool) -> None:
        """Mark a record changed: its cursor moves to the clock (`touch`), and a member's
        cached serialisation is dropped either way."""
        if isinstance(rec, Member):
            if touch:
                rec.touch(self.world.now)
            else:
                rec.rev += 1
        elif isinstance(rec, CrmObject) and touch:
            rec.touch(self.world.now * 1000)

    def pick(self, inj: Injected, pool: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The records `inj` applies to: all of a whole-stream defect's, else `count` or a
        `rate` share (at least one), drawn with the defect's sub-seed, in stream order.
        Records another active defect holds on the same field are left out."""
        spec = inj.spec
        same = [
            d for d in self.active if (d.spec.stream, d.spec.field) == (spec.stream, spec.field)
        ]
        held = {k for d in same for k in d.claims}
        pool = [(k, r) for k, r in pool if k not in held]
        if spec.whole or not pool:
            return pool
        n = spec.count if spec.count is not None else max(1, round((spec.rate or 0) * len(pool)))
        rng = random.Random(f"pick:{self.world.config.seed}:{inj.id}:{spec.seed}:{len(pool)}")
        return [pool[i] for i in sorted(rng.sample(range(len(pool)), min(n, len(pool))))]

    def change(self, inj: Injected, key: str, rec: Any, name: str, value: Any) -> None:
        """Store `value` in the record: a HubSpot property (MISSING removes it), else an
        attribute of a Member or Campaign. A callable `value` gets the value the record
        holds once its cursor has moved (so a cursor's own type can change)."""
        self.bump(rec, inj.spec.touch)
        prop = isinstance(rec, CrmObject)
        before = rec.props.get(name, MISSING) if prop else getattr(rec, name)
        if callable(value):
            value = value(before)
        ch = Change(rec, name, prop, before, value)
        ch.set(value)
        inj.changes.append(ch)
        self.affected(inj, key, rec)

    def overlay(self, inj: Injected, key: str, rec: Any, op: Op) -> None:
        """Change how a MailChimp record is served: `rec` is a Member, a Campaign or, for
        email activity, a (Campaign, Send)."""
        self.bump(rec, inj.spec.touch)
        inj.ops.setdefault(key, []).append(op)
        self.affected(inj, key, rec)

    def affected(self, inj: Injected, key: str, rec: Any) -> None:
        inj.claims.add(key)
        if isinstance(rec, tuple):
            inj.keys.extend(self.activity_keys(*rec))
        else:
            inj.keys.append(key)
            inj.records.append(rec)

    def pool(self, stream: str, live: bool = True, clean: bool = False) -> list[tuple[str, Any]]:
        """(key, record) of a stream in serving order; email activity as (Campaign, Send).
        `live`: HubSpot records that are not archived; `clean`: not made dirty by the
        generator."""
        w = self.world
        out: list[tuple[str, Any]]
        if stream == "members":
            out = [(f"{m.list_id}|{m.id}", m) for lst in w.lists for m in w.members[lst.id]]
        elif stream == "campaigns":
            out = [(c.id, c) for c in w.campaigns]
        elif stream == "email_activity":
            out = [
                (f"{c.id}|{s.member.id}", (c, s))
                for c in w.campaigns
                if c.send_time
                for s in c.sends
                if any(a[1] <= w.now for a in s.actions)
            ]
        else:
            out = [(str(o.id), o) for o in w.objects[stream] if not (live and o.archived)]
        if clean:
            out = [(k, r) for k, r in out if not getattr(r, "dirty", ())]
        return out

    def activity_keys(self, c: Campaign, s: Send) -> list[str]:
        """The activity_id of each visible action of one recipient, as served."""
        now, mid = self.world.now, s.member.id
        return [
            activity_id(c.id, mid, a[0], mc_time(self.stamps.get((c.id, mid, *a[:3]), a[1])), a[2])
            for a in s.actions
            if a[1] <= now
        ]

    def catalog(self, kind: str) -> dict[str, PropDef]:
        """The properties the portal defines now (defects included)."""
        return {d.name: d for d in self.properties(kind, self.world.properties[kind])}

    # ------------------------------------------------------------------ read by the APIs
    def is_empty(self, stream: str) -> bool:
        return stream in self.empty

    def patch(self, stream: str, key: str, rec: dict[str, Any]) -> dict[str, Any]:
        ops = self.ops[stream].get(key)
        return patch_record(rec, ops) if ops else rec

    def properties(self, kind: str, base: list[PropDef]) -> list[PropDef]:
        dropped = self.dropped.get(kind, set())
        return [d for d in (*base, *self.new_props.get(kind, ())) if d.name not in dropped]

    def activity_view(self, c: Campaign, since: int | None) -> list[tuple[Member, list[Action]]]:
        """`MailChimpApi._activity_view` with defects: served times, filtered on them."""
        if "email_activity" in self.empty:
            return []
        now, stamps, out = self.world.now, self.stamps, []
        for s in c.sends:
            acts = []
            for a in s.actions:
                if a[1] <= now:
                    served = stamps.get((c.id, s.member.id, *a[:3]), a[1]) if stamps else a[1]
                    if since is None or served > since:
                        acts.append((a[0], served, a[2], a[3], a[4]))
            if acts:
                out.append((s.member, acts))
        return out

    def adjust_truth(self, out: dict[str, list[dict[str, Any]]]) -> None:
        """Ground truth as served: empty streams, overlays, dropped properties."""
        for stream in out:
            if stream in self.empty:
                out[stream] = []
        if self.stamps:
            for row in out.get("email_activity", ()):
                _restamp(row, self.stamps)
        aliases = {"members": {"last_changed": "cursor"}, "campaigns": {"create_time": "cursor"}}
        keys: dict[str, Callable[[dict[str, Any]], str]] = {
            "members": lambda r: f"{r['list_id']}|{r['id']}",
            "campaigns": lambda r: r["id"],
            "email_activity": lambda r: f"{r['campaign_id']}|{r['email_id']}",
        }
        for stream, key in keys.items():
            ops = self.ops[stream]
            for row in out.get(stream, ()) if ops else ():
                _patch_row(row, ops.get(key(row), ()), aliases.get(stream, {}))
        for kind, names in self.dropped.items():
            cursor = ALWAYS_PROPS[kind][2]
            cols = ["cursor" if n == cursor else n for n in names]
            for row in out.get(kind, ()):
                row.update({c: None for c in cols if c in row})


def _restamp(row: dict[str, Any], stamps: dict[StampKey, int]) -> None:
    key = (row["campaign_id"], row["email_id"], row["action"], parse_time(row["timestamp"]),
           row["url"])  # fmt: skip
    served = stamps.get(key)
    if served is not None:
        stamp = mc_time(served)
        row.update(timestamp=stamp, cursor=stamp)
        row["activity_id"] = activity_id(key[0], key[1], key[2], stamp, key[4])


def _patch_row(row: dict[str, Any], ops: tuple[Op, ...], aliases: dict[str, str]) -> None:
    for name, op, arg in ops:
        col = aliases.get(name, name)
        if col in row:
            row[col] = None if op == "drop" else arg if op == "set" else convert(arg, row[col])
