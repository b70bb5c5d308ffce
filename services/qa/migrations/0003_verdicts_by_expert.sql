-- An expert pages through their own verdicts newest first (ExpertVerdictService.ListMyVerdicts).
CREATE INDEX submissions_expert_seq ON submissions (expert_id, seq DESC);
