"""Revision 0009 of notifications (webhooks), on SQLite and PostgreSQL: up from 0006 with the
rows an installation already has, down and up again."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from shared import migrations

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PERSON = "INSERT INTO people (province, person_id, unit_id) VALUES ('86', 'lan.ht', 'thpt-luu-van-liet')"


@pytest.mark.parametrize("backend", BACKENDS)
def test_0009_adds_the_webhook_tables_keeps_the_rest_and_goes_down_and_up_again(database, backend):
    db = database(backend)
    migrations.upgrade(db, "notifications", "0006")
    with db.write() as conn:
        conn.execute(text(PERSON))
    migrations.upgrade(db, "notifications", "0009")
    with db.read() as conn:
        assert {"webhook_subscriptions", "webhook_deliveries"} <= set(inspect(conn).get_table_names())
        assert conn.execute(text("SELECT person_id FROM people")).scalars().all() == ["lan.ht"]
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("notifications", conn), "0006")
    with db.read() as conn:
        assert "webhook_deliveries" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT person_id FROM people")).scalars().all() == ["lan.ht"]
    migrations.upgrade(db, "notifications", "0009")
    with db.read() as conn:
        assert {"webhook_subscriptions", "webhook_deliveries"} <= set(inspect(conn).get_table_names())
