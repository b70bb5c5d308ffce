"""Payout's app layer (filled in by the payout service issue)."""
