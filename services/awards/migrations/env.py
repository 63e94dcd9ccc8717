"""Alembic environment of the awards service: see :mod:`shared.migrations`."""
from shared.migrations import run_env

run_env("awards")
