"""Alembic environment of the notifications service: see :mod:`shared.migrations`."""
from shared.migrations import run_env

run_env("notifications")
