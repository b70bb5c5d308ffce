"""A project's specification and the rules every spec must satisfy."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import iso4217
import langcodes

from cohort_intake.domain.taxonomy import is_domain, is_field
from cohort_runtime.domain_errors import Violation

MAX_TITLE = 200
MAX_INSTRUCTIONS = 100_000
MAX_CRITERIA = 20
MAX_TARGET_ITEMS = 10_000_000
MAX_OVERLAP = 9
MAX_GOLD_RATE = 0.5
MIN_LEASE = dt.timedelta(minutes=1)
MAX_LEASE = dt.timedelta(hours=24)
DEFAULT_LEASE = dt.timedelta(hours=1)
MAX_SCREENING_TASKS = 50
_CRITERION_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
_COHORT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

_Bad = Callable[[str, str], None]


class DataKind(enum.StrEnum):
    SFT_DEMONSTRATION = "sft_demonstration"
    PREFERENCE = "preference"
    TRAJECTORY = "trajectory"
    RUBRIC_GRADE = "rubric_grade"
    ADVERSARIAL_PROMPT = "adversarial_prompt"


# Kinds whose gold answers QA scores without a reviewer, so a screening test can be decided alone.
SCREENABLE = frozenset({DataKind.PREFERENCE, DataKind.RUBRIC_GRADE})


class DegreeLevel(enum.IntEnum):
    UNSPECIFIED = 0
    STUDENT = 1
    BACHELOR = 2
    MASTER = 3
    DOCTORATE = 4


@dataclass(frozen=True)
class Qualifications:
    minimum_degree: DegreeLevel = DegreeLevel.UNSPECIFIED
    fields: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    cohort_ids: tuple[str, ...] = ()
    minimum_quality: float = 0.0
    # Screening test: answers per expert (0: no test) and the share that must be right to pass.
    screening_tasks: int = 0
    screening_pass_share: float = 0.0


@dataclass(frozen=True)
class RubricCriterion:
    name: str
    description: str
    weight: float
    scale_min: int
    scale_max: int


@dataclass(frozen=True)
class PerSubmissionPay:
    rate_minor: int


@dataclass(frozen=True)
class HourlyPay:
    hourly_rate_minor: int
    per_task_cap_minutes: int


@dataclass(frozen=True)
class PayModel:
    model: PerSubmissionPay | HourlyPay | None
    review_rate_minor: int = 0

    def max_cost_per_submission_minor(self) -> int | None:
        """What one submission can cost at most (hourly: a full per-task cap)."""
        if isinstance(self.model, PerSubmissionPay):
            return self.model.rate_minor
        if isinstance(self.model, HourlyPay):
            return math.ceil(self.model.hourly_rate_minor * self.model.per_task_cap_minutes / 60)
        return None


@dataclass(frozen=True)
class ConsensusThresholds:
    """When QA asks for one more judgment; None takes QA's default (shown beside each range)."""

    min_confidence: float | None = None  # preference, default 0.8
    min_rubric_agreement: float | None = None  # rubric grade, default 0.6
    rubric_tolerance: float | None = None  # rubric grade, default 0.25


# The range each threshold may take.
CONSENSUS_RANGES = {
    "min_confidence": (0.5, 0.99),
    "min_rubric_agreement": (0.0, 1.0),
    "rubric_tolerance": (0.05, 1.0),
}


@dataclass(frozen=True)
class ProjectSpec:
    title: str = ""
    data_kind: DataKind | None = None
    domain: str = ""
    qualifications: Qualifications = field(default_factory=Qualifications)
    instructions_markdown: str = ""
    rubric: tuple[RubricCriterion, ...] = ()
    target_accepted_items: int = 0
    overlap: int = 0
    max_overlap: int = 0
    gold_rate: float = 0.0
    review_sample_rate: float = 0.0
    pay: PayModel = field(default_factory=lambda: PayModel(model=None))
    currency_code: str = ""
    budget_cap_minor: int = 0
    deadline: dt.datetime | None = None
    priority: int = 0
    lease: dt.timedelta | None = None
    per_expert_task_cap: int = 0
    consensus: ConsensusThresholds = field(default_factory=ConsensusThresholds)

    def normalised(self) -> ProjectSpec:
        """Defaults filled in and text trimmed; what is stored and compared for idempotency."""
        return replace(
            self,
            title=self.title.strip(),
            max_overlap=self.max_overlap or self.overlap,
            lease=self.lease or DEFAULT_LEASE,
            currency_code=self.currency_code.upper(),
        )


