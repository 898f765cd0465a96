"""Data defects the mock can inject: the declared kinds, one `DefectSpec` per defect, and
the pure helpers (value conversions, record patches, malformed emails) that
`mock_apis.inject` applies to a world.

A defect is data, like a fault: `{"kind": "type_change", "stream": "members", "field":
"member_rating", "to": "string", "rate": 0.2}`. It comes from `WorldConfig.defects`
(so `MockServer(defects=[...])`), `POST /_admin/defects` or `python -m mock_apis
--defect KIND[:STREAM][,opt=value...]`. Nothing here touches a world.

Kinds and the streams they apply to (`KINDS`); "schema" kinds default to the whole
stream (rate 1.0), the others to `RECORD_RATE` of its records:

- new_field: a field the API never sent. MailChimp: a new top-level key; HubSpot: a
  new property, listed by `/crm/v3/properties/{type}` and set on the chosen records.
- drop_field: a field the API stops sending. MailChimp: the top-level key is left
  out; HubSpot, whole stream: the property leaves the listing and every record;
  HubSpot, a share: those records send it as null (the API answers every defined
  property it is asked for, so a single record cannot leave one out).
- type_change: a field serialised with another type (`to`): "string" (3 -> "medium",
  1234 -> "1,234", true -> "true"), "epoch" (an ISO time -> epoch seconds, or
  milliseconds on HubSpot), "formatted" ("1234.5" -> "1,234.50"), "number" ("1234.5"
  -> 1234.5). MailChimp filters keep using the stored value: only the output changes.
- invalid_email: a malformed address ("jane.doe@@example", "jane.doe.example.com").
- unknown_status: a status outside the vocabulary (`value`, default "zombie"; for
  deals a stage id no pipeline has).
- future_timestamp: a timestamp `years` (default 5) in the future.
- duplicate_people: new HubSpot contacts copying existing ones (same email, new id).
- empty: the stream serves no records at all.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson

from mock_apis.clock import parse_hs_time_ms, parse_time

MC_STREAMS = ("members", "campaigns", "email_activity")
HS_STREAMS = ("contacts", "companies", "deals")
RECORD_RATE = 0.1  # default share for record-level kinds


@dataclass(frozen=True)
class Kind:
    streams: tuple[str, ...]
    schema: bool  # True: defaults to the whole stream
    doc: str


KINDS: dict[str, Kind] = {
    "new_field": Kind((*MC_STREAMS, *HS_STREAMS), True, "a field the API never sent"),
    "drop_field": Kind((*MC_STREAMS, *HS_STREAMS), True, "a field the API no longer sends"),
    "type_change": Kind(
        ("members", "campaigns", *HS_STREAMS), True, "a field sent with another JSON type"
    ),
    "invalid_email": Kind(("members", "contacts"), False, "malformed email addresses"),
    "unknown_status": Kind(
        ("members", "campaigns", "contacts", "deals"), False, "a status outside the vocabulary"
    ),
    "future_timestamp": Kind(
        ("members", "email_activity", *HS_STREAMS), False, "a timestamp years ahead"
    ),
    "duplicate_people": Kind(("contacts",), False, "second contacts with an existing email"),
    "empty": Kind((*MC_STREAMS, *HS_STREAMS), True, "the stream serves zero records"),
}

# Top-level fields of the MailChimp records, as `mock_apis.mc_shapes` builds them.
# (A member's `_links` are appended outside its record and cannot be dropped.)
MC_FIELDS: dict[str, tuple[str, ...]] = {
    "members": (
        "id", "email_address", "unique_email_id", "contact_id", "full_name", "web_id",
        "email_type", "status", "unsubscribe_reason", "consents_to_one_to_one_messaging",
        "sms_phone_number", "sms_subscription_status", "sms_subscription_last_updated",
        "merge_fields", "interests", "stats", "ip_signup", "timestamp_signup", "ip_opt",
        "timestamp_opt", "member_rating", "last_changed", "language", "vip", "email_client",
        "location", "marketing_permissions", "last_note", "source", "tags_count", "tags",
        "list_id",
    ),
    "campaigns": (
        "id", "web_id", "parent_campaign_id", "type", "create_time", "archive_url",
        "long_archive_url", "status", "emails_sent", "send_time", "content_type",
        "needs_block_refresh", "resendable", "recipients", "settings", "tracking",
        "report_summary", "delivery_status", "_links",
    ),
    "email_activity": (
        "campaign_id", "list_id", "list_is_active", "email_id", "email_address", "activity",
        "_links",
    ),
}  # fmt: skip
# MailChimp fields a type_change can convert, with the default `to`.
MC_TYPED: dict[str, dict[str, str]] = {
    "members": {
        "member_rating": "string", "web_id": "string", "tags_count": "string", "vip": "string",
        "consents_to_one_to_one_messaging": "string", "last_changed": "epoch",
        "timestamp_opt": "epoch", "timestamp_signup": "epoch",
    },
    "campaigns": {
        "emails_sent": "string", "web_id": "string", "needs_block_refresh": "string",
        "resendable": "string", "create_time": "epoch", "send_time": "epoch",
    },
}  # fmt: skip
MC_TIMESTAMPS = {"members": ("timestamp_opt", "timestamp_signup"), "email_activity": ("timestamp",)}
TARGETS = ("string", "epoch", "formatted", "number")
DEFAULT_FIELD: dict[tuple[str, str], str] = {
    **{("new_field", s): f for s, f in zip((*MC_STREAMS, *HS_STREAMS), (
        "engagement_score", "ai_subject_score", "device_type",
        "hs_ai_lead_score", "hs_ai_fit_score", "hs_ai_win_probability"), strict=True)},
    **{("drop_field", s): f for s, f in zip((*MC_STREAMS, *HS_STREAMS), (
        "member_rating", "emails_sent", "email_address", "lastname", "domain", "amount"),
        strict=True)},
    **{("type_change", s): f for s, f in zip(("members", "campaigns", *HS_STREAMS), (
        "member_rating", "emails_sent", "createdate", "numberofemployees", "amount"),
        strict=True)},
    ("invalid_email", "members"): "email_address",
    ("invalid_email", "contacts"): "email",
    ("unknown_status", "members"): "status",
    ("unknown_status", "campaigns"): "status",
    ("unknown_status", "contacts"): "lifecyclestage",
    ("unknown_status", "deals"): "dealstage",
    **{("future_timestamp", s): f for s, f in zip(("members", "email_activity", *HS_STREAMS), (
        "timestamp_opt", "timestamp", "createdate", "createdate", "createdate"), strict=True)},
    ("duplicate_people", "contacts"): "email",
}  # fmt: skip
FIXED_FIELD_KINDS = ("invalid_email", "unknown_status", "duplicate_people")
STATUS_VOCABULARY = {
    "members": ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"),
    "campaigns": ("save", "paused", "schedule", "sending", "sent"),
}
UNKNOWN_VALUE = {"members": "zombie", "campaigns": "zombie", "contacts": "zombie",
                 "deals": "9999999"}  # fmt: skip
RATING_WORDS = ("very low", "low", "medium", "high", "very high")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a HubSpot property a record does not carry


@dataclass(frozen=True)
class DefectSpec:
    """One defect. `rate` (a share of the stream's records) or `count` picks the records;
    `seed` varies the pick; `field`, `value`, `to`, `years` as each kind needs them.
    `touch` (default true) moves each changed record's last-modified cursor to the
    world's clock, on injection and again on clear, as the vendor does when a record
    changes; false leaves cursors alone (only a full sync then sees the defect)."""

    kind: str
    stream: str = ""
    rate: float | None = None
    count: int | None = None
    seed: int = 0
    field: str | None = None
    value: Any = None
    to: str | None = None
    years: float = 5.0
    touch: bool = True

    def __post_init__(self) -> None:
        kind = KINDS.get(self.kind)
        if kind is None:
            raise ValueError(f"unknown defect kind {self.kind!r}; choose from {list(KINDS)}")
        if not self.stream and len(kind.streams) == 1:
            object.__setattr__(self, "stream", kind.streams[0])
        if self.stream not in kind.streams:
            raise ValueError(
                f"defect {self.kind}: stream {self.stream!r} is not one it applies to; "
                f"choose from {list(kind.streams)}"
            )
        self._check_amount(kind)
        self._check_field()
        if self.to is not None and self.to not in TARGETS:
            raise ValueError(f"defect {self.kind}: to={self.to!r}; choose from {list(TARGETS)}")
        if self.years <= 0:
            raise ValueError(f"defect {self.kind}: years must be > 0, got {self.years}")

    def _check_amount(self, kind: Kind) -> None:
        if self.kind == "empty" and (self.rate is not None or self.count is not None):
            raise ValueError("defect empty: takes no rate or count (it empties the whole stream)")
        if self.rate is not None and self.count is not None:
            raise ValueError(f"defect {self.kind}: give rate or count, not both")
        if self.count is not None and self.count < 1:
            raise ValueError(f"defect {self.kind}: count must be >= 1, got {self.count}")
        if self.rate is not None and not 0 < self.rate <= 1:
            raise ValueError(f"defect {self.kind}: rate must be within (0, 1], got {self.rate}")
        if self.rate is None and self.count is None and self.kind != "empty":
            object.__setattr__(self, "rate", 1.0 if kind.schema else RECORD_RATE)

    def _check_field(self) -> None:
        default = DEFAULT_FIELD.get((self.kind, self.stream))
        if self.kind in FIXED_FIELD_KINDS and self.field not in (None, default):
            raise ValueError(f"defect {self.kind} on {self.stream} always changes {default!r}")
        if self.field is None:
            object.__setattr__(self, "field", default)
        if self.stream not in MC_STREAMS or self.kind in FIXED_FIELD_KINDS:
            return  # HubSpot fields are checked against the portal's properties on injection
        field, known = self.field, MC_FIELDS[self.stream]
        allowed: tuple[str, ...] | dict[str, str] | None = {
            "drop_field": known,
            "type_change": MC_TYPED.get(self.stream, {}),
            "future_timestamp": MC_TIMESTAMPS.get(self.stream, ()),
        }.get(self.kind)
        if self.kind == "drop_field" and self.stream == "members" and field == "_links":
            allowed = ()
        if allowed is not None and field not in allowed:
            raise ValueError(
                f"defect {self.kind}: {self.stream} has no field {field!r} it can change; "
                f"choose from {list(allowed)}"
            )
        if self.kind == "new_field" and field in known:
            raise ValueError(f"defect new_field: {self.stream} records already have {field!r}")
        if self.kind == "type_change":
            default = MC_TYPED[self.stream][field]
            fits = ("epoch",) if default == "epoch" else ("string", "formatted")
            if self.to is not None and self.to not in fits:
                raise ValueError(f"defect type_change: {self.stream}.{field} takes to={fits}")
            object.__setattr__(self, "to", self.to or default)

    @property
    def whole(self) -> bool:
        """Whether the defect covers every record of the stream."""
        return self.kind == "empty" or (self.count is None and (self.rate or 0) >= 1)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


OPTION_NAMES = tuple(f.name for f in fields(DefectSpec))


def coerce_defect(spec: DefectSpec | dict[str, Any] | str) -> DefectSpec:
    """A `DefectSpec` from itself, a dict (the admin API's body) or a CLI string."""
    if isinstance(spec, DefectSpec):
        return spec
    if isinstance(spec, str):
        return parse_defect(spec)
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"a defect is an object with at least a 'kind', got {spec!r}")
    unknown = set(spec) - set(OPTION_NAMES)
    if unknown:
        raise ValueError(f"unknown defect options {sorted(unknown)}; known: {list(OPTION_NAMES)}")
    return DefectSpec(**{k: _typed(k, v) for k, v in spec.items()})


def parse_defect(text: str) -> DefectSpec:
    """`KIND[:STREAM][,opt=value...]`, e.g. `type_change:members,field=member_rating,to=string`
    or `empty:deals` or `invalid_email:contacts,count=5`."""
    kind, _, rest = text.strip().partition(":")
    options: dict[str, Any] = {"kind": kind}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        name, eq, value = part.partition("=")
        if not eq:
            options["stream"] = name
        else:
            options[name.strip()] = _cli_value(name.strip(), value.strip())
    return coerce_defect(options)


def _cli_value(name: str, raw: str) -> Any:
    if name == "value":
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
    if name == "touch":
        return raw.lower() not in ("0", "false", "no", "off")
    return raw


def _typed(name: str, value: Any) -> Any:
    """Option values as the spec wants them (CLI strings and JSON numbers alike)."""
    if value is None or name in ("value", "kind", "stream", "field", "to"):
        return value
    try:
        if name in ("rate", "years"):
            return float(value)
        if name in ("count", "seed"):
            return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"defect option {name}={value!r} is not a number") from None
    if name == "touch" and not isinstance(value, bool):
        raise ValueError(f"defect option touch={value!r} must be true or false")
    return value


