"""The figures of a report, as plain data for the pages, the charts and the PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .kinds import DeadlineKind
from .periods import Period


@dataclass
class Count:
    label: str
    count: int


@dataclass
class Breakdown:
    """One recorded choice (a form field), counted per complaint (its last value)."""

    title: str
    field: str
    step: str
    counts: list[Count]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)


@dataclass
class DeadlineFigure:
    kind: DeadlineKind
    gehaald: int = 0
    gemist: int = 0
    open: int = 0
    vervallen: int = 0

    @property
    def measured(self) -> bool:
        return bool(self.kind.timers)

    @property
    def decided(self) -> int:
        return self.gehaald + self.gemist

    @property
    def percentage(self) -> float | None:
        return round(100 * self.gehaald / self.decided, 1) if self.decided else None


@dataclass
class Throughput:
    label: str
    closed: int
    still_open: int
    median: float | None
    p90: float | None
    maximum: float | None


@dataclass
class EscalationStep:
    name: str
    count: int


@dataclass
class EscalationLevel:
    key: str
    label: str
    complaints: int
    steps: list[EscalationStep]


@dataclass
class CommitteeCases:
    body: str
    steps: list[str]
    cases: int
    decided: int
    pending: int
    verdicts: list[Count]


@dataclass
class HandlingRow:
    route: str
    count: int
    within: int
    exceeded: int
    running: int
    no_deadline: int


@dataclass
class LocationRow:
    location: str
    total: int
    per_type: dict[str, int]


@dataclass
class QuarterSummary:
    quarter: int
    label: str
    received: int
    closed: int
    within: int
    exceeded: int
    escalated: int
    committee_cases: int


@dataclass
class Report:
    slug: str
    organisation: str
    period: Period
    generated_at: datetime
    public: bool
    total: int
    closed: int
    running: int
    types: list[str]  # the type keys present, in order
    by_type: list[Count]
    by_location: list[LocationRow]
    by_status: list[Count]
    by_outcome: list[Count]
    handling: list[HandlingRow]
    deadlines: list[DeadlineFigure]
    lapse_terms: list[DeadlineFigure]
    throughput: list[Throughput]
    escalations: list[EscalationLevel]
    committees: list[CommitteeCases]
    judgements: list[Breakdown]
    nature: list[Breakdown]
    measures: list[Count]
    decisions: list[Breakdown]
    purged: int = 0
    # per complaint: "within" (every deadline met), "exceeded" (one missed), "running", "no_deadline"
    deadline_verdicts: dict[str, int] = field(default_factory=dict)
    escalated_complaints: int = 0
    quarters: list[QuarterSummary] = field(default_factory=list)

    @property
    def deadline_totals(self) -> tuple[int, int]:
        return (sum(d.gehaald for d in self.deadlines), sum(d.gemist for d in self.deadlines))

    @property
    def deadline_percentage(self) -> float | None:
        met, missed = self.deadline_totals
        return round(100 * met / (met + missed), 1) if met + missed else None

    @property
    def escalated(self) -> int:
        """Complaints that reached any level of escalation."""
        return self.escalated_complaints
