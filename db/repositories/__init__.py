"""Repositories: take an AsyncSession, may flush, never commit."""
