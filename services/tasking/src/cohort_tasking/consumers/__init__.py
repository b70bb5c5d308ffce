"""Incoming events: adapters from the topics Tasking consumes to its application layer."""
