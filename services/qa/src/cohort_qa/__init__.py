"""Cohort qa: quality checking (checks, gold, reviews, verdicts, aggregation, expert quality)."""
