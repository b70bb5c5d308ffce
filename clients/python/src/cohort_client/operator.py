"""The operator APIs (platform token with kind=operator): labs and API keys (intake), experts and
cohorts (tasking), project quality (qa), payees, payout runs and payment files (payout), and
invitations to the expert workbench."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from cohort.intake.v1 import labs_pb2, labs_pb2_grpc
from cohort.payout.v1 import payees_pb2, payees_pb2_grpc, runs_pb2, runs_pb2_grpc
from cohort.qa.v1 import disputes_pb2, disputes_pb2_grpc, quality_pb2, quality_pb2_grpc
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc
from cohort_client._calls import CallPolicy, call, pages
from cohort_client.channels import sync_channel


def _cohorts_page(token: str) -> experts_pb2.ListCohortsRequest:
    return experts_pb2.ListCohortsRequest(page_token=token)


@dataclass(frozen=True)
class Endpoints:
    intake: str = "127.0.0.1:15051"
    tasking: str = "127.0.0.1:15052"
    qa: str = "127.0.0.1:15053"
    payout: str = "127.0.0.1:15054"
    workbench: str = "127.0.0.1:15055"


class OperatorClient:
    def __init__(self, endpoints: Endpoints, token: str, *, policy: CallPolicy | None = None) -> None:
        self._channels = {
            name: sync_channel(getattr(endpoints, name)) for name in ("intake", "tasking", "qa", "payout", "workbench")
        }
        self._md = (("authorization", f"Bearer {token}"),)
        self._policy = policy or CallPolicy()
        self.labs = labs_pb2_grpc.LabAdminServiceStub(self._channels["intake"])
        self.experts = experts_pb2_grpc.ExpertAdminServiceStub(self._channels["tasking"])
        self.quality = quality_pb2_grpc.QualityServiceStub(self._channels["qa"])
        self.disputes_stub = disputes_pb2_grpc.DisputeServiceStub(self._channels["qa"])
        self.runs = runs_pb2_grpc.PayoutAdminServiceStub(self._channels["payout"])
        self.payees = payees_pb2_grpc.PayeeAdminServiceStub(self._channels["payout"])
        self.accounts = accounts_pb2_grpc.AccountAdminServiceStub(self._channels["workbench"])

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        for channel in self._channels.values():
            channel.close()

    def create_lab(self, name: str, request_id: str | None = None) -> labs_pb2.Lab:
        request = labs_pb2.CreateLabRequest(request_id=request_id or str(uuid.uuid4()), display_name=name)
        return call(self._policy, self.labs.CreateLab, request, self._md, safe=True).lab

    def create_api_key(self, lab_id: str, name: str) -> str:
        """A new API key's secret (shown once)."""
        request = labs_pb2.CreateApiKeyRequest(lab_id=lab_id, display_name=name)
        return call(self._policy, self.labs.CreateApiKey, request, self._md, safe=False).secret

    def resolve_pseudonym(self, lab_id: str, pseudonym: str) -> str:
        """The expert behind a pseudonym the lab was shown (docs/PRIVACY.md)."""
        request = labs_pb2.ResolveExpertPseudonymRequest(lab_id=lab_id, pseudonym=pseudonym)
        return call(self._policy, self.labs.ResolveExpertPseudonym, request, self._md, safe=True).expert_id

    def api_keys(self, lab_id: str) -> list[labs_pb2.ApiKey]:
        """A lab's keys (never their secrets), newest first."""
        request = labs_pb2.ListApiKeysRequest(lab_id=lab_id)
        return list(call(self._policy, self.labs.ListApiKeys, request, self._md, safe=True).api_keys)

    def revoke_api_key(self, key_id: str) -> labs_pb2.ApiKey:
        request = labs_pb2.RevokeApiKeyRequest(key_id=key_id)
        return call(self._policy, self.labs.RevokeApiKey, request, self._md, safe=True).api_key

    def get_expert(self, expert_id: str) -> experts_pb2.ExpertProfile:
        request = experts_pb2.GetExpertRequest(expert_id=expert_id)
        return call(self._policy, self.experts.GetExpert, request, self._md, safe=True).expert

    def set_expert_status(self, expert_id: str, status: int, reason: str = "") -> experts_pb2.ExpertProfile:
        """ExpertStatus: suspend, reinstate (active) or offboard an expert."""
        request = experts_pb2.SetExpertStatusRequest(expert_id=expert_id, status=status, reason=reason)  # type: ignore[arg-type]
        return call(self._policy, self.experts.SetExpertStatus, request, self._md, safe=True).expert

    def get_payout_run(self, run_id: str) -> runs_pb2.PayoutRun:
        request = runs_pb2.GetPayoutRunRequest(run_id=run_id)
        return call(self._policy, self.runs.GetPayoutRun, request, self._md, safe=True).run

    def settle_payout(self, run_id: str, expert_id: str) -> None:
        """The bank confirmed one expert's payout of the run."""
        request = runs_pb2.SettlePayoutRequest(run_id=run_id, expert_id=expert_id)
        call(self._policy, self.runs.SettlePayout, request, self._md, safe=True)

    def fail_payout(self, run_id: str, expert_id: str, reason: str) -> None:
        """The bank returned one expert's payout: the money is owed again."""
        request = runs_pb2.FailPayoutRequest(run_id=run_id, expert_id=expert_id, reason=reason)
        call(self._policy, self.runs.FailPayout, request, self._md, safe=True)

    def register_expert(self, profile: experts_pb2.ExpertProfile) -> experts_pb2.ExpertProfile:
        request = experts_pb2.RegisterExpertRequest(expert=profile)
        return call(self._policy, self.experts.RegisterExpert, request, self._md, safe=False).expert

    def invite_expert(self, expert_id: str) -> accounts_pb2.InviteExpertResponse:
        """A one-time link (72 h) for a registered expert to set a password on the workbench."""
        request = accounts_pb2.InviteExpertRequest(expert_id=expert_id)
        # Not retried on its own: a retry would void the first link for a second one.
        return call(self._policy, self.accounts.InviteExpert, request, self._md, safe=False)

    def create_cohort(self, cohort_id: str, display_name: str, description: str = "") -> experts_pb2.Cohort:
        """Idempotent: the same definition again returns the cohort; another is ALREADY_EXISTS."""
        cohort = experts_pb2.Cohort(cohort_id=cohort_id, display_name=display_name, description=description)
        request = experts_pb2.CreateCohortRequest(cohort=cohort)
        return call(self._policy, self.experts.CreateCohort, request, self._md, safe=True).cohort

    def cohorts(self) -> Iterator[experts_pb2.Cohort]:
        """Every cohort, by id, fetched a page at a time."""
        for page in pages(self._policy, self.experts.ListCohorts, _cohorts_page, self._md):
            yield from page.cohorts

    def cohort(self, cohort_id: str) -> tuple[experts_pb2.Cohort, list[str]]:
        """The cohort and all its members' expert ids."""

        def request(token: str) -> experts_pb2.GetCohortRequest:
            return experts_pb2.GetCohortRequest(cohort_id=cohort_id, page_size=1000, page_token=token)

        read = list(pages(self._policy, self.experts.GetCohort, request, self._md))
        return read[-1].cohort, [e for page in read for e in page.expert_ids]

    def add_to_cohort(self, cohort_id: str, expert_ids: list[str]) -> int:
        """How many were new members (the cohort must exist: create_cohort)."""
        request = experts_pb2.AddToCohortRequest(cohort_id=cohort_id, expert_ids=expert_ids)
        return call(self._policy, self.experts.AddToCohort, request, self._md, safe=True).added_count

    def remove_from_cohort(self, cohort_id: str, expert_ids: list[str]) -> int:
        """How many were members."""
        request = experts_pb2.RemoveFromCohortRequest(cohort_id=cohort_id, expert_ids=expert_ids)
        return call(self._policy, self.experts.RemoveFromCohort, request, self._md, safe=True).removed_count

    def project_quality(self, project_id: str) -> quality_pb2.ProjectQuality:
        request = quality_pb2.GetProjectQualityRequest(project_id=project_id)
        return call(self._policy, self.quality.GetProjectQuality, request, self._md, safe=True).quality

    def expert_quality(self, expert_id: str) -> list[quality_pb2.ExpertQuality]:
        """QA's estimates of the expert's work, one per domain."""
        return list(self.standing(expert_id).estimates)

    def reviewer_quality(self, expert_id: str) -> list[quality_pb2.ExpertQuality]:
        """QA's estimates of how often the person's verdicts as a reviewer are right, per domain."""
        return list(self.standing(expert_id).reviewer_estimates)

    def standing(self, expert_id: str) -> quality_pb2.GetExpertQualityResponse:
        """Both: as an expert and as a reviewer."""
        request = quality_pb2.GetExpertQualityRequest(expert_id=expert_id)
        return call(self._policy, self.quality.GetExpertQuality, request, self._md, safe=True)

    def disputes(self, project_id: str = "", state: int = 0) -> list[disputes_pb2.Dispute]:
        """Disputes of delivered items (open ones unless `state` says otherwise), oldest first."""
        wanted = cast("disputes_pb2.DisputeState.ValueType", state)

        def request(token: str) -> disputes_pb2.ListDisputesRequest:
            return disputes_pb2.ListDisputesRequest(
                project_id=project_id, state=wanted, page_size=1000, page_token=token
            )

        listed = pages(self._policy, self.disputes_stub.ListDisputes, request, self._md)
        return [dispute for page in listed for dispute in page.disputes]

    def dispute(self, item_id: str) -> disputes_pb2.Dispute:
        request = disputes_pb2.GetDisputeRequest(item_id=item_id)
        return call(self._policy, self.disputes_stub.GetDispute, request, self._md, safe=True).dispute

    def decide_dispute(self, item_id: str, uphold: bool, comments: str) -> disputes_pb2.Dispute:
        """Final; the same decision again is a no-op, so it is safe to retry."""
        request = disputes_pb2.DecideDisputeRequest(item_id=item_id, uphold=uphold, comments=comments)
        return call(self._policy, self.disputes_stub.DecideDispute, request, self._md, safe=True).dispute

    def set_payee(self, request: payees_pb2.SetPayeeRequest) -> payees_pb2.Payee:
        return call(self._policy, self.payees.SetPayee, request, self._md, safe=True).payee

    def run_payouts(self, currency: str, min_amount_minor: int, request_id: str | None = None) -> runs_pb2.PayoutRun:
        request = runs_pb2.CreatePayoutRunRequest(
            request_id=request_id or str(uuid.uuid4()), currency_code=currency, min_amount_minor=min_amount_minor
        )
        return call(self._policy, self.runs.CreatePayoutRun, request, self._md, safe=True).run

    def payout_runs(self, currency: str = "") -> Iterator[runs_pb2.PayoutRun]:
        """Payout runs, newest first (one currency, or all), fetched a page at a time."""

        def request(token: str) -> runs_pb2.ListPayoutRunsRequest:
            return runs_pb2.ListPayoutRunsRequest(currency_code=currency, page_token=token)

        for page in pages(self._policy, self.runs.ListPayoutRuns, request, self._md):
            yield from page.runs

    def close_bonus_period(self, request: runs_pb2.CloseBonusPeriodRequest) -> runs_pb2.CloseBonusPeriodResponse:
        """Once per period id: the same request again answers the same bonuses and posts nothing."""
        return call(self._policy, self.runs.CloseBonusPeriod, request, self._md, safe=True)

    def payment_file(self, run_id: str, rail: int) -> runs_pb2.ExportPaymentFileResponse:
        request = runs_pb2.ExportPaymentFileRequest(run_id=run_id, rail=rail)  # type: ignore[arg-type]
        return call(self._policy, self.runs.ExportPaymentFile, request, self._md, safe=True)
