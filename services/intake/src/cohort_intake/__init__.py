"""Cohort intake: the lab-facing service (labs, keys, projects, tasks, delivery)."""
