"""The expert workbench in a real browser (Debian's Chromium, driven by Playwright), as a person
uses it: an operator invites an expert, who sets a password, passes a screening test, works an
SFT, a preference and a rubric task (a reload mid-task keeps the draft), a reviewer rejects one
with a comment, and the expert reads the verdict, the comment and the credit. Every page is scanned
with axe-core and photographed at two widths; hostile content never runs or phones home."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from urllib.parse import urlparse

from playwright.async_api import Page, async_playwright, expect

from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc

from .conftest import open_project
from .workbench_browser import Screenshots, Watch, axe_violations, launch, tab_to

PASSWORD = "amber-violin-harbour-93"
RIGHT, WRONG = "Water boils at 100 °C at sea level.", "Water boils at 50 °C at sea level."
ANSWER = (
    "The rate constant follows the Arrhenius law $k = A e^{-E_a/RT}$, so raising the temperature "
    "by ten kelvin near room temperature roughly doubles it for $E_a \\approx 50$ kJ/mol."
)


def _preference_task(task_id: str, screening: bool = False) -> tpb.NewTask:
    task = tpb.NewTask(
        task_id=task_id,
        input=ttypes.TaskInput(
            prompt=f"At what temperature does water boil at sea level? ({task_id})",
            candidates=[
                ttypes.Candidate(candidate_id="a", content=RIGHT),
                ttypes.Candidate(candidate_id="b", content=WRONG),
            ],
        ),
    )
    if screening:
        task.screening = True
        task.gold.ranking.extend(["a", "b"])
    return task


async def _projects(stack, onboard) -> dict[str, str]:
    lab = await onboard.lab(stack.intake)
    rubric = types.Rubric(
        criteria=[
            types.RubricCriterion(
                name="correctness", description="Facts and derivations are right.", weight=0.6, scale_min=1, scale_max=5
            ),
            types.RubricCriterion(
                name="clarity", description="A student could follow it.", weight=0.4, scale_min=1, scale_max=5
            ),
        ]
    )
    sft = await open_project(
        stack.intake,
        onboard,
        lab,
        [
            tpb.NewTask(
                task_id="k1", input=ttypes.TaskInput(prompt="Why do reaction rates grow with temperature? Use $k(T)$.")
            )
        ],
        title="Kinetics explanations",
        data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
        review_sample_rate=1.0,
        priority=90,
    )
    preference = await open_project(
        stack.intake,
        onboard,
        lab,
        [_preference_task("p1"), *(_preference_task(f"s{i}", screening=True) for i in range(3))],
        title="Boiling points",
        qualifications=types.Qualifications(fields=["chemistry"], screening=types.Screening(tasks=2, pass_share=1.0)),
        priority=50,
    )
    graded = await open_project(
        stack.intake,
        onboard,
        lab,
        [
            tpb.NewTask(
                task_id="g1",
                input=ttypes.TaskInput(
                    prompt="Explain why ice floats.",
                    candidates=[
                        ttypes.Candidate(
                            candidate_id="r",
                            content="Ice is less dense than liquid water: hydrogen bonds hold it in an open lattice.",
                        )
                    ],
                ),
            )
        ],
        title="Grade explanations",
        data_kind=types.DATA_KIND_RUBRIC_GRADE,
        rubric=rubric,
        priority=10,
    )
    return {"sft": sft, "preference": preference, "rubric": graded}


async def _invitation(stack, onboard, expert_id: str) -> str:
    admin = accounts_pb2_grpc.AccountAdminServiceStub(stack.admin)
    reply = await admin.InviteExpert(accounts_pb2.InviteExpertRequest(expert_id=expert_id), metadata=onboard.operator)
    return stack.base_url + urlparse(reply.invitation_url).path


class Visit:
    """Checks every page the journey shows: no serious accessibility violation; a screenshot."""

    def __init__(self, shots: Screenshots) -> None:
        self.shots = shots
        self.violations: dict[str, list] = {}

    async def check(self, page: Page, name: str, screenshot: bool = True) -> None:
        await page.wait_for_load_state("networkidle")
        found = await axe_violations(page)
        if found:
            self.violations[name] = found
        if screenshot:
            await self.shots.take(page, name)


async def _join(page: Page, link: str, name: str) -> None:
    await page.goto(link)
    await page.get_by_label("Sign-in name").fill(name)
    await page.locator("#f-password").fill(PASSWORD)
    await page.locator("#f-password_again").fill(PASSWORD)
    await page.get_by_role("button", name="Create my account").click()
    await expect(page.get_by_role("heading", name="Your work")).to_be_visible()


async def _until_listed(page: Page, base_url: str, cell: str) -> None:
    """Reload the home page until tasking, which hears of activations over Kafka, offers the project."""
    for _ in range(100):
        if await page.get_by_role("cell", name=cell).count():
            return
        await asyncio.sleep(0.2)
        await page.goto(base_url + "/")
    raise AssertionError(f"{cell!r} never listed")


async def _answer_screening(page: Page) -> None:
    """Pick the right candidate with its number key, as shown in this assignment's own order."""
    position = await page.locator('#ranking li[data-candidate="a"]').get_attribute("data-position")
    await page.locator("h1").click()  # focus outside any field: number keys pick
    await page.keyboard.press(str(position))
    await expect(page.locator("#ranking li").first).to_have_attribute("data-candidate", "a")
    await page.get_by_role("button", name="Submit and next").click()


