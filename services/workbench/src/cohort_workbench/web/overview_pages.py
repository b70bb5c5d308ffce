"""Home, My work, Earnings and Profile: what an expert reads about their own standing."""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import Response

from cohort.payout.v1 import balances_pb2
from cohort.qa.v1 import quality_pb2, verdicts_pb2
from cohort.tasking.v1 import experts_pb2, work_pb2
from cohort.types.v1 import projects_pb2 as types
from cohort_workbench.web.shell import Refused, backend, checked_form, render, require_session, see_other, web

KIND_NAMES = {
    types.DATA_KIND_SFT_DEMONSTRATION: "Demonstration",
    types.DATA_KIND_PREFERENCE: "Preference",
    types.DATA_KIND_TRAJECTORY: "Trajectory",
    types.DATA_KIND_RUBRIC_GRADE: "Rubric grading",
    types.DATA_KIND_ADVERSARIAL_PROMPT: "Adversarial prompt",
}
NOTICES = {
    "none": "There is no task for you right now. Check back later.",
    "submitted": "Handed in. Thank you.",
    "released": "The task went back to the queue.",
    "ended": "That lease has ended.",
    "reviewed": "Review handed in.",
    "no-review": "There is nothing to review right now.",
    "totp": "Two-step sign-in is on.",
    "profile": "Profile saved.",
}
VERDICT_NAMES = {
    verdicts_pb2.VERDICT_STATE_PENDING: "Pending",
    verdicts_pb2.VERDICT_STATE_IN_REVIEW: "In review",
    verdicts_pb2.VERDICT_STATE_ACCEPTED: "Accepted",
    verdicts_pb2.VERDICT_STATE_REJECTED: "Rejected",
}


def notice(request: Request) -> str:
    return NOTICES.get(request.query_params.get("notice", ""), "")


async def home(request: Request) -> Response:
    view = await require_session(request)
    w = web(request)
    md = w.metadata(view)
    t = w.backend_timeout
    with backend(request):
        projects, quality, balance, leases = await asyncio.gather(
            w.backends.work.ListEligibleProjects(work_pb2.ListEligibleProjectsRequest(), metadata=md, timeout=t),
            w.backends.quality.GetExpertQuality(
                quality_pb2.GetExpertQualityRequest(expert_id=view.expert_id), metadata=md, timeout=t
            ),
            w.backends.balances.GetMyBalance(balances_pb2.GetMyBalanceRequest(), metadata=md, timeout=t),
            w.backends.work.ListMyAssignments(work_pb2.ListMyAssignmentsRequest(page_size=20), metadata=md, timeout=t),
        )
    standing = {q.domain: q for q in quality.estimates}
    open_leases = [a for a in leases.assignments if a.state == work_pb2.ASSIGNMENT_STATE_ACTIVE]
    return render(
        request,
        "home.html",
        view,
        projects=projects.projects,
        standing=standing,
        balances=balance.balances,
        open_leases=open_leases,
        kinds=KIND_NAMES,
        pending=work_pb2.SCREENING_STATUS_PENDING,
        passed=work_pb2.SCREENING_STATUS_PASSED,
        notice=notice(request),
    )


async def my_work(request: Request) -> Response:
    view = await require_session(request)
    w = web(request)
    md = w.metadata(view)
    token = request.query_params.get("page", "")[:2048]
    with backend(request):
        verdicts, quality = await asyncio.gather(
            w.backends.verdicts.ListMyVerdicts(
                verdicts_pb2.ListMyVerdictsRequest(page_size=25, page_token=token),
                metadata=md,
                timeout=w.backend_timeout,
            ),
            w.backends.quality.GetExpertQuality(
                quality_pb2.GetExpertQualityRequest(expert_id=view.expert_id), metadata=md, timeout=w.backend_timeout
            ),
        )
    return render(
        request,
        "my_work.html",
        view,
        verdicts=verdicts.verdicts,
        next_page=verdicts.next_page_token,
        estimates=quality.estimates,
        states=VERDICT_NAMES,
    )


async def earnings(request: Request) -> Response:
    view = await require_session(request)
    w = web(request)
    md = w.metadata(view)
    token = request.query_params.get("page", "")[:2048]
    with backend(request):
        balance, statement = await asyncio.gather(
            w.backends.balances.GetMyBalance(
                balances_pb2.GetMyBalanceRequest(), metadata=md, timeout=w.backend_timeout
            ),
            w.backends.balances.ListMyStatement(
                balances_pb2.ListMyStatementRequest(page_size=50, page_token=token),
                metadata=md,
                timeout=w.backend_timeout,
            ),
        )
    return render(
        request,
        "earnings.html",
        view,
        balances=balance.balances,
        lines=statement.lines,
        next_page=statement.next_page_token,
    )


def _list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


async def profile(request: Request) -> Response:
    view = await require_session(request)
    w = web(request)
    with backend(request):
        got = await w.backends.profile.GetMyProfile(
            experts_pb2.GetMyProfileRequest(), metadata=w.metadata(view), timeout=w.backend_timeout
        )
    return render(request, "profile.html", view, expert=got.expert, errors={}, notice=notice(request))


async def update_profile(request: Request) -> Response:
    view = await require_session(request)
    form = await checked_form(request, view)
    w = web(request)
    md = w.metadata(view)
    hours = str(form.get("weekly_hours", "0")).strip() or "0"
    errors: dict[str, str] = {}
    if not hours.isdigit():
        errors["weekly_hours"] = "Enter whole hours, 0 to 80."
    update = experts_pb2.UpdateMyProfileRequest(
        skills=_list(str(form.get("skills", ""))),
        languages=_list(str(form.get("languages", ""))),
        timezone=str(form.get("timezone", "")).strip(),
        weekly_hours=int(hours) if hours.isdigit() and len(hours) < 6 else 0,
    )
    if not errors:
        try:
            with backend(request):
                await w.backends.profile.UpdateMyProfile(update, metadata=md, timeout=w.backend_timeout)
            return see_other("/profile?notice=profile")
        except Refused as exc:
            # Tasking names fields as "expert.<field>[i]"; the form's fields are the last part.
            errors = {path.split(".")[-1].split("[")[0]: text for path, text in exc.violations} or {"": exc.message}
    with backend(request):
        got = await w.backends.profile.GetMyProfile(
            experts_pb2.GetMyProfileRequest(), metadata=md, timeout=w.backend_timeout
        )
    shown = experts_pb2.ExpertProfile()
    shown.CopyFrom(got.expert)
    del shown.skills[:]
    shown.skills.extend(update.skills)
    del shown.languages[:]
    shown.languages.extend(update.languages)
    shown.timezone = update.timezone
    return render(request, "profile.html", view, 422, expert=shown, errors=errors, notice="")
