"""Payout's domain layer (filled in by the payout service issue)."""
