"""Topics QA consumes and publishes (contracts: see docs/EVENTS.md)."""

INTAKE_PROJECTS = "cohort.intake.projects.v1"
INTAKE_TASKS = "cohort.intake.tasks.v1"
INTAKE_GOLD = "cohort.intake.gold.v1"
TASKING_SUBMISSIONS = "cohort.tasking.submissions.v1"
TASKING_EXPERTS = "cohort.tasking.experts.v1"
INTAKE_AUDITS = "cohort.intake.audits.v1"

VERDICTS = "cohort.qa.verdicts.v1"
ITEMS = "cohort.qa.items.v1"
EXPERT_QUALITY = "cohort.qa.expert_quality.v1"
REQUESTS = "cohort.qa.requests.v1"
REVIEWS = "cohort.qa.reviews.v1"
DISPUTES = "cohort.qa.disputes.v1"

CONSUMED = [INTAKE_PROJECTS, INTAKE_TASKS, INTAKE_GOLD, TASKING_SUBMISSIONS, TASKING_EXPERTS, INTAKE_AUDITS]
PUBLISHED = [VERDICTS, ITEMS, EXPERT_QUALITY, REQUESTS, REVIEWS, DISPUTES]
