"""Payout's api layer (filled in by the payout service issue)."""