async def test_an_expert_journey_in_a_real_browser(workbench_stack, onboard, eventually, tmp_path) -> None:
    shots_dir = Path(os.environ.get("COHORT_WORKBENCH_SCREENSHOTS") or tmp_path / "shots")
    visit = Visit(Screenshots(shots_dir))
    async with workbench_stack() as stack, async_playwright() as pw:
        projects = await _projects(stack, onboard)
        expert, _ = await onboard.expert(stack.tasking)
        reviewer, _ = await onboard.expert(stack.tasking, reviewer=True)
        browser = await launch(pw)
        watch = Watch(stack.base_url)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            watch.attach(page)

            # The invitation: the expert opens the link and chooses a name and password.
            link = await _invitation(stack, onboard, expert)
            await page.goto(link)
            await visit.check(page, "invitation")
            await page.get_by_label("Sign-in name").fill("marie")
            await page.locator("#f-password").fill("password123")
            await page.locator("#f-password_again").fill("password123")
            await page.get_by_role("button", name="Create my account").click()
            await expect(page.locator("#password-error")).to_be_visible()
            await _join(page, link, "marie")
            await _until_listed(page, stack.base_url, "Test first (2 questions)")
            await visit.check(page, "home")
            await expect(page.get_by_role("cell", name="Test first (2 questions)")).to_be_visible()

            # Sign out and back in with the keyboard alone.
            await page.get_by_role("button", name="Sign out").click()
            await visit.check(page, "sign-in")
            await tab_to(page, "#f-sign_in_name")
            await page.keyboard.type("marie")
            await page.keyboard.press("Tab")
            await page.keyboard.type(PASSWORD)
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", name="Your work")).to_be_visible()

            # The screening test comes through the same work pages, started from the keyboard.
            await tab_to(page, f'form:has(input[value="{projects["preference"]}"]) button')
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("heading", name="Preference task")).to_be_visible()
            await visit.check(page, "work-preference")
            await _answer_screening(page)
            await expect(page.get_by_role("heading", name="Preference task")).to_be_visible()
            await _answer_screening(page)
            await expect(page.get_by_role("status")).to_contain_text("no task")

            async def passed() -> bool:
                await page.goto(stack.base_url + "/")
                return await page.get_by_role("cell", name="Passed").count() > 0

            await eventually(passed)

            # SFT: markdown with math in the live preview; a reload keeps the draft.
            await page.locator(f'form:has(input[value="{projects["sft"]}"]) button').click()
            await expect(page.get_by_role("heading", name="Demonstration task")).to_be_visible()
            await expect(page.locator(".task-input .katex").first).to_be_visible()
            await page.get_by_role("textbox", name=re.compile("^Your response")).fill(ANSWER)
            await expect(page.locator("#response-preview .katex").first).to_be_visible()
            await expect(page.locator("#draft-status")).to_contain_text("Draft saved")
            await visit.check(page, "work-sft")
            await page.reload()
            await expect(page.get_by_role("textbox", name=re.compile("^Your response"))).to_have_value(ANSWER)
            await tab_to(page, 'button[value="home"]')
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("status")).to_contain_text("Handed in")

            # Preference (real task now): reorder with the buttons, then put it right by key.
            await page.locator(f'form:has(input[value="{projects["preference"]}"]) button').click()
            await expect(page.locator("#ranking li")).to_have_count(2)
            first = await page.locator("#ranking li").first.get_attribute("data-candidate")
            await page.locator("#ranking li").first.get_by_role("button", name=re.compile("down")).click()
            await expect(page.locator("#ranking li").last).to_have_attribute("data-candidate", first or "")
            await page.get_by_label("Why").fill("Standard boiling point of water.")
            await _answer_screening(page)

            # Rubric grading: criteria with descriptions and weights; a score left out is named.
            await page.goto(stack.base_url + "/")
            await page.locator(f'form:has(input[value="{projects["rubric"]}"]) button').click()
            await expect(page.get_by_text("weight 60 %")).to_be_visible()
            await page.locator('input[name="score.correctness"][value="5"]').check()
            await page.get_by_role("button", name="Submit", exact=True).click()
            await expect(page.locator(".error-summary")).to_contain_text("is missing")
            await expect(page.locator('input[name="score.correctness"][value="5"]')).to_be_checked()
            await visit.check(page, "work-rubric")
            await page.locator('input[name="score.clarity"][value="4"]').check()
            await page.get_by_role("button", name="Submit", exact=True).click()
            await expect(page.get_by_role("status")).to_contain_text("Handed in")

            # The reviewer rejects the SFT answer with a comment.
            reviewer_page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            watch.attach(reviewer_page)
            await _join(reviewer_page, await _invitation(stack, onboard, reviewer), "rosalind")
            await reviewer_page.get_by_role("link", name="Review").click()
            await visit.check(reviewer_page, "review-queue")

            async def review_leased() -> bool:
                await reviewer_page.goto(stack.base_url + "/review")
                await reviewer_page.get_by_role("button", name="Start next review").click()
                return await reviewer_page.get_by_role("heading", name="Review: Demonstration").count() > 0

            await eventually(review_leased)
            await reviewer_page.locator('input[name="verdict"][value="reject"]').check()
            await reviewer_page.get_by_role("button", name="Hand in review").click()
            await expect(reviewer_page.locator(".error-summary")).to_be_visible()  # scores and comment missing
            await visit.check(reviewer_page, "review")
            await reviewer_page.locator('input[name="score.q"][value="2"]').check()
            await reviewer_page.get_by_label(re.compile("Comment for the expert")).fill(
                "The Arrhenius factor is right, but the doubling rule needs its assumptions stated."
            )
            await reviewer_page.get_by_role("button", name="Hand in review").click()
            await expect(reviewer_page.get_by_role("status")).to_contain_text("Review handed in")

            # The expert reads the verdict, the comment and the credit.
            async def verdict_shown() -> bool:
                await page.goto(stack.base_url + "/my-work")
                return await page.get_by_role("cell", name="Rejected").count() > 0

            await eventually(verdict_shown)
            await expect(page.get_by_text("needs its assumptions stated")).to_be_visible()
            await visit.check(page, "my-work")

            async def credited() -> bool:
                await page.goto(stack.base_url + "/earnings")
                return await page.get_by_role("cell", name="2.00 EUR").count() > 0

            await eventually(credited)  # the preference and the rubric grade, accepted
            await visit.check(page, "earnings")
            await page.goto(stack.base_url + "/profile")
            await visit.check(page, "profile")
        finally:
            await browser.close()

    assert visit.violations == {}, visit.violations
    assert watch.dialogs == [] and watch.foreign_requests == [], (watch.dialogs, watch.foreign_requests)
    assert len(visit.shots.taken) >= 20


