"""How each defect kind changes a world: one applier per kind (`APPLY`), called by
`mock_apis.inject.DefectBook.inject` with the defect and its seeded RNG. The kinds
and their options are declared in `mock_apis.defects`."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mock_apis.clock import DAY, hs_time, mc_time
from mock_apis.defects import (
    MC_STREAMS,
    MISSING,
    STATUS_VOCABULARY,
    UNKNOWN_VALUE,
    convert,
    malformed_email,
)
from mock_apis.generate import new_object
from mock_apis.model import ALWAYS_PROPS, CURSOR_PROP, activity_id
from mock_apis.properties import KIND_SINGULAR, LIFECYCLE_STAGES, PropDef

if TYPE_CHECKING:
    from mock_apis.inject import DefectBook, Injected

Applier = Callable[["DefectBook", "Injected", random.Random], None]
TIME_TYPES = ("datetime", "date")


def _new_field(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    spec = inj.spec
    if spec.stream in MC_STREAMS:
        for key, rec in book.pick(inj, book.pool(spec.stream)):
            value = spec.value if spec.value is not None else rng.randint(0, 100)
            book.overlay(inj, key, rec, (spec.field, "set", value))
        return
    kind, name = spec.stream, str(spec.field)
    if name in book.catalog(kind):
        raise ValueError(f"defect new_field: {kind} already have a property {name!r}")
    numeric = spec.value is None or isinstance(convert("number", spec.value), int | float)
    ms = book.world.now * 1000
    inj.new_prop = PropDef(
        name, name.replace("_", " ").title(), "number" if numeric else "string",
        "number" if numeric else "text", f"{KIND_SINGULAR[kind]}information",
        hubspot_defined=name.startswith("hs_"), created_ms=ms, updated_ms=ms,
    )  # fmt: skip
    for key, obj in book.pick(inj, book.pool(kind)):
        value = str(spec.value) if spec.value is not None else str(rng.randint(0, 100))
        book.change(inj, key, obj, name, value)


def _drop_field(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    spec = inj.spec
    if spec.stream in MC_STREAMS:
        for key, rec in book.pick(inj, book.pool(spec.stream)):
            book.overlay(inj, key, rec, (spec.field, "drop", None))
        return
    kind, name = spec.stream, str(spec.field)
    prop = _property(book, kind, name, "drop_field", lambda d: True)
    if spec.whole:  # the portal no longer defines it: gone from the listing and every record
        inj.dropped_prop = name
        for key, obj in book.pool(kind, live=False):
            book.bump(obj, spec.touch)
            book.affected(inj, key, obj)
        return
    if name in ALWAYS_PROPS[kind]:
        raise ValueError(
            f"defect drop_field: {kind} always carry {name!r}; drop it for the whole stream "
            "(no rate or count) or choose another property"
        )
    core = prop.gen == "core"
    pool = [(k, o) for k, o in book.pool(kind) if not core or o.props.get(name) not in (None, "")]
    for key, obj in book.pick(inj, pool):  # a defined property a record lacks is served null
        book.change(inj, key, obj, name, MISSING if core else None)


def _type_change(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    spec = inj.spec
    if spec.stream in MC_STREAMS:
        pool = book.pool(spec.stream)
        if spec.field == "send_time":  # a draft has none to convert
            pool = [(k, c) for k, c in pool if c.send_time or c.schedule_time]
        for key, rec in book.pick(inj, pool):
            book.overlay(inj, key, rec, (spec.field, "convert", spec.to))
        return
    kind, name = spec.stream, str(spec.field)
    prop = _property(book, kind, name, "type_change", _core_of("number", *TIME_TYPES))
    allowed = ("formatted", "number") if prop.type == "number" else ("epoch",)
    to = spec.to or allowed[0]
    if to not in allowed:
        raise ValueError(f"defect type_change: {kind}.{name} ({prop.type}) takes to={allowed}")
    pool = [(k, o) for k, o in book.pool(kind) if o.props.get(name) not in (None, "")]
    for key, obj in book.pick(inj, pool):
        book.change(inj, key, obj, name, lambda old: convert(to, old, ms=True))


def _invalid_email(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    if inj.spec.stream == "members":
        for key, m in book.pick(inj, book.pool("members", clean=True)):
            book.overlay(inj, key, m, ("email_address", "set", malformed_email(m.email, rng)))
        return
    pool = [(k, o) for k, o in book.pool("contacts", clean=True) if "@" in o.props.get("email", "")]
    for key, obj in book.pick(inj, pool):
        book.change(inj, key, obj, "email", malformed_email(obj.props["email"], rng))


def _unknown_status(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    spec = inj.spec
    value = str(spec.value if spec.value is not None else UNKNOWN_VALUE[spec.stream])
    vocabulary: Any = STATUS_VOCABULARY.get(spec.stream) or (
        LIFECYCLE_STAGES if spec.stream == "contacts" else book.world.stage_index
    )
    if value in vocabulary or not value:
        raise ValueError(
            f"defect unknown_status: {value!r} is a known {spec.stream} {spec.field}; "
            "give a value outside the vocabulary"
        )
    for key, rec in book.pick(inj, book.pool(spec.stream, clean=True)):
        book.change(inj, key, rec, str(spec.field), value)


def _future_timestamp(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    spec, now = inj.spec, book.world.now

    def future() -> int:
        return now + round(spec.years * 365 * DAY) + rng.randint(0, 180 * DAY)

    if spec.stream == "email_activity":
        _future_activity(book, inj, future)
    elif spec.stream == "members":
        attr = {"timestamp_opt": "opt", "timestamp_signup": "signup"}[str(spec.field)]
        for key, m in book.pick(inj, book.pool("members", clean=True)):
            book.change(inj, key, m, attr, future())
    else:
        kind, name = spec.stream, str(spec.field)
        if name == CURSOR_PROP[kind]:
            raise ValueError(f"defect future_timestamp: {name} is {kind}' cursor; choose another")
        _property(book, kind, name, "future_timestamp", _core_of(*TIME_TYPES))
        pool = [(k, o) for k, o in book.pool(kind, clean=True) if o.props.get(name)]
        for key, obj in book.pick(inj, pool):
            book.change(inj, key, obj, name, hs_time(future() * 1000 + rng.randint(0, 999)))


def _future_activity(book: DefectBook, inj: Injected, future: Callable[[], int]) -> None:
    """Actions served with a later time: a new activity_id (the time is part of it), so
    `originals` maps each key to the action's clean one."""
    w = book.world
    pool = [
        (f"{c.id}|{s.member.id}|{a[0]}|{a[1]}|{a[2]}", (c.id, s.member.id, *a[:3]))
        for c in w.campaigns
        if c.send_time
        for s in c.sends
        for a in s.actions
        if a[1] <= w.now
    ]
    for key, (cid, mid, action, ts, url) in book.pick(inj, pool):
        served = future()
        inj.stamps[(cid, mid, action, ts, url)] = served
        new = activity_id(cid, mid, action, mc_time(served), url)
        inj.keys.append(new)
        inj.originals[new] = activity_id(cid, mid, action, mc_time(ts), url)
        inj.claims.add(key)


