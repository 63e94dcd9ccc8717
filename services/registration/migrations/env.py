"""Alembic environment of the registration service: see :mod:`shared.migrations`."""
from shared.migrations import run_env

run_env("registration")
