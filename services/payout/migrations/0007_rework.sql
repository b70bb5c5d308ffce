-- Rework after a lab's upheld dispute is paid as new work to the experts who do it, by the
-- platform: the lab was charged once for the item already. tasking's SubmissionCreated says
-- which submissions are rework (task revision 2 and up).
ALTER TABLE submissions ADD COLUMN rework boolean NOT NULL DEFAULT false;
