"""QA's api layer (filled in by the qa service issue)."""
