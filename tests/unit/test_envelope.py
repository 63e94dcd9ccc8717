"""Decoding an event envelope: the plain path for events as the platform writes them gives
exactly what EnvelopeSchema gives, and whatever it is not sure of goes through the schema."""
from __future__ import annotations

import itertools

import orjson
import pytest

from shared import envelope as env
from shared.envelope import Actor, Envelope

BASE = orjson.loads(env.canonical_bytes(Envelope(
    type="registration.participant.registered", source="registration", subject="registration-7",
    province="83", data={"registration_id": "7", "pledges": [{"title": "Giáo viên dạy giỏi"}]},
    actor=Actor("so-gd-83", "department"), sequence=3, correlationid="registration-7",
    causationid="command:1")))

ODD_VALUES = [None, "", " ", 0, -1, 1, 2, True, False, 1.0, 1.5, "1", "3", [], {}, "x" * 16, "x" * 17,
              "registration.x", "Registration.X", "a", "a.b", "1.0", "urn:x"]
ODD_IDS = [BASE["id"].upper(), BASE["id"].replace("-", ""), "urn:uuid:" + BASE["id"], "{" + BASE["id"] + "}",
           BASE["id"][:-1], BASE["id"][:-1] + "g"]
ODD_TIMES = ["2026-12-01T10:00:00Z", "2026-12-01T10:00:00.5Z", "2026-12-01T10:00:00.1234567Z",
             "2026-12-01T10:00:00+07:00", "2026-12-01T10:00:00", "2026-12-01T10:00:00.000000+00:00",
             "2026-13-01T10:00:00Z", "2026-12-01 10:00:00Z", "yesterday"]


def variants():
    yield "as written", BASE
    for key in BASE:
        yield f"without {key}", {k: v for k, v in BASE.items() if k != key}
        for value in ODD_VALUES:
            yield f"{key}={value!r}", {**BASE, key: value}
    for event_id in ODD_IDS:
        yield f"id={event_id}", {**BASE, "id": event_id}
    for time in ODD_TIMES:
        yield f"time={time}", {**BASE, "time": time}
    for actor in ({"id": "a"}, {"id": "a", "role": "r", "extra": 1}, {"id": "", "role": "r"}, {"id": 1, "role": "r"},
                  ["a", "r"]):
        yield f"actor={actor}", {**BASE, "actor": actor}
    yield "an unknown attribute", {**BASE, "extra": "x"}
    yield "no dataschema", {k: v for k, v in BASE.items() if k != "dataschema"}
    yield "schemaversion 2", {**BASE, "schemaversion": 2}
    for a, b in itertools.combinations(["sequence", "province", "time"], 2):
        yield f"both {a} and {b} odd", {**BASE, a: "1", b: ""}


CASES = list(variants())


def through_schema(body):
    try:
        return env.validated(body)
    except env.EnvelopeError as exc:
        return exc


@pytest.mark.parametrize("body", [b for _, b in CASES], ids=[name for name, _ in CASES])
def test_the_plain_path_answers_as_the_schema_does_or_leaves_the_event_to_it(body):
    plain = env._plainly_valid(body)
    schema = through_schema(body)
    if plain is None:
        assert env.from_dict(body) == schema if not isinstance(schema, Exception) else True
        return
    assert not isinstance(schema, Exception), f"the plain path let through what the schema refuses: {schema}"
    assert plain == schema
    assert env.canonical_bytes(plain) == env.canonical_bytes(schema)


def test_an_event_as_the_platform_writes_it_takes_the_plain_path():
    assert env._plainly_valid(BASE) == env.validated(BASE)
    assert env._plainly_valid({k: v for k, v in BASE.items() if k != "dataschema"}) is not None


@pytest.mark.parametrize("name, body", [(n, b) for n, b in CASES if isinstance(through_schema(b), Exception)][:40])
def test_a_refused_envelope_is_refused_by_decode_with_the_schemas_errors(name, body):
    with pytest.raises(env.EnvelopeError) as refused:
        env.decode(orjson.dumps(body))
    assert refused.value.errors == through_schema(body).errors