def _duplicate_people(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    """New contacts for people already in the CRM: the same properties and email, a new
    id, created now. Cleared, they are archived (HubSpot's merge leaves the old id archived)."""
    w = book.world
    pool = [(k, o) for k, o in book.pool("contacts", clean=True) if o.props.get("email")]
    for key, src in book.pick(inj, pool):
        props = {k: v for k, v in src.props.items() if k != "hs_object_id"}
        dup = new_object(w, "contacts", props, w.now * 1000)
        dup.person = src.person
        if src.id in w.contact_companies:
            w.contact_companies[dup.id] = list(w.contact_companies[src.id])
        inj.created.append(dup)
        inj.keys.append(str(dup.id))
        inj.originals[str(dup.id)] = key
        inj.claims.add(key)


def _empty(book: DefectBook, inj: Injected, rng: random.Random) -> None:
    """Nothing is served; cleared, every record comes back with a cursor at the clock."""
    inj.empty = True
    for key, rec in book.pool(inj.spec.stream, live=False):
        book.affected(inj, key, rec)


def _core_of(*types: str) -> Callable[[PropDef], bool]:
    return lambda d: d.gen == "core" and d.type in types


def _property(
    book: DefectBook, kind: str, name: str, defect: str, fits: Callable[[PropDef], bool]
) -> PropDef:
    """The portal's definition of `name`, if the defect can change it."""
    catalog = book.catalog(kind)
    prop = catalog.get(name)
    if prop is None or not fits(prop):
        choices = sorted(n for n, d in catalog.items() if fits(d))
        shown = choices if len(choices) <= 20 else [*choices[:20], "..."]
        raise ValueError(
            f"defect {defect}: {kind} have no property {name!r} it can change; choose from {shown}"
        )
    return prop


APPLY: dict[str, Applier] = {
    "new_field": _new_field,
    "drop_field": _drop_field,
    "type_change": _type_change,
    "invalid_email": _invalid_email,
    "unknown_status": _unknown_status,
    "future_timestamp": _future_timestamp,
    "duplicate_people": _duplicate_people,
    "empty": _empty,
}
