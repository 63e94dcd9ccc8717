"""Alembic environment of the evaluation service: see :mod:`shared.migrations`."""
from shared.migrations import run_env

run_env("evaluation")