HOSTILE_PROMPT = """<script>alert('prompt')</script>
<img src=x onerror="alert('img')">
[a link](javascript:alert('link'))
![beacon](https://tracker.example/pixel.png)
<a href="https://tracker.example" onclick="alert('click')">tracked</a>
$\\href{javascript:alert('katex')}{math}$"""


async def test_hostile_content_never_runs_or_loads(workbench_stack, onboard) -> None:
    async with workbench_stack() as stack, async_playwright() as pw:
        lab = await onboard.lab(stack.intake)
        await open_project(
            stack.intake,
            onboard,
            lab,
            [tpb.NewTask(task_id="h1", input=ttypes.TaskInput(prompt=HOSTILE_PROMPT))],
            data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
        )
        expert, _ = await onboard.expert(stack.tasking)
        browser = await launch(pw)
        watch = Watch(stack.base_url)
        try:
            page = await (await browser.new_context()).new_page()
            watch.attach(page)
            await _join(page, await _invitation(stack, onboard, expert), "mallory")
            await _until_listed(page, stack.base_url, "Demonstration")
            await page.get_by_role("button", name="Start next task").click()
            await expect(page.get_by_role("heading", name="Demonstration task")).to_be_visible()
            answer = page.get_by_role("textbox", name=re.compile("^Your response"))
            await answer.fill(HOSTILE_PROMPT.replace("prompt", "answer"))
            await expect(page.locator("#draft-status")).to_contain_text("Draft saved")
            for link in await page.locator(".md a").all():
                href = await link.get_attribute("href") or ""
                assert not href.lower().startswith("javascript"), href
            # The hostile answer comes back from the draft on reload, into the field and the preview.
            await page.reload()
            await expect(page.locator("#response-preview")).to_contain_text("tracked")
            await asyncio.sleep(1.0)  # let anything that would run, run
            assert await page.locator(".md script, .md img, .md [onclick], .md [onerror]").count() == 0
        finally:
            await browser.close()
    assert watch.dialogs == [], watch.dialogs
    assert watch.foreign_requests == [], watch.foreign_requests


