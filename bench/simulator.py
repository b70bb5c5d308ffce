"""An expert population acting through the real gRPC APIs with real tokens (`make demo`, tests).

Profiles: accurate and noisy experts, experts biased to the first-shown candidate, fast spammers,
colluding pairs (who agree on a coin flip per task, right or wrong, and acquire in lockstep, the
second releasing what it is handed until it lands on its partner's task, as a ring coordinating
over chat would), experts who abandon leases,
and reviewers, who make mistakes of their own (an accuracy, and a leniency toward work they judge
wrong) unless a run asks for oracles. Tasks are generated preference items whose better candidate
is known (shown in a random order), or rubric-grade items whose true score on each criterion is
known, so a run can score what the platform delivered against the truth.

On rubric items the profiles mean: accurate and noisy experts grade the truth plus Gaussian noise
(sd 0.56 and 1.3 points); a "first_shown" expert is the rubric's position bias, a straight-liner
who gives every criterion the top of the scale; spammers grade at random; colluders share one
random grade per task and criterion.

Or a real crowd replayed (`rte_crowd`): the items of data/crowd/rte.standardized.tsv
(textual entailment, 10 crowd labels per item, expert-labelled truth) become tasks, and each real
worker becomes one simulated expert who answers exactly what that worker answered, skipping
(releasing) every item the worker never labelled. Routing decides who sees what, as in production.

Experts take real time per task (tasking measures active time, and QA rejects implausibly fast
work), except spammers, which is how QA catches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import grpc

from cohort.qa.v1 import reviews_pb2, reviews_pb2_grpc
from cohort.tasking.v1 import experts_pb2, work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub

FIELD = "chemistry.organic"


@dataclass(frozen=True)
class Profile:
    name: str
    accuracy: float = 0.9
    first_shown: bool = False
    spam: bool = False
    collude: bool = False
    abandon: float = 0.0
    replay: bool = False  # answers what a real crowd worker answered (Simulation.replay)


@dataclass(frozen=True)
class ReviewerProfile:
    """A reviewer sees whether a submission is right with probability `accuracy`; work they see as
    wrong they still accept with probability `leniency`."""

    name: str
    accuracy: float = 1.0
    leniency: float = 0.0


REVIEWER_PROFILES = {
    "oracle": ReviewerProfile("oracle"),
    "careful": ReviewerProfile("careful", accuracy=0.95, leniency=0.1),
    "hasty": ReviewerProfile("hasty", accuracy=0.8, leniency=0.4),
}

# The rubric of simulated rubric-grade projects: (criterion, weight), every scale 1..5.
RUBRIC = (("correctness", 0.5), ("completeness", 0.3), ("clarity", 0.2))
SCALE = (1, 5)
# A grade within this many points of the truth on every criterion is right (QA's gold tolerance:
# a quarter of the scale).
RUBRIC_TOLERANCE = 1.0

PROFILES = {
    "accurate": Profile("accurate", accuracy=0.93),
    "noisy": Profile("noisy", accuracy=0.68),
    "first_shown": Profile("first_shown", first_shown=True),
    "spammer": Profile("spammer", spam=True),
    "colluder": Profile("colluder", collude=True),
    "abandoner": Profile("abandoner", accuracy=0.9, abandon=0.4),
    "replay": Profile("replay", replay=True),
}


@dataclass
class Task:
    task_id: str
    better: str
    shown: tuple[str, ...]
    prompt: str
    contents: dict[str, str]
    gold: bool
    scores: dict[str, int] = field(default_factory=dict)
    """A rubric-grade task's true score per criterion (empty for a preference task)."""

    @property
    def overall(self) -> float:
        """The true weighted overall score of a rubric-grade task."""
        weights = dict(RUBRIC)
        return sum(weights[c] * v for c, v in self.scores.items())

    def as_new_task(self) -> dict:
        if self.scores:
            rubric_task: dict = {
                "task_id": self.task_id,
                "input": {
                    "prompt": self.prompt,
                    "candidates": [{"candidate_id": "answer", "content": self.contents["answer"]}],
                },
            }
            if self.gold:
                rubric_task["gold"] = {"criterion_scores": self.scores}
            return rubric_task
        task: dict = {
            "task_id": self.task_id,
            "input": {
                "prompt": self.prompt,
                "candidates": [{"candidate_id": c, "content": self.contents[c]} for c in self.shown],
            },
        }
        if self.gold:
            other = "b" if self.better == "a" else "a"
            task["gold"] = {"ranking": [self.better, other]}
        return task


