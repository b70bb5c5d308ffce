"""QA's domain layer (filled in by the qa service issue)."""
