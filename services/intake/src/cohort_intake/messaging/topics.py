"""Topics intake publishes (contracts: see docs/EVENTS.md)."""

LABS_TOPIC = "cohort.intake.labs.v1"
PROJECTS_TOPIC = "cohort.intake.projects.v1"
TASKS_TOPIC = "cohort.intake.tasks.v1"
GOLD_TOPIC = "cohort.intake.gold.v1"  # QA only: gold references never reach tasking or experts

PUBLISHED = [LABS_TOPIC, PROJECTS_TOPIC, TASKS_TOPIC, GOLD_TOPIC]
