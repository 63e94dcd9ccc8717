"""The bare ceiling of one HTTP write: Flask under gunicorn inserting one row per POST.

Same engine settings as the services (``shared.db.Database``: SQLite, WAL,
synchronous=NORMAL, BEGIN IMMEDIATE), none of their work (no auth, no schema, no
event store, no outbox). Started by ``bench.run`` as
``gunicorn 'bench.bare_app:create_app()'`` with the Stack's worker settings.
"""
from __future__ import annotations

import json
import os
import uuid

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert

from shared.db import Database

metadata = MetaData()
items = Table("items", metadata,
              Column("position", Integer, primary_key=True, autoincrement=True),
              Column("id", String(36), nullable=False, unique=True),
              Column("body", Text, nullable=False))


def create_app() -> Flask:
    db = Database(os.environ["BARE_DATABASE_URL"])
    app = Flask("bare")

    @app.post("/items")
    def post_item():
        body = request.get_json()
        item_id = str(uuid.uuid4())
        with db.write() as conn:
            conn.execute(insert(items).values(id=item_id, body=json.dumps(body, ensure_ascii=False)))
        return {"id": item_id}, 201

    @app.get("/ready")
    def ready():
        return {"status": "ready"}

    return app
