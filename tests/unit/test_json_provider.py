"""The services' JSON (shared.jsonprovider.OrjsonProvider) is the text Flask's own provider
writes with the same settings: sorted keys, UTF-8 as it is, compact, dates as Flask writes them."""
from __future__ import annotations

import dataclasses
import decimal
import uuid
from datetime import date, datetime, timezone

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from shared.jsonprovider import OrjsonProvider


@dataclasses.dataclass
class Pledge:
    title: str
    year: int


VALUES = [
    {"b": 1, "a": [1, 2, {"d": None, "c": True}], "tên": "Nguyễn Thị «Giáo viên» dạy giỏi"},
    {"day": date(2025, 9, 5), "at": datetime(2025, 10, 1, 7, 30, 15, 123456, tzinfo=timezone.utc)},
    {"amount": decimal.Decimal("1.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"pledge": Pledge("Lao động tiên tiến", 2026), "x": 2 ** 70},
    {3: "three", 1: "one"},
    [1, "two", 3.5, -0.25, None, False],
    "plain text",
    [],
]


def providers():
    ours, theirs = Flask("ours"), Flask("theirs")
    ours.json = OrjsonProvider(ours)
    theirs.json.ensure_ascii = False
    return ours, theirs


@pytest.mark.parametrize("value", VALUES)
def test_a_response_is_the_text_flasks_own_provider_writes(value):
    ours, theirs = providers()
    with ours.app_context():
        mine = ours.json.response(value)
    with theirs.app_context():
        flasks = theirs.json.response(value)
    assert mine.get_data() == flasks.get_data()
    assert mine.mimetype == flasks.mimetype == "application/json"


def test_in_debug_a_response_is_indented_as_flask_indents_it():
    ours, theirs = providers()
    ours.debug = theirs.debug = True
    with ours.app_context():
        mine = ours.json.response({"b": 1, "a": 2})
    with theirs.app_context():
        assert mine.get_data() == theirs.json.response({"b": 1, "a": 2}).get_data()
