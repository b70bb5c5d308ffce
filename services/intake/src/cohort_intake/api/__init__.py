"""Intake's gRPC edge: proto <-> domain mapping, authentication and error statuses."""
