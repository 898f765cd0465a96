"""The mock company's data: one seed and a scale knob -> one deterministic world.

`World` holds every record both APIs serve plus the clock, and is the entry point:
`World(config)` generates it (`mock_apis.generate.populate`) against a fixed reference clock,
`advance()` (`mock_apis.advance`) moves that clock, producing new, updated,
unsubscribed and archived records stamped inside the new window, and the views
below are what the APIs read. The record types, `WorldConfig` and the vocabulary
live in `mock_apis.model` and are re-exported here.
"""

from __future__ import annotations

from typing import Any

from mock_apis import generate
from mock_apis.advance import advance_world
from mock_apis.clock import WORLD_START
from mock_apis.inject import DefectBook
from mock_apis.model import (
    ALWAYS_PROPS,
    ASSOC_TYPES,
    BASE_COUNTS,
    COMPANY_DEFAULT_PROPS,
    CONTACT_DEFAULT_PROPS,
    CURSOR_PROP,
    DEAL_DEFAULT_PROPS,
    DEFAULT_PROPS,
    EMPTYABLE_STREAMS,
    ID_BASE,
    MIDDLE_RATE,
    OPEN_STAGES,
    PIPELINE_STAGES,
    Campaign,
    CrmObject,
    MailList,
    Member,
    Owner,
    Person,
    Send,
    Unsub,
    WorldConfig,
    association_types,
    md5,
)
from mock_apis.pipelines import Pipeline, Stage, build_pipelines
from mock_apis.properties import PropDef, build_catalog

__all__ = [  # re-exported from mock_apis.model, so `from mock_apis.world import ...` keeps working
    "ALWAYS_PROPS",
    "ASSOC_TYPES",
    "BASE_COUNTS",
    "COMPANY_DEFAULT_PROPS",
    "CONTACT_DEFAULT_PROPS",
    "CURSOR_PROP",
    "DEAL_DEFAULT_PROPS",
    "DEFAULT_PROPS",
    "EMPTYABLE_STREAMS",
    "ID_BASE",
    "MIDDLE_RATE",
    "OPEN_STAGES",
    "PIPELINE_STAGES",
    "Campaign",
    "CrmObject",
    "MailList",
    "Member",
    "Owner",
    "Person",
    "Send",
    "Unsub",
    "World",
    "WorldConfig",
    "association_types",
    "md5",
]


class World:
    """All records both APIs serve, plus the clock. Mutated only by `advance()` and by the
    defects injected through `defects` (a `mock_apis.inject.DefectBook`)."""

    def __init__(self, config: WorldConfig | None = None, **overrides: Any) -> None:
        self.config = config or WorldConfig(**overrides)
        self.now = WORLD_START
        self.version = 0
        self.advances = 0
        self.taken_emails: set[str] = set()  # every address handed out, so none repeats
        self.member_seq = 0  # next Member.seq
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
        # name pools (Faker, seeded) and the legacy records, filled by the generator
        self.first_names: list[str] = []
        self.last_names: list[str] = []
        self.company_names: list[str] = []
        self.words: list[str] = []
        self.legacy_companies: list[CrmObject] = []
        self.legacy_contacts: list[CrmObject] = []
        generate.populate(self)
        self.defects = DefectBook(self)  # falsy while no defect is active
        for spec in self.config.defects:
            self.defects.inject(spec)

    def advance(self, days: float = 1.0, change_rate: float = 0.01) -> dict[str, int]:
        """Move the clock forward and change records inside the new window (see
        `mock_apis.advance`). Returns how many records of each kind changed."""
        return advance_world(self, days, change_rate)

    def pipeline_of(self, deal: CrmObject) -> Pipeline:
        return self.pipeline_by_id.get(deal.props.get("pipeline", ""), self.pipelines[0])

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
