"""Registering generated gRPC servicers, and naming the services registered (health and
reflection list them), without each service spelling every name twice."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import grpc

AddServicer = Callable[[Any, grpc.aio.Server], None]
"""A generated `add_<Service>Servicer_to_server` function."""

_ADD = re.compile(r"add_(\w+)Servicer_to_server")


def register(server: grpc.aio.Server, *servicers: tuple[AddServicer, object]) -> list[str]:
    """Add each (generated add function, servicer) to `server`; returns the services' full names."""
    names = []
    for add, servicer in servicers:
        add(servicer, server)
        names.append(service_name(add))
    return names


def service_name(add: AddServicer) -> str:
    """`cohort.qa.v1.ReviewService` for `reviews_pb2_grpc.add_ReviewServiceServicer_to_server`:
    read from the descriptor of the `_pb2` module beside the generated `_pb2_grpc` one."""
    match = _ADD.fullmatch(getattr(add, "__name__", ""))
    module_name = getattr(add, "__module__", "")
    if match is None or not module_name.endswith("_pb2_grpc"):
        raise ValueError(f"{add!r} is not a generated add_<Service>Servicer_to_server function")
    messages = importlib.import_module(module_name.removesuffix("_grpc"))
    return str(messages.DESCRIPTOR.services_by_name[match.group(1)].full_name)
