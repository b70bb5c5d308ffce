"""Incoming events: adapters from the topics Payout consumes to its application layer."""
