"""Topics intake publishes (contracts: see docs/EVENTS.md)."""

LABS_TOPIC = "cohort.intake.labs.v1"
PROJECTS_TOPIC = "cohort.intake.projects.v1"
TASKS_TOPIC = "cohort.intake.tasks.v1"
GOLD_TOPIC = "cohort.intake.gold.v1"  # QA only: gold references never reach tasking or experts
AUDITS_TOPIC = "cohort.intake.audits.v1"  # ItemDisputed: a lab rejected a delivered item in an audit

PUBLISHED = [LABS_TOPIC, PROJECTS_TOPIC, TASKS_TOPIC, GOLD_TOPIC, AUDITS_TOPIC]

# Consumed (published by tasking, QA and payout).
TASKING_SUBMISSIONS = "cohort.tasking.submissions.v1"
QA_VERDICTS = "cohort.qa.verdicts.v1"
QA_ITEMS = "cohort.qa.items.v1"
PAYOUT_SPEND = "cohort.payout.spend.v1"
# For screening decisions (QualificationDecided), which a lab's webhooks announce; the quality
# updates on the same topic are not intake's and are passed over.
QA_EXPERT_QUALITY = "cohort.qa.expert_quality.v1"
QA_DISPUTES = "cohort.qa.disputes.v1"  # DisputeDecided: QA's answer to a lab's rejected finding

CONSUMED = [TASKING_SUBMISSIONS, QA_VERDICTS, QA_ITEMS, PAYOUT_SPEND, QA_EXPERT_QUALITY, QA_DISPUTES]
