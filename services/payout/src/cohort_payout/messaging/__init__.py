"""Payout's messaging layer (filled in by the payout service issue)."""
