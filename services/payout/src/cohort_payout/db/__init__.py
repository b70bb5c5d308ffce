"""Payout's db layer (filled in by the payout service issue)."""
