-- Inbox rows are forgotten after a retention longer than any topic's (cohort_runtime.inbox_retention):
-- found by received time, which rises with the table's physical order, so a BRIN index suffices.
CREATE INDEX inbox_received ON inbox USING brin (received_at);