def help_text() -> str:
    """The kinds and their streams, for `python -m mock_apis --help`."""
    lines = [f"{k} ({', '.join(v.streams)}): {v.doc}" for k, v in KINDS.items()]
    return "; ".join(lines)


# --------------------------------------------------------------------------- values
def convert(to: str, value: Any, ms: bool = False) -> Any:
    """`value` serialised as `to` (see the module docstring); unchanged when it does not
    apply (an empty time, a non-numeric string)."""
    if to == "epoch" and isinstance(value, str) and value:
        try:
            return parse_hs_time_ms(value) if ms else parse_time(value)
        except ValueError:
            return value
    if to == "string" and not isinstance(value, str):
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int):
            return RATING_WORDS[value - 1] if 1 <= value <= 5 else f"{value:,}"
        return str(value)
    if to in ("formatted", "number"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value
        if to == "formatted":
            return f"{number:,.2f}"
        return int(number) if number.is_integer() else number
    return value


Op = tuple[str, str, Any]  # (field, "set" | "drop" | "convert", value or `to`)
Ops = tuple[Op, ...]


def patch_record(rec: dict[str, Any], ops: Ops) -> dict[str, Any]:
    """Apply record overlays in place: set a field, drop it, or convert its value."""
    for field, op, arg in ops:
        if op == "drop":
            rec.pop(field, None)
        elif op == "set":
            rec[field] = arg
        elif field in rec:
            rec[field] = convert(arg, rec[field])
    return rec


def malformed_email(email: str, rng: random.Random) -> str:
    """An address no validator accepts, still recognisably the person's."""
    local, _, domain = email.strip().lower().partition("@")
    host = domain.rsplit(".", 1)[0] or "example"
    forms = (f"{local}@@{host}", f"{local}.{domain}", f"{local}@", f"{local} at {domain}")
    return forms[rng.randrange(len(forms))]
