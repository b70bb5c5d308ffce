"""Cohort payout: the double-entry ledger, earnings and payout runs."""