async def test_trajectory_steps_are_edited_in_the_page_and_the_lease_is_kept_alive(workbench_stack, onboard) -> None:
    """The step editor's buttons add, reorder and remove steps (names renumbered, so the server
    gets them in the order shown), and the page heartbeats while it is visible."""
    async with workbench_stack() as stack, async_playwright() as pw:
        lab = await onboard.lab(stack.intake)
        await open_project(
            stack.intake,
            onboard,
            lab,
            [tpb.NewTask(task_id="t1", input=ttypes.TaskInput(prompt="What is 17 times 23? Use the calculator."))],
            data_kind=types.DATA_KIND_TRAJECTORY,
        )
        expert, _ = await onboard.expert(stack.tasking)
        browser = await launch(pw)
        watch = Watch(stack.base_url)
        beats: list[str] = []
        try:
            context = await browser.new_context()
            page = await context.new_page()
            watch.attach(page)
            page.on("request", lambda r: beats.append(r.url) if r.url.endswith("/heartbeat") else None)
            await page.clock.install()
            await _join(page, await _invitation(stack, onboard, expert), "turing")
            await _until_listed(page, stack.base_url, "Trajectory")
            await page.get_by_role("button", name="Start next task").click()
            await expect(page.get_by_role("heading", name="Trajectory task")).to_be_visible()

            await page.get_by_role("button", name="Add a step").click()
            await page.get_by_role("button", name="Add a step").click()
            steps = page.locator("#steps > li")
            await expect(steps).to_have_count(3)
            await steps.nth(0).locator("textarea").fill("I will multiply with the calculator.")
            await steps.nth(1).locator("select").select_option("observation")
            await steps.nth(1).locator("textarea").fill("391")
            await steps.nth(2).locator("select").select_option("action")
            await steps.nth(2).locator('input[data-part="tool_name"]').fill("calculator")
            await steps.nth(2).locator('input[data-part="tool_arguments_json"]').fill('{"expr": "17*23"}')
            # The observation belongs after the action: move the action up, by keyboard.
            await steps.nth(2).get_by_role("button", name="Move step up").focus()
            await page.keyboard.press("Enter")
            assert await steps.nth(1).locator("select").input_value() == "action"
            assert await steps.nth(1).locator("select").get_attribute("name") == "steps-1-kind"
            await page.get_by_role("button", name="Add a step").click()
            await steps.nth(3).get_by_role("button", name="Remove step").click()
            await expect(steps).to_have_count(3)
            await page.get_by_label("Final answer").fill("391")

            await page.clock.fast_forward(31_000)  # past the 30 s heartbeat
            for _ in range(50):
                if beats:
                    break
                await asyncio.sleep(0.1)
            assert beats, "a visible page heartbeats its lease every 30 s"
            await page.get_by_role("button", name="Submit", exact=True).click()
            await expect(page.get_by_role("status")).to_contain_text("Handed in")
        finally:
            await browser.close()
        row = await stack.running["tasking"].pool.fetchrow("SELECT payload FROM submissions")
    payload = sub.SubmissionPayload.FromString(row["payload"])
    assert [s.kind for s in payload.trajectory.steps] == ["thought", "action", "observation"]
    assert payload.trajectory.steps[1].tool_name == "calculator" and payload.trajectory.final_answer == "391"
    assert watch.dialogs == [] and watch.foreign_requests == []
