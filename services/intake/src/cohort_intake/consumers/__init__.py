"""Incoming events: adapters from the topics Intake consumes to its application layer."""