def preference_tasks(n: int, seed: int = 7, gold_share: float = 0.1) -> list[Task]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        better = rng.choice("ab")
        shown = ("a", "b") if rng.random() < 0.5 else ("b", "a")
        prompt = f"Q{i}: which answer explains reaction {i} correctly?"
        contents = {
            c: (f"Answer {c} to Q{i}: " + ("a careful, correct mechanism." if c == better else "a plausible slip."))
            for c in "ab"
        }
        tasks.append(Task(f"q{i:04d}", better, shown, prompt, contents, gold=rng.random() < gold_share))
    return tasks


def rubric_tasks(n: int, seed: int = 7, gold_share: float = 0.1) -> list[Task]:
    """Answers to grade on RUBRIC, each with a true score per criterion (correlated: a wrong answer
    is rarely complete), spread over the whole scale."""
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        base = rng.randint(*SCALE)
        scores = {c: min(SCALE[1], max(SCALE[0], base + rng.choice((-1, 0, 0, 1)))) for c, _ in RUBRIC}
        prompt = f"Q{i}: explain the mechanism of reaction {i}."
        content = f"Answer to Q{i}: a mechanism whose quality is {scores['correctness']} of 5."
        tasks.append(Task(f"r{i:04d}", "", ("answer",), prompt, {"answer": content}, rng.random() < gold_share, scores))
    return tasks


def rubric_right(given: dict[str, int], truth: dict[str, int]) -> bool:
    return all(abs(given.get(c, 0) - v) <= RUBRIC_TOLERANCE for c, v in truth.items())


