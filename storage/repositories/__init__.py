"""Repositories: one per aggregate, taking an AsyncSession, never committing."""
