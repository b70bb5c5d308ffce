"""Wires the workbench: settings, the operator gRPC API, the web server, and the chassis runtime."""

from __future__ import annotations

import datetime as dt

import grpc

from cohort.workbench.v1 import accounts_pb2_grpc
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.servicers import register
from cohort_runtime.tokens import token_authenticator
from cohort_workbench.api.admin import AccountAdminServicer
from cohort_workbench.app import accounts
from cohort_workbench.app.accounts import RecentSessions, Throttles
from cohort_workbench.backends import Backends, ExpertTokens
from cohort_workbench.config import WorkbenchSettings
from cohort_workbench.domain.sessions import SessionPolicy
from cohort_workbench.domain.throttle import ThrottlePolicy
from cohort_workbench.metrics import WebMetrics
from cohort_workbench.web.app import build_app
from cohort_workbench.web.security import ClientAddress, SessionCookie
from cohort_workbench.web.server import HttpServer
from cohort_workbench.web.shell import Web


class Workbench:
    """The workbench's parts; `http` (set once started) tells tests and the demo where it listens."""

    def __init__(self, settings: WorkbenchSettings) -> None:
        key = settings.signing_key_pem()
        if not key:
            raise ValueError(
                "the workbench needs the platform signing key (COHORT_WORKBENCH_TOKEN_PRIVATE_KEY or "
                "COHORT_TOKEN_PRIVATE_KEY_FILE) to act for experts"
            )
        self.settings = settings
        self.tokens = ExpertTokens(key, dt.timedelta(minutes=settings.expert_token_minutes))
        own = (settings.tls_cert_file, settings.tls_key_file)
        self.backends = Backends(
            settings.tasking_address,
            settings.qa_address,
            settings.payout_address,
            settings.tls_ca_file,
            (own[0], own[1]) if own[0] is not None and own[1] is not None else None,
        )
        self.http: HttpServer | None = None
        self.recent_sessions = RecentSessions()
        self._metrics: dict[int, WebMetrics] = {}

    def metrics(self, resources: Resources) -> WebMetrics:
        # One set per registry: the admin API and the pages are built from the same resources.
        key = id(resources.registry)
        if key not in self._metrics:
            self._metrics[key] = WebMetrics(resources.registry)
        return self._metrics[key]

    def _throttles(self) -> Throttles:
        s = self.settings
        window, lockout = (
            dt.timedelta(minutes=s.sign_in_window_minutes),
            dt.timedelta(minutes=s.sign_in_lockout_minutes),
        )
        return Throttles(
            account=ThrottlePolicy(s.sign_in_account_limit, window, lockout),
            address=ThrottlePolicy(s.sign_in_address_limit, window, lockout),
        )

    def web(self, resources: Resources) -> Web:
        s = self.settings
        return Web(
            pool=resources.pool,
            backends=self.backends,
            tokens=self.tokens,
            metrics=self.metrics(resources),
            cookie=SessionCookie(s.secure_cookies),
            addresses=ClientAddress(s.trusted_proxies),
            policy=SessionPolicy(
                idle=dt.timedelta(minutes=s.session_idle_minutes), absolute=dt.timedelta(hours=s.session_absolute_hours)
            ),
            throttles=self._throttles(),
            recent=self.recent_sessions,
        )

    def definition(self) -> ServiceDefinition:
        s = self.settings

        def add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
            admin = AccountAdminServicer(
                resources.pool,
                self.backends,
                self.metrics(resources),
                self.recent_sessions,
                s.public_url,
                dt.timedelta(hours=s.invitation_hours),
            )
            return register(server, (accounts_pb2_grpc.add_AccountAdminServiceServicer_to_server, admin))

        def background(resources: Resources) -> list:  # type: ignore[type-arg]
            app = build_app(self.web(resources), https=s.public_url.startswith("https://"))
            self.http = HttpServer(app, s.http_host, s.http_port)
            window = dt.timedelta(minutes=s.sign_in_window_minutes)
            return [self.http.run, lambda: accounts.sweep_forever(resources.pool, window)]

        return ServiceDefinition(
            settings=s,
            add_servicers=add_servicers,
            authenticator=lambda _r: token_authenticator(s.token_public_key_pem()),
            background=background,
        )


async def main(settings: WorkbenchSettings | None = None) -> None:
    settings = settings or WorkbenchSettings()  # type: ignore[call-arg]
    workbench = Workbench(settings)
    try:
        await serve(workbench.definition())
    finally:
        await workbench.backends.close()
