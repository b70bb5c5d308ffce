"""Topics tasking consumes and publishes (contracts: see docs/EVENTS.md)."""

INTAKE_LABS = "cohort.intake.labs.v1"
INTAKE_PROJECTS = "cohort.intake.projects.v1"
INTAKE_TASKS = "cohort.intake.tasks.v1"
QA_ITEMS = "cohort.qa.items.v1"
QA_EXPERT_QUALITY = "cohort.qa.expert_quality.v1"
QA_REQUESTS = "cohort.qa.requests.v1"

SUBMISSIONS = "cohort.tasking.submissions.v1"
ASSIGNMENTS = "cohort.tasking.assignments.v1"
EXPERTS = "cohort.tasking.experts.v1"

CONSUMED = [INTAKE_LABS, INTAKE_PROJECTS, INTAKE_TASKS, QA_ITEMS, QA_EXPERT_QUALITY, QA_REQUESTS]
PUBLISHED = [SUBMISSIONS, ASSIGNMENTS, EXPERTS]
