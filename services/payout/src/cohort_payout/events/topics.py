"""Topics payout consumes and publishes (contracts: see docs/EVENTS.md)."""

INTAKE_PROJECTS = "cohort.intake.projects.v1"
TASKING_SUBMISSIONS = "cohort.tasking.submissions.v1"
QA_VERDICTS = "cohort.qa.verdicts.v1"
QA_REVIEWS = "cohort.qa.reviews.v1"
SPEND_TOPIC = "cohort.payout.spend.v1"

CONSUMED = [INTAKE_PROJECTS, TASKING_SUBMISSIONS, QA_VERDICTS, QA_REVIEWS]
PUBLISHED = [SPEND_TOPIC]
