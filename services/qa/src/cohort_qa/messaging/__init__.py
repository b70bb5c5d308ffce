"""QA's messaging layer (filled in by the qa service issue)."""
