-- A payout run finds each expert's payable balance at its cut-off as the account's balance minus
-- what was posted after the cut-off (a few entries: the cut-off is about now), instead of summing
-- every entry of every expert since the ledger began. Transactions are appended in post-time
-- order, so a BRIN index finds those after a time for almost nothing to keep up.
CREATE INDEX transactions_post_time ON transactions USING brin (post_time);
