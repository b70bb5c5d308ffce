"""ProjectSpec <-> the JSON stored in projects.spec: the API's own message in protobuf's JSON
mapping (field names as in the .proto, enums as numbers), so storage needs no mapping of its own
and a field added to the API is stored without touching this module."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from cohort.intake.v1 import projects_pb2 as pb
from cohort_intake.domain.spec import ProjectSpec
from cohort_intake.mapping import spec_from_proto, spec_to_proto


def to_json(spec: ProjectSpec) -> dict[str, Any]:
    return json_format.MessageToDict(spec_to_proto(spec), preserving_proto_field_name=True, use_integers_for_enums=True)


def from_json(doc: dict[str, Any]) -> ProjectSpec:
    return spec_from_proto(json_format.ParseDict(doc, pb.ProjectSpec()))