def validate(spec: ProjectSpec, now: dt.datetime, prefix: str = "spec") -> list[Violation]:
    """Every violation of `spec` (already normalised), each with its field path."""
    v: list[Violation] = []

    def bad(path: str, text: str) -> None:
        v.append(Violation(f"{prefix}.{path}", text))

    _validate_description(spec, bad)
    _validate_qualifications(spec.qualifications, bad)
    if spec.qualifications.screening_tasks and spec.data_kind not in SCREENABLE:
        bad("qualifications.screening", "screening needs answers QA scores alone: preference or rubric_grade projects")
    _validate_rubric(spec.rubric, bad)
    overlap_ok = _validate_volume(spec, bad)
    _validate_money(spec, overlap_ok, bad)
    _validate_schedule(spec, now, bad)
    return v


def _validate_description(spec: ProjectSpec, bad: _Bad) -> None:
    """What the project is: title, kind, domain and instructions."""
    if not spec.title:
        bad("title", "must not be empty")
    elif len(spec.title) > MAX_TITLE:
        bad("title", f"must be at most {MAX_TITLE} characters")
    if spec.data_kind is None:
        bad("data_kind", "must be set")
    if not is_domain(spec.domain):
        bad("domain", "must be a domain of the taxonomy, e.g. 'chemistry.organic' (see docs/TAXONOMY.md)")
    if not spec.instructions_markdown.strip():
        bad("instructions_markdown", "must not be empty")
    elif len(spec.instructions_markdown) > MAX_INSTRUCTIONS:
        bad("instructions_markdown", f"must be at most {MAX_INSTRUCTIONS} characters")


def _validate_volume(spec: ProjectSpec, bad: _Bad) -> bool:
    """How much work: items, overlap, gold and review rates. True when the overlap is usable."""
    if not 1 <= spec.target_accepted_items <= MAX_TARGET_ITEMS:
        bad("target_accepted_items", f"must be 1..{MAX_TARGET_ITEMS}")
    overlap_ok = 1 <= spec.overlap <= MAX_OVERLAP
    if not overlap_ok:
        bad("overlap", f"must be 1..{MAX_OVERLAP}")
    elif not spec.overlap <= spec.max_overlap <= MAX_OVERLAP:
        bad("max_overlap", f"must be 0 (off) or overlap..{MAX_OVERLAP}")
    if not 0.0 <= spec.gold_rate <= MAX_GOLD_RATE or math.isnan(spec.gold_rate):
        bad("gold_rate", f"must be 0..{MAX_GOLD_RATE}")
    if not 0.0 <= spec.review_sample_rate <= 1.0 or math.isnan(spec.review_sample_rate):
        bad("review_sample_rate", "must be 0..1")
    return overlap_ok


def _validate_money(spec: ProjectSpec, overlap_ok: bool, bad: _Bad) -> None:
    """Pay, currency, and a budget that covers at least one item."""
    pay_ok = _validate_pay(spec.pay, bad)
    if not _valid_currency(spec.currency_code):
        bad("currency_code", "must be an active ISO 4217 currency code, e.g. 'EUR'")
    if spec.budget_cap_minor <= 0:
        bad("budget_cap_minor", "must be > 0")
    elif pay_ok and overlap_ok:
        per_submission = spec.pay.max_cost_per_submission_minor() or 0
        one_item = per_submission * spec.overlap
        if spec.budget_cap_minor < one_item:
            bad(
                "budget_cap_minor",
                f"must cover at least one item: {one_item} minor units ({spec.overlap} x {per_submission})",
            )