def rte_crowd(
    path: Path, items: int, seed: int = 5, gold_share: float = 0.1
) -> tuple[list[Task], dict[str, dict[str, str]]]:
    """`items` RTE items (a fixed-seed sample) as preference tasks whose better candidate is the
    item's truth ("a": entailment, "b": none), and every worker's labels on them as first choices,
    by expert id (exp_rte + the worker id)."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    truth = {r["orig_id"]: r["gold"] for r in rows}
    chosen = sorted(random.Random(seed).sample(sorted(truth, key=int), items), key=int)
    rng = random.Random(seed + 1)
    tasks = []
    for item in chosen:
        better = "a" if truth[item] == "1" else "b"
        shown = ("a", "b") if rng.random() < 0.5 else ("b", "a")
        contents = {
            "a": f"Answer a to RTE {item}: the text entails the hypothesis.",
            "b": f"Answer b to RTE {item}: the text does not entail the hypothesis.",
        }
        prompt = f"RTE item {item}: does the text entail the hypothesis?"
        tasks.append(Task(f"rte{item}", better, shown, prompt, contents, gold=rng.random() < gold_share))
    wanted = set(chosen)
    replay: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if r["orig_id"] in wanted:
            replay[f"exp_rte{r['!amt_worker_ids'].lower()}"][f"rte{r['orig_id']}"] = (
                "a" if r["response"] == "1" else "b"
            )
    return tasks, dict(replay)


@dataclass
class _Lockstep:
    """A colluding pair's meeting point: the leader acquires once the follower is ready, and the
    follower right after the leader's acquire returned; a follower handed another task releases it
    and asks again, up to HUNT times, to land on the leader's. Either waits at most `patience`
    seconds, so a partner who was suspended (or is slow) does not stop the other."""

    HUNT: ClassVar[int] = 4

    follower_ready: asyncio.Event = field(default_factory=asyncio.Event)
    leader_went: asyncio.Event = field(default_factory=asyncio.Event)
    leader_task: str | None = None
    patience: float = 3.0

    async def before_acquire(self, *, leader: bool) -> None:
        mine, theirs = (self.follower_ready, None) if leader else (self.leader_went, self.follower_ready)
        if theirs is not None:
            theirs.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(mine.wait(), self.patience)
        mine.clear()

    def leader_acquired(self, task_id: str | None) -> None:
        self.leader_task = task_id
        self.leader_went.set()


@dataclass
class ExpertStats:
    acquired: int = 0
    submitted: int = 0
    released: int = 0
    refused: int = 0
    last_work_time: float = 0.0


@dataclass
class Simulation:
    # What every simulated expert's profile says (and a demo's human expert's): qualified for the
    # simulated projects.
    COMMON_PROFILE: ClassVar[dict[str, Any]] = {
        "degree": types.DEGREE_LEVEL_DOCTORATE,
        "fields": [FIELD],
        "languages": ["en"],
        "weekly_hours": 30,
    }
    experts: list[tuple[str, Profile]]
    reviewers: list[str]
    tasks: dict[str, Task]
    think_seconds: tuple[float, float] = (3.3, 4.2)
    seed: int = 11
    stats: dict[str, ExpertStats] = field(default_factory=lambda: defaultdict(ExpertStats))
    judgments: list[tuple[str, str, str]] = field(default_factory=list)
    """(task, expert, first choice) of every preference submission handed in."""
    grades: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)
    """(task, expert, scores) of every rubric-grade submission handed in."""
    acquire_latency: list[float] = field(default_factory=list)
    reviews: int = 0
    reviewer_profiles: dict[str, ReviewerProfile] = field(default_factory=dict)
    """Each reviewer's profile; a reviewer not named here is an oracle."""
    review_log: list[tuple[str, bool, bool]] = field(default_factory=list)
    """(reviewer, the work was right, they accepted it) of every review handed in."""
    replay: dict[str, dict[str, str]] = field(default_factory=dict)
    """Replayed crowd: expert -> task -> the first choice their real worker gave."""
    pairs: dict[str, tuple[str, bool, _Lockstep]] = field(init=False, default_factory=dict)
    """Colluder -> (their pair's key, whether they lead, the pair's lockstep): colluders pair up
    in the order they are listed."""

    def __post_init__(self) -> None:
        colluders = [e for e, p in self.experts if p.collude]
        for leader, follower in zip(colluders[::2], colluders[1::2], strict=False):
            step = _Lockstep()
            self.pairs[leader] = (leader, True, step)
            self.pairs[follower] = (leader, False, step)

    @staticmethod
    def population(counts: dict[str, int], reviewers: int, tag: str) -> tuple[list[tuple[str, Profile]], list[str]]:
        experts = [
            (f"exp_{name.replace('_', '')}{i:02d}{tag}", PROFILES[name]) for name, n in counts.items() for i in range(n)
        ]
        return experts, [f"exp_reviewer{i:02d}{tag}" for i in range(reviewers)]

    @staticmethod
    def reviewer_population(counts: dict[str, int], tag: str) -> dict[str, ReviewerProfile]:
        return {
            f"exp_reviewer{name}{i:02d}{tag}": REVIEWER_PROFILES[name] for name, n in counts.items() for i in range(n)
        }

    @staticmethod
    def profiles(experts: list[tuple[str, Profile]], reviewers: list[str]) -> list[experts_pb2.ExpertProfile]:
        common = Simulation.COMMON_PROFILE
        out = [experts_pb2.ExpertProfile(expert_id=e, **common) for e, _ in experts]
        out += [experts_pb2.ExpertProfile(expert_id=r, reviewer=True, **common) for r in reviewers]
        return out

    def _pair_key(self, expert: str) -> str:
        return self.pairs[expert][0] if expert in self.pairs else expert

    def choose(self, expert: str, profile: Profile, task: Task, rng: random.Random, shown: tuple[str, ...] = ()) -> str:
        """The candidate `expert` puts first; `shown` is the order their assignment showed the
        candidates in (the task's own order when tasking gave none)."""
        if profile.replay:
            return self.replay[expert][task.task_id]
        if profile.spam:
            return rng.choice("ab")
        if profile.first_shown:
            return (shown or task.shown)[0]
        if profile.collude:
            # Both of a pair flip the same coin per task: they always agree, right or wrong.
            digest = hashlib.sha256(f"{self._pair_key(expert)}{task.task_id}".encode()).digest()
            return "a" if digest[0] % 2 else "b"
        other = "b" if task.better == "a" else "a"
        return task.better if rng.random() < profile.accuracy else other

    def grade(self, expert: str, profile: Profile, task: Task, rng: random.Random) -> dict[str, int]:
        """The scores `expert` gives a rubric-grade task."""
        low, high = SCALE
        if profile.spam:
            return {c: rng.randint(low, high) for c in task.scores}
        if profile.first_shown:
            return dict.fromkeys(task.scores, high)
        if profile.collude:
            # Both of a pair draw the same grade per task and criterion: they agree, right or wrong.
            return {
                c: low
                + hashlib.sha256(f"{self._pair_key(expert)}{task.task_id}{c}".encode()).digest()[0] % (high - low + 1)
                for c in task.scores
            }
        sd = 0.35 + 3 * (1 - profile.accuracy)
        return {c: min(high, max(low, round(v + rng.gauss(0, sd)))) for c, v in task.scores.items()}

    def answer(
        self, expert: str, profile: Profile, task: Task, rng: random.Random, shown: tuple[str, ...]
    ) -> tuple[sub.SubmissionPayload, Callable[[], None]]:
        """What `expert` hands in for `task`, and how to record it once it was taken."""
        if task.scores:
            scores = self.grade(expert, profile, task, rng)
            return (
                sub.SubmissionPayload(rubric_grade=sub.RubricGradeSubmission(scores=scores)),
                lambda: self.grades.append((task.task_id, expert, scores)),
            )
        first = self.choose(expert, profile, task, rng, shown)
        return (
            sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=[first, "b" if first == "a" else "a"])),
            lambda: self.judgments.append((task.task_id, expert, first)),
        )

    async def expert(
        self, channel: grpc.aio.Channel, md: tuple, expert: str, profile: Profile, project_id: str, stop: asyncio.Event
    ) -> None:
        work = work_pb2_grpc.WorkServiceStub(channel)
        rng = random.Random(f"{self.seed}{expert}")
        stats = self.stats[expert]
        idle = 0.2
        pair = self.pairs.get(expert)
        hunting = 0  # a follower's acquisitions so far in search of their leader's task
        while not stop.is_set():
            if pair and not hunting:
                await pair[2].before_acquire(leader=pair[1])
            started = time.perf_counter()
            try:
                reply = await work.AcquireTask(
                    work_pb2.AcquireTaskRequest(project_id=project_id), metadata=md, timeout=10
                )
            except grpc.aio.AioRpcError:
                if pair and pair[1]:
                    pair[2].leader_acquired(None)
                await asyncio.sleep(1)
                continue
            self.acquire_latency.append(time.perf_counter() - started)
            got = reply.assignment if reply.HasField("assignment") else None
            if pair and pair[1]:
                pair[2].leader_acquired(got.task_id if got else None)
            if got is None:
                stats.refused += 1
                hunting = 0
                await asyncio.sleep(idle + rng.random() * idle)
                continue
            a = got
            stats.acquired += 1
            stats.last_work_time = time.monotonic()
            target = pair[2].leader_task if pair and not pair[1] else None
            if target and a.task_id != target and hunting < _Lockstep.HUNT:
                # Not the leader's task: hand it back and ask again (it is never offered again).
                await work.ReleaseTask(work_pb2.ReleaseTaskRequest(assignment_id=a.assignment_id), metadata=md)
                stats.released += 1
                hunting += 1
                continue
            hunting = 0
            skip = profile.replay and a.task_id not in self.replay.get(expert, {})  # their worker never saw it
            if skip or (profile.abandon and rng.random() < profile.abandon):
                await work.ReleaseTask(work_pb2.ReleaseTaskRequest(assignment_id=a.assignment_id), metadata=md)
                stats.released += 1
                continue
            task = self.tasks[a.task_id]
            if not profile.spam:
                await asyncio.sleep(rng.uniform(*self.think_seconds))
            payload, record = self.answer(expert, profile, task, rng, tuple(a.display_order))
            try:
                await work.SubmitTask(
                    work_pb2.SubmitTaskRequest(assignment_id=a.assignment_id, payload=payload),
                    metadata=md,
                    timeout=10,
                )
            except grpc.aio.AioRpcError:
                continue  # e.g. the lease ran out: the slot went back to the queue
            stats.submitted += 1
            record()

    def judge(self, reviewer: str, review: reviews_pb2.Review, rng: random.Random) -> tuple[bool, bool]:
        """(the work under review is right, `reviewer` accepts it), with the reviewer's mistakes."""
        task = self.tasks[review.task_id]
        if task.scores:
            right = rubric_right(dict(review.payload.rubric_grade.scores), task.scores)
        else:
            right = list(review.payload.preference.ranking[:1]) == [task.better]
        profile = self.reviewer_profiles.get(reviewer, REVIEWER_PROFILES["oracle"])
        seen_right = right if rng.random() < profile.accuracy else not right
        return right, seen_right or rng.random() < profile.leniency

    async def reviewer(
        self, channel: grpc.aio.Channel, md: tuple, project_id: str, stop: asyncio.Event, reviewer: str = ""
    ) -> None:
        reviews = reviews_pb2_grpc.ReviewServiceStub(channel)
        rng = random.Random(f"{self.seed}{reviewer}")
        while not stop.is_set():
            try:
                reply = await reviews.AcquireReview(
                    reviews_pb2.AcquireReviewRequest(project_id=project_id), metadata=md
                )
            except grpc.aio.AioRpcError:
                await asyncio.sleep(1)
                continue
            if not reply.HasField("review"):
                await asyncio.sleep(0.5)
                continue
            r = reply.review
            right, accept = self.judge(reviewer, r, rng)
            scores = {c.name: (c.scale_max if accept else c.scale_min) for c in r.rubric.criteria}
            request = reviews_pb2.SubmitReviewRequest(
                review_id=r.review_id,
                scores=scores,
                verdict=reviews_pb2.REVIEW_VERDICT_ACCEPT if accept else reviews_pb2.REVIEW_VERDICT_REJECT,
                comments="" if accept else "This is not what the task asks for.",
            )
            if await self._submit_review(reviews, request, md):
                self.reviews += 1
                self.review_log.append((reviewer, right, accept))

    @staticmethod
    async def _submit_review(
        reviews: reviews_pb2_grpc.ReviewServiceStub, request: reviews_pb2.SubmitReviewRequest, md: tuple
    ) -> bool:
        """Hand the review in as the API asks: ABORTED (a concurrent update rolled the call back)
        and UNAVAILABLE are retried, the same call being safe to repeat; any other refusal hands
        the review back to the queue rather than leaving it leased for half an hour. (A reviewer
        that gave up on the first ABORTED once held a demo's last item for the lease's 30 min.)"""
        for attempt in range(5):
            try:
                await reviews.SubmitReview(request, metadata=md, timeout=10)
                return True
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.ABORTED, grpc.StatusCode.UNAVAILABLE):
                    break
                await asyncio.sleep(0.2 * (attempt + 1))
        with contextlib.suppress(grpc.aio.AioRpcError):
            await reviews.ReleaseReview(reviews_pb2.ReleaseReviewRequest(review_id=request.review_id), metadata=md)
        return False

    def majority_accuracy(self, overlap: int, only: set[str] | None = None) -> float:
        """What the same crowd delivers without QA: per task (of `only`, when given), the majority
        of the first `overlap` first choices handed in (spam, bias and collusion included), ties
        broken by a fixed coin."""
        votes: dict[str, list[str]] = defaultdict(list)
        for task, _expert, first in self.judgments:
            if (only is None or task in only) and len(votes[task]) < overlap:
                votes[task].append(first)
        rng = random.Random(3)
        right = 0
        for task, firsts in votes.items():
            top = Counter(firsts).most_common()
            best = [c for c, n in top if n == top[0][1]]
            right += rng.choice(sorted(best)) == self.tasks[task].better
        return right / len(votes) if votes else float("nan")

    def latency_ms(self) -> tuple[float, float]:
        if len(self.acquire_latency) < 2:
            return float("nan"), float("nan")
        q = statistics.quantiles(self.acquire_latency, n=100)
        return q[49] * 1000, q[98] * 1000
