"""An expert population acting through the real gRPC APIs with real tokens (`make demo`, tests).

Profiles: accurate and noisy experts, experts biased to the first-shown candidate, fast spammers,
colluding pairs (who agree on a coin flip per task, right or wrong), experts who abandon leases,
and reviewers. Tasks are generated preference items whose better candidate is known (shown in a
random order), so a run can score what the platform delivered against the truth.

Or a real crowd replayed (`rte_crowd`): the items of data/crowd/rte.standardized.tsv
(textual entailment, 10 crowd labels per item, expert-labelled truth) become tasks, and each real
worker becomes one simulated expert who answers exactly what that worker answered, skipping
(releasing) every item the worker never labelled. Routing decides who sees what, as in production.

Experts take real time per task (tasking measures active time, and QA rejects implausibly fast
work), except spammers, which is how QA catches them.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import random
import statistics
import time
from collections import Counter, defaultdict
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
    shown: tuple[str, str]
    prompt: str
    contents: dict[str, str]
    gold: bool

    def as_new_task(self) -> dict:
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
    """(task, expert, first choice) of every submission handed in."""
    acquire_latency: list[float] = field(default_factory=list)
    reviews: int = 0
    replay: dict[str, dict[str, str]] = field(default_factory=dict)
    """Replayed crowd: expert -> task -> the first choice their real worker gave."""

    @staticmethod
    def population(counts: dict[str, int], reviewers: int, tag: str) -> tuple[list[tuple[str, Profile]], list[str]]:
        experts = [
            (f"exp_{name.replace('_', '')}{i:02d}{tag}", PROFILES[name]) for name, n in counts.items() for i in range(n)
        ]
        return experts, [f"exp_reviewer{i:02d}{tag}" for i in range(reviewers)]

    @staticmethod
    def profiles(experts: list[tuple[str, Profile]], reviewers: list[str]) -> list[experts_pb2.ExpertProfile]:
        common = Simulation.COMMON_PROFILE
        out = [experts_pb2.ExpertProfile(expert_id=e, **common) for e, _ in experts]
        out += [experts_pb2.ExpertProfile(expert_id=r, reviewer=True, **common) for r in reviewers]
        return out

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
            digest = hashlib.sha256(f"{expert[-2:]}{task.task_id}".encode()).digest()
            return "a" if digest[0] % 2 else "b"
        other = "b" if task.better == "a" else "a"
        return task.better if rng.random() < profile.accuracy else other

    async def expert(
        self, channel: grpc.aio.Channel, md: tuple, expert: str, profile: Profile, project_id: str, stop: asyncio.Event
    ) -> None:
        work = work_pb2_grpc.WorkServiceStub(channel)
        rng = random.Random(f"{self.seed}{expert}")
        stats = self.stats[expert]
        idle = 0.2
        while not stop.is_set():
            started = time.perf_counter()
            try:
                reply = await work.AcquireTask(
                    work_pb2.AcquireTaskRequest(project_id=project_id), metadata=md, timeout=10
                )
            except grpc.aio.AioRpcError:
                await asyncio.sleep(1)
                continue
            self.acquire_latency.append(time.perf_counter() - started)
            if not reply.HasField("assignment"):
                stats.refused += 1
                await asyncio.sleep(idle + rng.random() * idle)
                continue
            a = reply.assignment
            stats.acquired += 1
            stats.last_work_time = time.monotonic()
            skip = profile.replay and a.task_id not in self.replay.get(expert, {})  # their worker never saw it
            if skip or (profile.abandon and rng.random() < profile.abandon):
                await work.ReleaseTask(work_pb2.ReleaseTaskRequest(assignment_id=a.assignment_id), metadata=md)
                stats.released += 1
                continue
            task = self.tasks[a.task_id]
            if not profile.spam:
                await asyncio.sleep(rng.uniform(*self.think_seconds))
            first = self.choose(expert, profile, task, rng, tuple(a.display_order))
            ranking = [first, "b" if first == "a" else "a"]
            try:
                await work.SubmitTask(
                    work_pb2.SubmitTaskRequest(
                        assignment_id=a.assignment_id,
                        payload=sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=ranking)),
                    ),
                    metadata=md,
                    timeout=10,
                )
            except grpc.aio.AioRpcError:
                continue  # e.g. the lease ran out: the slot went back to the queue
            stats.submitted += 1
            self.judgments.append((task.task_id, expert, first))

    async def reviewer(self, channel: grpc.aio.Channel, md: tuple, project_id: str, stop: asyncio.Event) -> None:
        reviews = reviews_pb2_grpc.ReviewServiceStub(channel)
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
            right = list(r.payload.preference.ranking[:1]) == [self.tasks[r.task_id].better]
            scores = {c.name: (c.scale_max if right else c.scale_min) for c in r.rubric.criteria}
            await reviews.SubmitReview(
                reviews_pb2.SubmitReviewRequest(
                    review_id=r.review_id,
                    scores=scores,
                    verdict=reviews_pb2.REVIEW_VERDICT_ACCEPT if right else reviews_pb2.REVIEW_VERDICT_REJECT,
                    comments="" if right else "The other answer is the correct mechanism.",
                ),
                metadata=md,
            )
            self.reviews += 1

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
