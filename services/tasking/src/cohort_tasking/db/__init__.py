"""Tasking's persistence: SQL over asyncpg, always parameterised."""
