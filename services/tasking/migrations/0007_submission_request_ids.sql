-- SubmitTask's idempotency key (AIP-155): a retried submit whose reply was lost finds its first
-- result by the key instead of meeting "already submitted". Unique per expert, so two experts
-- cannot collide, and one expert's retries of one call cannot make two submissions.
ALTER TABLE submissions ADD COLUMN request_id uuid;
CREATE UNIQUE INDEX submissions_request_id ON submissions (expert_id, request_id) WHERE request_id IS NOT NULL;
