"""Cohort tasking: the expert network and routing (profiles, task slots, leases, submissions)."""