def _validate_schedule(spec: ProjectSpec, now: dt.datetime, bad: _Bad) -> None:
    """When and how work is handed out: deadline, priority, lease length, per-expert cap."""
    if spec.deadline is None:
        bad("deadline", "must be set")
    elif spec.deadline <= now:
        bad("deadline", "must be in the future")
    if not 0 <= spec.priority <= 100:
        bad("priority", "must be 0..100")
    if spec.lease is not None and not MIN_LEASE <= spec.lease <= MAX_LEASE:
        bad("lease_duration", "must be 1 minute..24 hours")
    if spec.per_expert_task_cap < 0:
        bad("per_expert_task_cap", "must be >= 0 (0: no cap)")
    for name, (low, high) in CONSENSUS_RANGES.items():
        value = getattr(spec.consensus, name)
        if value is not None and not low <= value <= high:  # NaN fails too
            bad(f"consensus.{name}", f"must be {low}..{high} (or unset for the default)")


def _valid_currency(code: str) -> bool:
    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    # Funds codes, precious metals and test codes (X..) are not money experts can be paid in.
    return not code.startswith("X")


def _validate_qualifications(q: Qualifications, bad: _Bad) -> None:
    for i, f in enumerate(q.fields):
        if not is_field(f):
            bad(f"qualifications.fields[{i}]", f"{f!r} is not a field or domain of the taxonomy")
    for i, lang in enumerate(q.languages):
        if not langcodes.tag_is_valid(lang):
            bad(f"qualifications.languages[{i}]", f"{lang!r} is not a BCP 47 language tag")
    for i, c in enumerate(q.cohort_ids):
        if not _COHORT_ID.match(c):
            bad(f"qualifications.cohort_ids[{i}]", "must be 1..64 of letters, digits, '_', '.', ':', '-'")
    if not 0.0 <= q.minimum_quality <= 1.0 or math.isnan(q.minimum_quality):
        bad("qualifications.minimum_quality", "must be 0..1")
    if len(q.fields) > 20 or len(q.languages) > 20 or len(q.cohort_ids) > 50:
        bad("qualifications", "at most 20 fields, 20 languages and 50 cohorts")
    if not 0 <= q.screening_tasks <= MAX_SCREENING_TASKS:
        bad("qualifications.screening.tasks", f"must be 1..{MAX_SCREENING_TASKS} (0: no screening)")
    if q.screening_tasks and not (0.0 < q.screening_pass_share <= 1.0):
        bad("qualifications.screening.pass_share", "must be above 0 and at most 1")


def _validate_rubric(rubric: tuple[RubricCriterion, ...], bad: _Bad) -> None:
    if not 1 <= len(rubric) <= MAX_CRITERIA:
        bad("rubric.criteria", f"must have 1..{MAX_CRITERIA} criteria")
        return
    seen: set[str] = set()
    for i, c in enumerate(rubric):
        path = f"rubric.criteria[{i}]"
        if not _CRITERION_NAME.match(c.name):
            bad(f"{path}.name", "must be 1..64 of lowercase letters, digits and '_'")
        elif c.name in seen:
            bad(f"{path}.name", f"{c.name!r} is used twice")
        seen.add(c.name)
        if len(c.description) > 2000:
            bad(f"{path}.description", "must be at most 2000 characters")
        if not 0.0 < c.weight <= 1.0 or math.isnan(c.weight):
            bad(f"{path}.weight", "must be in (0, 1]")
        if not c.scale_min < c.scale_max <= c.scale_min + 100:
            bad(f"{path}.scale_max", "must be greater than scale_min, at most 100 points above it")
    total = sum(c.weight for c in rubric if not math.isnan(c.weight))
    if abs(total - 1.0) > 1e-6:
        bad("rubric.criteria", f"weights must sum to 1 (they sum to {total:.6g})")


def _validate_pay(pay: PayModel, bad: _Bad) -> bool:
    ok = True
    if pay.model is None:
        bad("pay", "must be per_submission or hourly")
        ok = False
    elif isinstance(pay.model, PerSubmissionPay):
        if pay.model.rate_minor <= 0:
            bad("pay.per_submission.rate_minor", "must be > 0")
            ok = False
    else:
        if pay.model.hourly_rate_minor <= 0:
            bad("pay.hourly.hourly_rate_minor", "must be > 0")
            ok = False
        if not 1 <= pay.model.per_task_cap_minutes <= 480:
            bad("pay.hourly.per_task_cap_minutes", "must be 1..480")
            ok = False
    if pay.review_rate_minor < 0:
        bad("pay.review_rate_minor", "must be >= 0")
    return ok


def fingerprint(spec: ProjectSpec) -> str:
    """What a retried create must repeat exactly (the normalised spec)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()
