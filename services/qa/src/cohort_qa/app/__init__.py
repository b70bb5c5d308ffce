"""QA's app layer (filled in by the qa service issue)."""
