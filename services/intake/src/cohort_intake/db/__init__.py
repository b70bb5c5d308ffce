"""Intake's persistence: SQL over asyncpg, always parameterised."""
