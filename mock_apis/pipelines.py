"""HubSpot deal pipelines: the built-in "Sales Pipeline" plus custom ones.

HubSpot names the stages of its default pipeline (`appointmentscheduled`, ...);
pipelines a portal adds get numeric ids, and so do their stages ("1001", ...).
Stage metadata says which stage is won: `isClosed` and `probability`, both sent
as strings by the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_apis.clock import DAY, LEGACY_START

DEFAULT_STAGES = [
    # id, label, probability, is_closed
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
    ("contractsent", "Contract Sent", 0.9, False),
    ("closedwon", "Closed Won", 1.0, True),
    ("closedlost", "Closed Lost", 0.0, True),
]
CUSTOM_PIPELINES = [
    (
        "Renewals",
        [
            ("Renewal Due", 0.5, False),
            ("Renewal Quoted", 0.7, False),
            ("Verbal Commit", 0.9, False),
            ("Renewed", 1.0, True),
            ("Churned", 0.0, True),
        ],
    ),
    (
        "Partner Deals",
        [
            ("Referral Received", 0.1, False),
            ("Discovery Call", 0.3, False),
            ("Proposal Sent", 0.6, False),
            ("Partner Approved", 0.8, False),
            ("Closed Won", 1.0, True),
            ("Closed Lost", 0.0, True),
        ],
    ),
    (
        "Enterprise",
        [
            ("Qualification", 0.1, False),
            ("Solution Design", 0.25, False),
            ("Security Review", 0.5, False),
            ("Procurement", 0.75, False),
            ("Signed", 1.0, True),
            ("Lost", 0.0, True),
        ],
    ),
]
FIRST_CUSTOM_PIPELINE_ID = 7_654_321
FIRST_CUSTOM_STAGE_ID = 1001
PIPELINE_CREATED_MS = (LEGACY_START - 400 * DAY) * 1000


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    label: str
    probability: float
    is_closed: bool
    display_order: int
    created_ms: int


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]
    created_ms: int

    @property
    def open_stages(self) -> list[str]:
        return [s.id for s in self.stages if not s.is_closed]

    @property
    def won(self) -> str:
        return next(s.id for s in self.stages if s.is_closed and s.probability >= 1.0)

    @property
    def lost(self) -> str:
        return next(s.id for s in self.stages if s.is_closed and s.probability <= 0.0)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


def build_pipelines(n: int) -> list[Pipeline]:
    """`n` pipelines: the default one, then custom ones (templates repeat with a suffix)."""
    if n < 1:
        raise ValueError(f"deal_pipelines must be >= 1 (HubSpot always has one), got {n}")
    default = Pipeline(
        "default",
        "Sales Pipeline",
        0,
        tuple(
            Stage(sid, label, prob, closed, i, PIPELINE_CREATED_MS)
            for i, (sid, label, prob, closed) in enumerate(DEFAULT_STAGES)
        ),
        PIPELINE_CREATED_MS,
    )
    out = [default]
    stage_id = FIRST_CUSTOM_STAGE_ID
    for k in range(n - 1):
        label, stages = CUSTOM_PIPELINES[k % len(CUSTOM_PIPELINES)]
        if k >= len(CUSTOM_PIPELINES):
            label = f"{label} {k // len(CUSTOM_PIPELINES) + 1}"
        created = PIPELINE_CREATED_MS + (k + 1) * 97 * DAY * 1000
        built = []
        for i, (slabel, prob, closed) in enumerate(stages):
            built.append(Stage(str(stage_id), slabel, prob, closed, i, created))
            stage_id += 1
        out.append(
            Pipeline(str(FIRST_CUSTOM_PIPELINE_ID + 1000 * k), label, k + 1, tuple(built), created)
        )
    return out
