"""Incoming events: adapters from the topics QA consumes to its application layer."""
