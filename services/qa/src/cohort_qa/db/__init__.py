"""QA's db layer (filled in by the qa service issue)."""
