"""Tasking's gRPC edge (the expert-facing API arrives with the tasking issue)."""
