"""Topics tasking consumes and publishes (contracts: see docs/EVENTS.md)."""

INTAKE_LABS = "cohort.intake.labs.v1"

CONSUMED = [INTAKE_LABS]
PUBLISHED: list[str] = []
