"""Intake's use cases: each one transaction holding the state change and its outbox events."""
