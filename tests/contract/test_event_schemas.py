"""The event payload schemas as a contract: every type the code can emit has one, every emit is
checked against it before the store sees it, the fast check never lets through what marshmallow
refuses, stored v1 events come back upcast, and the contract modules depend on nothing of their
services."""
import ast
import copy
import re
from pathlib import Path

import orjson
import pytest
from marshmallow import Schema, fields
from sqlalchemy import insert, select

from shared import eventschema
from shared.privacy import protector as privacy
from shared.aggregate import CommandContext, Stream, record
from shared.db import Database
from shared.envelope import Actor, Envelope, canonical_bytes
from shared.eventstore import GENESIS, EventStore, chain_hash, events, metadata
from shared.stack import SERVICES
from tests import councils, scenarios
from tests.driver import InProcess
from tests.unit.conftest import SECRET, module_system

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPE = re.compile(r"^(registration|evaluation|awards|notifications)\.[a-z_]+\.[a-z_]+$")
CTX = CommandContext("awards", "83", Actor("u-1", "department"), "corr-1", "command:1")


def _literals(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and EVENT_TYPE.match(n.value)}


def _code_files():
    for folder in ("services", "shared", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


# -- every type has a schema, every schema a type ----------------------------------------------
def test_every_event_type_named_in_the_code_has_a_payload_schema():
    """Any string of the shape of an event type in the services', shared and web code (an emit's
    constant, a handler's key) must be a published type; an emit of a type built otherwise is
    refused by record() itself (next tests)."""
    named = {t: p for p in _code_files() if p.name != "events.py" for t in _literals(p)}
    catalogue = eventschema.catalogue()
    missing = sorted(set(named) - set(catalogue.current))
    assert not missing, {t: str(named[t].relative_to(ROOT)) for t in missing}
    # and no schema for a type its producer no longer names
    for service in SERVICES:
        code = {t for p in (ROOT / "services" / service).rglob("*.py") if p.name != "events.py" for t in _literals(p)}
        code |= _literals(ROOT / "shared" / "progression.py")
        stale = sorted(c.type for c in catalogue.of_service(service) if c.type not in code)
        assert not stale, f"{service} publishes schemas for types its code never names: {stale}"


def test_each_service_publishes_its_contracts_and_only_its_own_types():
    catalogue = eventschema.catalogue()
    assert sorted(catalogue.by_service) == sorted(SERVICES)
    for service in SERVICES:
        assert all(c.type.startswith(f"{service}.") and c.service == service for c in catalogue.of_service(service))
    assert len(catalogue.current) == 36  # 28, the seven of councils and their ballots, a person's erasure


def test_a_contract_module_imports_nothing_of_any_service():
    """The catalogue loads every service's events.py in every service: they must stay contracts."""
    for service in SERVICES:
        tree = ast.parse((ROOT / "services" / service / "events.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
            {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert all(m.split(".")[0] in ("marshmallow", "shared", "typing") for m in imported), (service, imported)


# -- on write ---------------------------------------------------------------------------------
@pytest.fixture
def store_db(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/store.db")
    db.create_all(metadata)
    yield db
    db.dispose()


HOLD = {"hold_id": "h1", "participant_id": "p1", "kind": "discipline", "reason": "đang xem xét kỷ luật",
        "placed_on": "2025-03-01", "placed_by": "u-1"}


def _count(db) -> int:
    with db.read() as conn:
        return len(conn.execute(select(events.c.position)).all())


@pytest.mark.parametrize("data, field", [
    ({**HOLD, "placed_by_name": "Nguyễn Văn A"}, "placed_by_name"),  # a field the schema does not know
    ({k: v for k, v in HOLD.items() if k != "reason"}, "reason"),  # a required field missing
    ({**HOLD, "placed_on": "01/03/2025"}, "placed_on"),  # not an ISO date
    ({**HOLD, "hold_id": None}, "hold_id"),  # null where none is allowed
], ids=["unknown", "missing", "date", "null"])
def test_a_payload_that_does_not_match_its_schema_never_reaches_the_store(store_db, data, field):
    store = EventStore("t.awards")
    with pytest.raises(eventschema.PayloadError) as raised, store_db.write() as conn:
        record(store, conn, "hold-h1", Stream("hold-h1"), "awards.hold.placed", data, CTX)
    assert field in raised.value.errors and raised.value.type == "awards.hold.placed"
    assert _count(store_db) == 0


def test_an_event_type_without_a_schema_is_refused(store_db):
    with pytest.raises(eventschema.PayloadError, match="no payload schema"), store_db.write() as conn:
        record(EventStore("t.awards"), conn, "x-1", Stream("x-1"), "awards.hold.forgotten", {}, CTX)
    assert _count(store_db) == 0


def test_a_recorded_event_carries_its_schema_version_and_where_the_schema_is_served(store_db):
    with store_db.write() as conn:
        stored = record(EventStore("t.awards"), conn, "hold-h1", Stream("hold-h1"), "awards.hold.placed", HOLD, CTX)
    assert stored.schemaversion == 1
    assert stored.dataschema.endswith("/schemas/awards.hold.placed/v1")
    body = orjson.loads(canonical_bytes(stored))
    assert body["dataschema"] == stored.dataschema and body["schemaversion"] == 1


# -- the fast check and marshmallow -----------------------------------------------------------
def _schemas(schema: Schema):
    yield schema
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _schemas(inner.schema)


PORTABLE_FIELDS = (fields.String, fields.Integer, fields.Float, fields.Boolean, fields.Date, fields.Email,
                   fields.List, fields.Dict, fields.Nested, fields.Raw)


def test_every_payload_schema_says_only_what_json_schema_says_as_strictly():
    """What makes the compiled JSON Schema agree with marshmallow: no schema-level hooks, only
    portable validators, strict integers, unknown fields refused."""
    for contract in (v for vs in eventschema.catalogue().versions.values() for v in vs.values()):
        for schema in _schemas(contract.schema):
            where = f"{contract.name}: {type(schema).__name__}"
            assert schema.opts.unknown == "raise", where
            assert not any(schema._hooks.values()), f"{where} has a hook JSON Schema cannot say"
            for name, field in schema.fields.items():
                assert type(field) in PORTABLE_FIELDS, f"{where}.{name}: {type(field).__name__}"
                assert all(isinstance(v, eventschema.PORTABLE_VALIDATORS) for v in field.validators), \
                    f"{where}.{name}: {field.validators}"
                if isinstance(field, fields.Integer):
                    assert field.strict, f"{where}.{name}: an Integer must be strict (JSON integer)"


@pytest.fixture(scope="module")
def stored_payloads(tmp_path_factory):
    """Every event the seed plans and a whole exemplar record, as their stores hold them."""
    yield from _recorded(tmp_path_factory)


def _the_rest(d, system) -> None:
    """What the seed plans do not do: holds, a province rule, a past award and its revocation, a
    returned dossier completed, a withdrawal, a unit's member, a recipient, reminder days and a reminder."""
    from datetime import date

    from services.notifications.background import Reminders
    from tests.unit import test_award_rules as awards

    e = awards.teacher(d)
    hold = scenarios.ok(d.post("awards", "/holds", {"participant_id": e.pid, "kind": "inspection",
                                                    "reason": "Thanh tra"}, role="council", province=e.province))
    scenarios.ok(d.post("awards", f"/holds/{hold['id']}/lifting", {"reason": "Đã kết luận"}, role="council",
                        province=e.province))
    scenarios.ok(d.post("awards", "/rules", {"award": awards.PROVINCE_CSTDCS}, role="council", province="01"))
    past = awards.record(d, e, "chien_si_thi_dua_co_so", 2021)
    scenarios.ok(d.post("awards", f"/awards/{past['id']}/revocation", {
        "reason": "Khai man thành tích", "decision_number": "9/QĐ-TH"}, role="authority", province=e.province,
        authority="district", name=awards.ISSUERS["district"]))
    n = scenarios.ok(awards.nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=awards.BALLOT_8))
    scenarios.ok(scenarios.appraise(d, e.province, n["id"], "returned", "Thiếu xác nhận sáng kiến"))
    scenarios.ok(d.post("awards", f"/nominations/{n['id']}/resubmission", {"dossier": {
        "submission_letter": "Tờ trình số 12/TTr", "achievement_report": "Báo cáo thành tích",
        "council_minutes": awards.BALLOT_8}}, role="unit_head",
        province=e.province, unit=n["proposer_unit"]))
    scenarios.ok(d.post("registration", f"/registrations/{e.registration_id}/withdrawal",
                        {"reason": "Chuyển công tác"}, role="department", province=e.province))
    scenarios.ok(d.post("notifications", "/recipients", {"id": "gv-1", "name": "Trần Thị Mai",
                                                         "email": "mai@thcs.edu.vn"}, province="83", subject="gv-1"))
    scenarios.ok(d.post("registration", "/units", {"id": "so-83", "name": "Sở GD&ĐT", "kind": "department"},
                        province="83"))
    scenarios.ok(d.post("registration", "/units/so-83/members", {"person_id": "gv-1", "name": "Trần Thị Mai",
                                                                 "individual_kind": "teacher", "gender": "female"},
                        province="83"))
    scenarios.launch(d, "83", title="Phong trào có hạn", issuer="Sở GD&ĐT", registration_deadline="2024-04-30")
    scenarios.ok(d.post("notifications", "/reminder-settings", {"days_before": [5, 2]}, province="83"))
    scenarios.ok(d.post("registration", "/people/gv-1/erasure", {"request_reference": "Đơn số 1/2024"},
                        province="83"))
    d.settle()
    rt = system.apps["notifications"].extensions["runtime"]
    assert Reminders(rt.db, rt.store, [7, 3, 1]).send_due(date(2024, 4, 26)) >= 1


def _recorded(tmp_path_factory):
    gen = module_system(tmp_path_factory, "schemas")
    system = next(gen)
    driver = InProcess(system, SECRET)
    for scenario in (scenarios.my_hoa, scenarios.gia_lai, scenarios.da_nang, scenarios.quang_ninh,
                     scenarios.ad_hoc, scenarios.ben_tre_exemplar):
        scenario(driver)
    _the_rest(driver, system)
    councils.council_vote(driver)  # councils, recusals, ballots, and a nomination carrying its ballot
    found = []
    for app in system.apps.values():
        rt = app.extensions["runtime"]
        with rt.db.read() as conn:  # the payloads as their schemas see them: personal fields opened
            found += [{"type": s.event.type, "schemaversion": s.event.schemaversion, "data": s.event.data}
                      for s in rt.store.iter_all(conn)]
    yield found
    next(gen, None)


def test_the_flows_record_every_type_and_each_payload_passes_the_fast_check(stored_payloads):
    types = {e["type"] for e in stored_payloads}
    assert types == set(eventschema.catalogue().current), sorted(set(eventschema.catalogue().current) - types)
    for e in stored_payloads:
        contract = eventschema.catalogue().contract(e["type"], e["schemaversion"])
        eventschema._compiled.get(contract.name) or eventschema._compile(contract)
        eventschema._compiled[contract.name](e["data"])  # raises if only marshmallow would take it


def _mutations(data: dict):
    """Payloads one change away from a valid one: each field dropped, nulled, given the wrong
    type, and one unknown field, at every level of nesting."""
    yield {**data, "not_in_the_schema": 1}
    for key, value in data.items():
        yield {k: v for k, v in data.items() if k != key}
        for wrong in (None, 12, "x", True, [], {}):
            if wrong != value:
                yield {**data, key: wrong}
        if isinstance(value, dict):
            for inner in _mutations(value):
                yield {**data, key: inner}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in _mutations(value[0]):
                yield {**data, key: [inner, *value[1:]]}


def test_the_fast_check_never_takes_what_marshmallow_refuses(stored_payloads):
    seen = set()
    for e in stored_payloads:
        if e["type"] in seen:
            continue
        seen.add(e["type"])
        contract = eventschema.catalogue().contract(e["type"], e["schemaversion"])
        fast = eventschema._compiled.get(contract.name) or eventschema._compile(contract)
        for payload in _mutations(copy.deepcopy(e["data"])):
            if contract.schema.validate(payload):
                with pytest.raises(Exception):
                    fast(payload)


# -- on read: upcasting ------------------------------------------------------------------------
V1_RECORDED = {"record_id": "r-1998", "participant": {"participant_id": "gv-7", "participant_kind": "individual",
                                                      "name": "Trần Thị Bảy", "unit": "Trường THCS Mỹ Hòa"},
               "award": "bang_khen_chu_tich_tinh", "award_name": "Bằng khen của Chủ tịch UBND tỉnh", "year": 2019,
               "kind": "periodic", "decision_number": "45/QĐ-UBND", "decision_date": "2019-12-30",
               "issuer": "UBND tỉnh Bến Tre", "issuer_level": "province"}


def _store_v1(conn, stream: str, data: dict, version: int = 1, prev: str = GENESIS) -> str:
    """An awards.award.recorded event as the store kept it before v2 (issuer_level, no imported)."""
    event = Envelope(type="awards.award.recorded", source="awards", subject=stream, province="83", data=data,
                     actor=Actor("operator", "operator"), correlationid=stream, causationid="command:old",
                     schemaversion=1).with_sequence(version)
    body = canonical_bytes(event)
    digest = chain_hash(prev, body)
    conn.execute(insert(events).values(event_id=event.id, stream_id=stream, version=version, type=event.type,
                                       province="83", correlation_id=stream, recorded_at=event.time,
                                       body=body.decode(), prev_hash=prev, hash=digest))
    return digest


def test_a_stored_v1_award_record_loads_as_v2(store_db):
    assert eventschema.catalogue().current_version["awards.award.recorded"] == 2
    store = EventStore("t.awards")
    with store_db.write() as conn:
        _store_v1(conn, "record-r-1998", V1_RECORDED)
    with store_db.read() as conn:
        [loaded] = store.load(conn, "record-r-1998")
        [replayed] = [s.event for s in store.read_all(conn)]
    for event in (loaded, replayed):
        assert event.schemaversion == 2 and event.dataschema.endswith("/awards.award.recorded/v2")
        assert event.data["level"] == "province" and "issuer_level" not in event.data
        assert event.data["imported"] is True and event.data["imported_by"] is None
        assert eventschema.check("awards.award.recorded", event.data) == 2  # the current schema takes it
    assert eventschema.catalogue().contract("awards.award.recorded", 1).schema.validate(V1_RECORDED) == {}


def test_upcasting_leaves_the_stored_bytes_and_the_chain_as_they_were(store_db):
    from shared.eventstore import verify_stream
    with store_db.write() as conn:
        _store_v1(conn, "record-r-1998", V1_RECORDED)
    with store_db.read() as conn:
        EventStore("t.awards").load(conn, "record-r-1998")
        body = orjson.loads(conn.execute(select(events.c.body)).scalar_one())
        assert verify_stream(conn, "record-r-1998") == []
    assert body["schemaversion"] == 1 and body["data"]["issuer_level"] == "province"


def test_an_event_at_its_current_version_is_handed_on_untouched():
    event = Envelope(type="awards.hold.placed", source="awards", subject="hold-h1", province="83", data=HOLD,
                     actor=Actor("u", "department"))
    assert eventschema.upcast(event) is event
    newer = Envelope(type="awards.hold.placed", source="awards", subject="hold-h1", province="83", data={"x": 1},
                     actor=Actor("u", "department"), schemaversion=9)  # a newer producer's: not ours to judge
    assert eventschema.upcast(newer) is newer


def test_a_v1_that_is_not_what_v1_was_cannot_be_upcast_and_says_so():
    from shared.envelope import EnvelopeError
    event = Envelope(type="awards.award.recorded", source="awards", subject="record-x", province="83",
                     data={"record_id": "x"}, actor=Actor("u", "operator"), schemaversion=1)
    with pytest.raises(EnvelopeError, match="cannot be upcast"):
        eventschema.upcast(event)


def test_the_personal_fields_are_marked():
    assert eventschema.personal_fields("registration.participant.registered") == [
        "participant.name", "participant.gender", "participant.address", "participant.phone"]
    assert eventschema.personal_fields("notifications.recipient.registered") == ["name", "email"]
    assert eventschema.personal_fields("registration.unit.registered") == []  # an organisation's address


def _v1_record_value(data: dict) -> bytes:
    event = Envelope(type="awards.award.recorded", source="awards", subject="record-r-1998", province="83",
                     data=data, actor=Actor("operator", "operator"), correlationid="record-r-1998",
                     causationid="command:old", schemaversion=1).with_sequence(1)
    return canonical_bytes(event)


def test_a_consumer_gets_a_v1_event_from_kafka_upcast_and_dead_letters_one_that_cannot_be(store_db):
    from shared.bus import InMemoryBus
    from shared.consumer import ConsumerRunner

    bus, seen = InMemoryBus(), []
    producer = bus.producer()
    producer.send("t.awards", b"record-r-1998", _v1_record_value(V1_RECORDED), [])
    producer.send("t.awards", b"record-x", _v1_record_value({"record_id": "x"}), [])  # no issuer_level
    producer.flush()
    runner = ConsumerRunner(store_db, bus, name="reader", group="t.reader", topics=["t.awards"],
                            handlers={"awards.award.recorded": lambda conn, e: seen.append(e)}, dlq="t.reader.dlq",
                            retry_backoff_s=0)
    while runner.run_once(timeout_s=0):
        pass
    [event] = seen
    assert (event.schemaversion, event.data["level"], event.data["imported"]) == (2, "province", True)
    assert runner.dead_lettered == 1
    [parked] = bus.consumer("t.check", ["t.reader.dlq"]).poll(0)
    assert b"cannot be upcast" in dict(parked.headers)["dlq-reason"]


def test_awards_rebuilt_from_a_store_with_v1_records_shows_them_at_their_level(tmp_path_factory):
    from shared.ops.rebuild import Rebuild
    from shared.stack import service_spec
    from tests.scenarios import ok

    gen = module_system(tmp_path_factory, "rebuild-v1")
    system = next(gen)
    try:
        rt = {name: app.extensions["runtime"] for name, app in system.apps.items()}
        with rt["awards"].db.write() as conn:
            _store_v1(conn, "record-r-1998", V1_RECORDED)
        followed = {name: rt[name].db for name in service_spec("awards").follows}
        Rebuild(rt["awards"].settings.database_url, privacy.protected(service_spec("awards"), rt["awards"].protector),
                followed).run()
        [award] = ok(InProcess(system, SECRET).get("awards", "/history/gv-7", province="83"), 200)
        assert (award["decision_number"], award["level"], award["imported"]) == ("45/QĐ-UBND", "province", True)
    finally:
        next(gen, None)
