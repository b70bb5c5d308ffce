"""Topics intake publishes (contracts: see docs/EVENTS.md)."""

LABS_TOPIC = "cohort.intake.labs.v1"

PUBLISHED = [LABS_TOPIC]
