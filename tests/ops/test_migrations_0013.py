"""Revision 0013 of notifications (webhook secret rotation; secrets sealed at rest), on SQLite and
PostgreSQL: up from 0009 with a subscription whose secret is in plain text — sealed when a key
is set — down (the secret opened again for the code before it) and up again."""
from __future__ import annotations

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import inspect, text

from shared import migrations

from services.notifications.webhook_secrets import SecretBox

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PLAIN = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
SUBSCRIPTION = ("INSERT INTO webhook_subscriptions (id, province, owner, url, event_types, secret, status, created_at) "
                f"VALUES ('w-1', '86', 'qlns', 'https://qlns.vinhlong.gov.vn/hook', '[\"awards.*\"]', '{PLAIN}', "
                "'active', '2026-12-01 08:00:00')")


def secret(db):
    with db.read() as conn:
        return conn.execute(text("SELECT secret FROM webhook_subscriptions WHERE id = 'w-1'")).scalar_one()


def columns(db):
    with db.read() as conn:
        return {c["name"] for c in inspect(conn).get_columns("webhook_subscriptions")}


def down_to_0009(db):
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("notifications", conn), "0009")


@pytest.mark.parametrize("backend", BACKENDS)
def test_0013_seals_the_plain_secrets_with_the_key_and_opens_them_going_down(database, backend, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("WEBHOOK_SECRETS_KEY", key)
    db = database(backend)
    migrations.upgrade(db, "notifications", "0009")
    with db.write() as conn:
        conn.execute(text(SUBSCRIPTION))
    migrations.upgrade(db, "notifications", "0013")
    assert {"previous_secret", "previous_secret_until"} <= columns(db)
    sealed = secret(db)
    assert sealed.startswith("fernet:") and SecretBox([key]).open(sealed) == PLAIN
    down_to_0009(db)
    assert "previous_secret" not in columns(db) and secret(db) == PLAIN
    migrations.upgrade(db, "notifications", "0013")
    assert SecretBox([key]).open(secret(db)) == PLAIN


def test_0013_without_a_key_keeps_the_secret_as_it_is_and_going_down_needs_the_key_of_a_sealed_one(
        database, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRETS_KEY", raising=False)
    db = database("sqlite")
    migrations.upgrade(db, "notifications", "0009")
    with db.write() as conn:
        conn.execute(text(SUBSCRIPTION))
    migrations.upgrade(db, "notifications", "0013")
    assert secret(db) == PLAIN
    sealed = SecretBox([Fernet.generate_key()]).seal(PLAIN)
    with db.write() as conn:
        conn.execute(text("UPDATE webhook_subscriptions SET secret = :s"), {"s": sealed})
    with pytest.raises(Exception, match="WEBHOOK_SECRETS_KEY"):
        down_to_0009(db)
    assert secret(db) == sealed and "previous_secret" in columns(db)  # nothing half done
