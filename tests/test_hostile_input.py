"""Hostile input against the four live services and the workbench's operator API: every RPC of
every service gets requests generated from its descriptor (NUL and control characters, oversize
text and lists, extreme numbers, unknown enum values, out-of-range timestamps, forged page tokens,
real and made-up ids) under every kind of credential, plus undecodable bytes. No answer may be
INTERNAL or UNKNOWN, and nothing may log an unhandled error. A bounded budget runs in `make test`;
`make fuzz` runs the long version (COHORT_FUZZ_EXAMPLES per RPC and credential)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import importlib
import json
import logging
import os
import pkgutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cohort
from tests.conftest import Onboarding, running_services, running_workbench

EXAMPLES = int(os.environ.get("COHORT_FUZZ_EXAMPLES", "6"))
SERVICES = ("intake", "tasking", "qa", "payout")
PACKAGE_OF = {
    "intake": "cohort.intake.v1",
    "tasking": "cohort.tasking.v1",
    "qa": "cohort.qa.v1",
    "payout": "cohort.payout.v1",
    "workbench": "cohort.workbench.v1",
}
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def _methods() -> list[tuple[str, MethodDescriptor]]:
    found = []
    for info in pkgutil.walk_packages(cohort.__path__, "cohort."):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        for service in module.DESCRIPTOR.services_by_name.values():
            owner = next(s for s, pkg in PACKAGE_OF.items() if service.full_name.startswith(pkg + "."))
            found += [(owner, m) for m in service.methods]
    return sorted(found, key=lambda pair: pair[1].full_name)


METHODS = _methods()


class _Platform:
    """The four services and the workbench in a thread of their own (their own event loop), reached over sockets."""

    def __init__(self, start_services: Any, start_workbench: Any, onboard: Any) -> None:
        self._start = start_services
        self._start_workbench = start_workbench
        self._onboard = onboard
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ports: dict[str, int] = {}
        self.credentials: dict[str, tuple[tuple[str, str], ...]] = {}
        self.ids: list[str] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fuzz-platform", daemon=True)

    def __enter__(self) -> _Platform:
        self._thread.start()
        if not self._ready.wait(120) or self.error is not None:
            raise RuntimeError("the platform did not start") from self.error
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        qa = {"min_seconds": 0, "max_typing_chars_per_second": 1e9, "max_reading_chars_per_second": 1e9}
        # The edge's limits off: hostile credentials fail authentication by the hundred here, and a
        # throttled address would answer RESOURCE_EXHAUSTED to everything after, fuzzing nothing.
        unlimited = {"auth_failures_per_minute": 10**9, "rate_limit_per_second": 1e9, "rate_limit_burst": 1e9}
        overrides = {name: {**unlimited, **(qa if name == "qa" else {})} for name in SERVICES}
        async with (
            self._start(*SERVICES, **overrides) as running,
            self._start_workbench(running, **unlimited) as workbench,
        ):
            self.ports = {name: rt.grpc_port for name, rt in running.items()}
            self.ports["workbench"] = workbench.runtime.grpc_port
            await self._onboarding()
            self._ready.set()
            await self._stop.wait()

    async def _onboarding(self) -> None:
        onboard = self._onboard
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{self.ports['intake']}") as intake,
            grpc.aio.insecure_channel(f"127.0.0.1:{self.ports['tasking']}") as tasking,
        ):
            lab = await onboard.lab(intake)
            project_id = await onboard.project(intake, lab)
            expert_id, expert = await onboard.expert(tasking)
        lab_id = str(uuid.uuid4())
        self.credentials = {
            "none": (),
            "operator": onboard.operator,
            "lab_key": lab,
            "lab_token": onboard.token("lab", lab_id),
            "expert": expert,
            "reviewer": onboard.token("expert", expert_id, roles=("reviewer",)),
            "garbage": onboard.bearer("x" * 40),
        }
        self.ids = [project_id, expert_id, lab_id, str(uuid.uuid4())]


@pytest.fixture(scope="module")
def platform(database_url: str, token_keys: tuple[str, str]) -> Iterator[_Platform]:
    def start(*names: str, **overrides: dict[str, Any]) -> contextlib.AbstractAsyncContextManager[Any]:
        return running_services(database_url, token_keys[1], *names, **overrides)

    def start_workbench(running: dict[str, Any], **settings: Any) -> contextlib.AbstractAsyncContextManager[Any]:
        return running_workbench(database_url, token_keys, running, **settings)

    started = time.monotonic()
    with _Platform(start, start_workbench, Onboarding(token_keys[0])) as running:
        yield running
    _report(time.monotonic() - started)


# What the services answered, per service and status code: printed after the run, and appended to
# docs/RELIABILITY.md by `make fuzz` (COHORT_FUZZ_RECORD=1).
_ANSWERS: collections.Counter[tuple[str, str]] = collections.Counter()


def _report(seconds: float) -> None:
    per_service = {
        owner: {code: n for (o, code), n in sorted(_ANSWERS.items()) if o == owner}
        for owner in sorted({o for o, _code in _ANSWERS})
    }
    summary = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "examples_per_rpc_and_credential": EXAMPLES,
        "rpcs": len(METHODS),
        "seconds": round(seconds),
        "requests": {owner: sum(codes.values()) for owner, codes in per_service.items()},
        "answers": per_service,
    }
    print(json.dumps(summary))  # noqa: T201 - the run's figures
    if os.environ.get("COHORT_FUZZ_RECORD") == "1":
        docs = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"
        with docs.open("a") as f:
            f.write(f"\n<!-- make fuzz -->\n`{json.dumps(summary)}`\n")


# --- requests generated from descriptors --------------------------------------------------------

_HOSTILE_TEXT = st.sampled_from(
    ["", "\x00", "a\x00b", "\x1b[2J", "x" * 300, "x" * 60_000, "'; DROP TABLE outbox; --", "{}", "null",
     "9" * 40, "-1", "🙂" * 70, "../../etc/passwd", "<script>alert(1)</script>", "\ud7ff\ue000", " "]
)  # fmt: skip
_INT32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 1, 2**31 - 1, -(2**31)]))
_INT64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, -1, 2**63 - 1, -(2**63)]))
_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
    FieldDescriptor.TYPE_FLOAT: st.floats(width=32, allow_nan=True, allow_infinity=True),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_ENUM: st.integers(-3, 12),
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=64),
}


def _strings(ids: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ids), st.text(max_size=40), _HOSTILE_TEXT, st.uuids().map(str))


def _value(field: FieldDescriptor, ids: list[str], depth: int) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _message(field.message_type, ids, depth + 1)
    if field.type == FieldDescriptor.TYPE_STRING:
        return _strings(ids)
    return _SCALARS[field.type]


@st.composite
def _message(draw: st.DrawFn, descriptor: Descriptor, ids: list[str], depth: int = 0) -> Message:
    message = GetMessageClass(descriptor)()
    if depth > 4:
        return message
    if descriptor.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        message.seconds = draw(st.one_of(st.integers(-(2**40), 2**40), st.sampled_from([0, 1_800_000_000])))
        message.nanos = draw(st.one_of(st.just(0), _INT32))
        return message
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            keys = draw(st.lists(_value(entry.fields_by_name["key"], ids, depth), max_size=3))
            target = getattr(message, field.name)
            for key in keys:
                value = draw(_value(entry.fields_by_name["value"], ids, depth))
                if isinstance(value, Message):
                    target[key].CopyFrom(value)
                else:
                    target[key] = value
        elif field.is_repeated:
            items = draw(st.lists(_value(field, ids, depth), max_size=3))
            target = getattr(message, field.name)
            for item in items:
                target.add().CopyFrom(item) if isinstance(item, Message) else target.append(item)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(draw(_value(field, ids, depth)))
        else:
            with contextlib.suppress(ValueError, TypeError):  # e.g. a surrogate the runtime refuses
                setattr(message, field.name, draw(_value(field, ids, depth)))
    return message


# --- calling ------------------------------------------------------------------------------------


def _call(platform: _Platform, owner: str, method: MethodDescriptor, body: bytes, credential: str) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    with grpc.insecure_channel(f"127.0.0.1:{platform.ports[owner]}") as channel:
        metadata = platform.credentials[credential]
        try:
            if method.server_streaming:
                stream = channel.unary_stream(path)(body, metadata=metadata, timeout=5)
                for _i, _item in zip(range(3), stream, strict=False):
                    pass
                stream.cancel()
            else:
                channel.unary_unary(path)(body, metadata=metadata, timeout=10)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
            _ANSWERS[(owner, code.name)] += 1
            return code
    _ANSWERS[(owner, "OK")] += 1
    return grpc.StatusCode.OK


@pytest.mark.parametrize(
    ("owner", "method"), METHODS, ids=[m.full_name.rpartition(".")[2] + "." + m.name for _o, m in METHODS]
)
def test_generated_requests_never_answer_internal_or_unknown(platform, owner, method, caplog):
    caplog.set_level(logging.ERROR)
    credentials = sorted(platform.credentials)

    @settings(max_examples=EXAMPLES * len(credentials), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(request=_message(method.input_type, platform.ids), credential=st.sampled_from(credentials))
    def hostile(request: Message, credential: str) -> None:
        code = _call(platform, owner, method, request.SerializeToString(), credential)
        assert code not in NEVER, f"{method.full_name} as {credential}: {code.name} for {request!r:.300}"

    hostile()
    for garbage in (b"\xff\xff\xff\xff", b"\x0a\xff\xff\xff\x0f", b"\x12" + b"\x80" * 12):
        for credential in ("operator", "expert", "lab_key"):
            code = _call(platform, owner, method, garbage, credential)
            assert code not in NEVER, f"{method.full_name}: undecodable bytes answered {code.name}"
    unhandled = [r.getMessage() for r in caplog.records if "unhandled error" in r.getMessage() or r.exc_info]
    assert not unhandled, f"tracebacks logged: {unhandled[:3]}"
