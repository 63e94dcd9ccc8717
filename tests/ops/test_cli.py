"""The operator's command line against the real broker and PostgreSQL: what each command
reports, what it changes, and the exit code a script would act on."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, select, update

from shared import envelope as env, migrations
from shared.consumer import ConsumerRunner
from shared.db import Database
from shared.envelope import Actor, Envelope
from shared.eventstore import EventStore, events, outbox, processed_events
from shared.kafka_bus import KafkaBus
from shared.ops.kafka import KafkaOps
from shared.ops.topics import TopicSpec, problems
from shared.ops.kafka import TopicState
from shared.cli import main
from shared.relay import OutboxRelay
from shared.stack import SERVICES, service_spec
from tests.conftest import kafka_settings_for

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def an_event(stream: str, n: int, type_: str = "registration.campaign.launched", province: str = "83") -> Envelope:
    return Envelope(type=type_, source="registration", subject=stream, province=province, data={"n": n},
                    actor=Actor("tester", "department"), sequence=n, correlationid=f"corr-{stream}",
                    causationid="cmd-ops")


@pytest.fixture(autouse=True)
def clients():
    """Every Kafka client a test opens is closed after it (none lingers, retrying a stopped broker)."""
    opened = []
    yield opened
    for client in reversed(opened):
        client.close()


def kafka_bus(installation, clients) -> KafkaBus:
    bus = KafkaBus(kafka_settings_for(installation.bootstrap))
    clients.append(bus)
    return bus


def end_total(installation, topic: str) -> int:
    ops = KafkaOps(kafka_settings_for(installation.bootstrap))
    try:
        return sum(ops.offsets(topic)[1].values())
    finally:
        ops.close()


# -- migrate, setup, topics -------------------------------------------------------------------
def test_migrate_brings_every_service_database_to_head_and_reports_from_where(installation):
    code, report = installation.json("migrate")
    assert code == 0
    assert [(r["service"], r["from"], r["to"]) for r in report] == [(s, None, migrations.head(s)) for s in SERVICES]
    code, again = installation.json("migrate", "--service", "awards")
    head = migrations.head("awards")
    assert (code, again) == (0, [{"service": "awards", "from": head, "to": head}])


def test_one_database_url_for_several_services_is_a_configuration_error(installation):
    result = installation.thidua("migrate", DATABASE_URL=installation.urls["awards"], DATABASE_URL_AWARDS=None,
                                 DATABASE_URL_REGISTRATION=None)
    assert result.exit_code == 2 and "DATABASE_URL_REGISTRATION" in result.output


def test_setup_migrates_and_creates_every_topic_which_check_then_finds_as_wanted(installation):
    code, done = installation.json("setup")
    assert code == 0
    assert {d["service"]: d["database"] for d in done} == {s: migrations.head(s) for s in SERVICES}
    assert sorted(t for d in done for t in d["topics"]) == sorted(
        [f"{installation.prefix}.{s}" for s in SERVICES] + [f"{installation.prefix}.{s}.dlq" for s in SERVICES])
    code, report = installation.json("topics", "check")
    assert code == 0, report
    assert all(r["exists"] and r["partitions"] == 3 and not r["problems"] for r in report)
    code, created = installation.json("topics", "create")
    assert code == 0 and not any(r["created"] for r in created)  # idempotent: nothing altered


def test_topics_check_finds_a_missing_dead_letter_topic_and_a_wrong_partition_count(installation):
    ops = KafkaOps(kafka_settings_for(installation.bootstrap))
    ops.create_topic(f"{installation.prefix}.evaluation", 1, 1, {})
    ops.close()
    code, report = installation.json("topics", "check", "--service", "evaluation")
    assert code == 1
    by_topic = {r["topic"]: r["problems"] for r in report}
    assert by_topic[f"{installation.prefix}.evaluation"] == [f"{installation.prefix}.evaluation: 1 partitions, 3 wanted"]
    assert "missing" in by_topic[f"{installation.prefix}.evaluation.dlq"][0]


def test_a_retention_the_broker_reports_differently_is_a_problem():
    wanted = TopicSpec("t", "awards", "events", 3, 1, {"retention.ms": "-1"})
    assert problems(wanted, TopicState("t", 3, 1, {"retention.ms": "604800000"})) == [
        "t: retention.ms=604800000, -1 wanted"]
    assert problems(wanted, TopicState("t", 3, 1, {})) == []  # not reported (Tansu): not counted


def test_a_broker_that_does_not_answer_exits_3(installation):
    code, error = installation.json("topics", "check", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert code == 3 and "broker" in error["error"]


# -- lag ----------------------------------------------------------------------------------------
def test_lag_counts_messages_and_the_age_of_the_oldest_unconsumed_record(installation, clients):
    assert installation.json("setup")[0] == 0
    topic = f"{installation.prefix}.registration"
    bus = kafka_bus(installation, clients)
    producer = bus.producer()
    clients.append(producer)
    for i in range(6):
        producer.send(topic, f"stream-{i % 2}".encode(), env.encode(an_event(f"s{i}", 1)))
    producer.flush()
    # evaluation's group consumes and commits everything; awards' group has consumed nothing
    consumer = bus.consumer(f"{installation.prefix}.evaluation", [topic])
    seen = []
    deadline = time.monotonic() + 30
    while len(seen) < 6 and time.monotonic() < deadline:
        records = consumer.poll(0.5)
        seen += records
        if records:
            consumer.commit({(r.topic, r.partition): r.offset + 1 for r in records})
    consumer.close()
    assert len(seen) == 6
    time.sleep(1.2)

    code, rows = installation.json("lag", "--service", "evaluation", "--service", "awards")
    assert code == 0
    evaluation = [r for r in rows if r["group"] == f"{installation.prefix}.evaluation"]
    assert sum(r["lag"] for r in evaluation) == 0 and all(r["seconds"] == 0 for r in evaluation)
    awards = [r for r in rows if r["topic"] == topic and r["group"] == f"{installation.prefix}.awards"]
    assert sum(r["lag"] for r in awards) == 6 and all(r["committed"] is None for r in awards)
    assert all(r["seconds"] >= 1.0 for r in awards if r["lag"])
    code, _ = installation.json("lag", "--service", "awards", "--max-messages", "2")
    assert code == 1
    code, _ = installation.json("lag", "--service", "evaluation", "--max-seconds", "60")
    assert code == 0


# -- dead letters --------------------------------------------------------------------------------
scores = Table("scores", MetaData(), Column("stream", String(200), primary_key=True), Column("n", Integer))


def test_dead_letters_are_listed_shown_and_redriven_until_applied(installation, clients):
    assert installation.json("setup")[0] == 0
    db = Database(installation.urls["evaluation"])
    scores.create(db.writer)
    broken = {"yes": True}

    def score(conn, event):
        if broken["yes"] and event.data["n"] == 2:
            raise ValueError("tiêu chí chưa được định nghĩa")
        conn.execute(scores.insert().values(stream=event.subject, n=event.data["n"]))

    prefix, topic = installation.prefix, f"{installation.prefix}.registration"
    runner = ConsumerRunner(db, kafka_bus(installation, clients), name="evaluation", group=f"{prefix}.evaluation",
                            topics=[topic], handlers={"registration.campaign.launched": score},
                            dlq=f"{prefix}.evaluation.dlq", retry_backoff_s=0.01)
    producer = kafka_bus(installation, clients).producer()
    clients.append(producer)
    sent = [an_event(f"c-{uuid.uuid4().hex[:6]}", n) for n in (1, 2, 3)] + [an_event("c-x", 2)]
    for e in sent:
        producer.send(topic, e.subject.encode(), env.encode(e), env.kafka_headers(e))
    producer.flush()
    deadline = time.monotonic() + 40
    while runner.dead_lettered < 2 and time.monotonic() < deadline:
        runner.run_once(timeout_s=0.5)
    assert runner.dead_lettered == 2

    code, letters = installation.json("dlq", "list", "--service", "evaluation")
    assert code == 0 and len(letters) == 2
    assert {l["event_id"] for l in letters} == {sent[1].id, sent[3].id}
    assert all(l["state"] == "parked" and "tiêu chí chưa được định nghĩa" in l["reason"]
               and l["consumer"] == "evaluation" and l["source_topic"] == topic for l in letters)

    code, shown = installation.json("dlq", "show", "--service", "evaluation", sent[1].id)
    assert code == 0 and shown["value"]["id"] == sent[1].id and shown["headers"]["ce_type"] == sent[1].type
    assert installation.json("dlq", "show", "--service", "evaluation", "9:999")[0] == 1

    broken["yes"] = False  # the cause is fixed
    code, report = installation.json("dlq", "redrive", "--service", "evaluation", letters[0]["id"])
    assert code == 0 and report[0]["redriven"]
    code, report = installation.json("dlq", "redrive", "--service", "evaluation", "--all")
    assert code == 0 and [r["event_id"] for r in report] == [letters[1]["event_id"]]
    def applied() -> int:
        with db.read() as conn:
            return conn.execute(select(func.count()).select_from(scores)).scalar_one()

    deadline = time.monotonic() + 30
    while applied() < 4 and time.monotonic() < deadline:
        runner.run_once(timeout_s=0.5)
    assert applied() == 4
    code, letters = installation.json("dlq", "list", "--service", "evaluation")
    assert {l["state"] for l in letters} == {"applied"}
    code, report = installation.json("dlq", "redrive", "--service", "evaluation", letters[0]["id"])
    assert code == 1 and report is not None  # already applied: nothing to do, and the script is told
    runner.reset()
    db.dispose()


# -- republish --------------------------------------------------------------------------------------
def test_republish_sends_a_services_events_again_from_a_position_through_its_relay(installation, clients):
    assert installation.json("setup")[0] == 0
    db = Database(installation.urls["registration"])
    store = EventStore(f"{installation.prefix}.registration")
    with db.write() as conn:
        for i in range(5):
            store.append(conn, f"campaign-{i}", 0, [an_event(f"campaign-{i}", 1)])
    relay = OutboxRelay(db, kafka_bus(installation, clients), "registration",
                        [f"{installation.prefix}.registration"], 3)
    while relay.run_once():
        pass
    topic = f"{installation.prefix}.registration"
    assert end_total(installation, topic) == 5
    with db.read() as conn:
        third = conn.execute(select(events.c.position).order_by(events.c.position).offset(2).limit(1)).scalar_one()

    code, report = installation.json("republish", "--service", "registration", "--from-position", str(third),
                                     "--wait", "0.5")
    assert code == 1 and report["marked"] == 3  # no relay runs: marked, but still unsent
    while relay.run_once():
        pass
    assert end_total(installation, topic) == 5 + 3
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        code, report = installation.json("republish", "--service", "registration", "--from-position",
                                         str(third), "--wait", "20")
    finally:
        stop.set()
        thread.join(5)
    assert (code, report["marked"], report["unsent"]) == (0, 3, 0)
    assert end_total(installation, topic) == 5 + 3 + 3
    db.dispose()


# -- rebuild -----------------------------------------------------------------------------------------
def snapshot(url: str, service: str) -> dict:
    """Every projection row (and the consumer's processed rows), comparable: sorted, volatile ids left out."""
    spec = service_spec(service)
    keep = set(spec.operational_tables)
    volatile = {("inbox", "id")}  # notifications' inbox items get a fresh uuid when applied
    db = Database(url)
    out = {}
    with db.read() as conn:
        for table in spec.metadata.sorted_tables:
            if table.name in keep:
                continue
            cols = [c for c in table.columns if (table.name, c.name) not in volatile]
            out[table.name] = sorted(tuple(_plain(v) for v in r) for r in conn.execute(select(*cols)))
        out["processed_events"] = sorted(tuple(r) for r in conn.execute(
            select(processed_events.c.consumer, processed_events.c.event_id, processed_events.c.outcome)))
    db.dispose()
    return out


def _plain(value) -> str:
    """JSON text compared by meaning: a live update writes the event's keys in the order the
    command gave them, a rebuild in the stored (canonical, sorted) order."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass
    return str(value)


@pytest.mark.parametrize("service", SERVICES)
def test_a_projection_rebuilt_from_scratch_equals_the_live_one(populated, service):
    installation, _ = populated
    live = snapshot(installation.urls[service], service)
    assert sum(len(rows) for rows in live.values()) > 0
    db = Database(installation.urls[service])
    with db.write() as conn:  # from scratch: the projection and what the consumer remembered are gone
        for table in reversed(service_spec(service).metadata.sorted_tables):
            if table.name not in service_spec(service).operational_tables:
                conn.execute(delete(table))
        conn.execute(delete(processed_events))
    db.dispose()
    assert snapshot(installation.urls[service], service) != live

    result = installation.thidua("rebuild", "--service", service)
    assert result.exit_code == 0, result.output
    assert f"rebuilding {service}" in result.stderr  # the progress bar
    assert snapshot(installation.urls[service], service) == live


def test_a_rebuild_catches_up_with_what_happened_while_it_ran_and_keeps_dead_letters_parked(populated):
    installation, system = populated
    db = Database(installation.urls["awards"])
    with db.write() as conn:  # one followed event had been dead-lettered by the live consumer
        # one that awards applies: an event it ignores would stay 'ignored' after the rebuild
        parked = conn.execute(select(processed_events.c.event_id).where(processed_events.c.consumer == "awards",
                                                                        processed_events.c.outcome == "applied")
                              .limit(1)).scalar_one()
        conn.execute(update(processed_events).where(processed_events.c.event_id == parked)
                     .values(outcome="dead_lettered"))
    from shared.ops.rebuild import Rebuild
    from shared.privacy import protector as privacy
    spec = privacy.protected(service_spec("awards"), privacy.from_settings(installation.settings("awards")))
    followed = {f: Database(installation.urls[f]) for f in spec.follows}
    job = Rebuild(installation.urls["awards"], spec, followed)
    live = snapshot(installation.urls["awards"], "awards")

    def meanwhile(n):  # a command lands in the middle of the rebuild
        if not meanwhile.done:
            meanwhile.done = True
            from tests import scenarios
            from tests.driver import InProcess
            from tests.ops.conftest import SECRET
            scenarios.ad_hoc(InProcess(system, SECRET))
    meanwhile.done = False
    job.progress = meanwhile
    report = job.run()
    assert report["caught_up"] >= 1
    after = snapshot(installation.urls["awards"], "awards")
    assert len(after["nominations"]) == len(live["nominations"]) + 1
    assert (("awards", parked, "applied")) in after["processed_events"]  # it applies now: no longer parked
    for d in followed.values():
        d.dispose()
    db.dispose()


def test_a_rebuild_finds_followed_events_by_id_past_what_it_read_and_before_it(populated):
    """At the swap the rebuild looks up the events the live consumer applied meanwhile: first past
    the last position it read from each store (no index on event ids: a scan of the tail only),
    then in the whole store for any committed late below it (PostgreSQL)."""
    installation, _ = populated
    from shared.ops.rebuild import Rebuild
    from shared.privacy import protector as privacy
    spec = privacy.protected(service_spec("awards"), privacy.from_settings(installation.settings("awards")))
    followed = {f: Database(installation.urls[f]) for f in spec.follows}
    job = Rebuild(installation.urls["awards"], spec, followed)
    name = spec.follows[0]
    with followed[name].read() as conn:
        rows = conn.execute(select(events.c.position, events.c.event_id).order_by(events.c.position)).all()
    (early, early_id), (last, last_id) = rows[0], rows[-1]
    job.read_up_to = {name: last - 1}  # as if it had read all but the last, and the first came late
    try:
        found = job._followed_by_id({early_id, last_id})
        assert sorted((i.source, i.position, i.event.id) for i in found) == [
            (name, early, early_id), (name, last, last_id)]
        with pytest.raises(Exception, match="in none of the followed stores"):
            job._followed_by_id({"00000000-0000-4000-8000-000000000000"})
    finally:
        job.db.dispose()
        for d in followed.values():
            d.dispose()


def test_a_rebuild_without_the_followed_stores_is_refused(populated):
    installation, _ = populated
    # as in the awards containers: their own DATABASE_URL, no other service's
    own = {f"DATABASE_URL_{s.upper()}": None for s in SERVICES}
    result = installation.thidua("rebuild", "--service", "awards", DATABASE_URL=installation.urls["awards"], **own)
    assert result.exit_code == 2 and "DATABASE_URL_REGISTRATION" in result.output


# -- export / import ------------------------------------------------------------------------------------
def stored(url: str, province: str) -> list[tuple]:
    db = Database(url)
    with db.read() as conn:
        rows = conn.execute(select(events.c.event_id, events.c.stream_id, events.c.version, events.c.hash)
                            .where(events.c.province == province).order_by(events.c.position)).all()
    db.dispose()
    return [tuple(r) for r in rows]


def test_a_province_exported_and_imported_into_an_empty_installation_is_the_same_and_republishes(
        populated, fresh_pg_database, tmp_path, kafka_bootstrap, prefix, clients):
    from tests.ops.conftest import Installation
    source, _ = populated
    backup = tmp_path / "33.jsonl"
    code, summary = source.json("export", "--province", "33", str(backup))
    lines = [json.loads(line) for line in backup.read_text().splitlines()]
    assert code == 0 and sum(summary["events"].values()) == len(lines) > 0
    assert {line["event"]["province"] for line in lines} == {"33"}
    assert {line["service"] for line in lines} == {"registration", "evaluation", "awards", "notifications"} - \
        {s for s, n in summary["events"].items() if not n}

    target = Installation({s: fresh_pg_database(f"imp_{s[:5]}") for s in SERVICES}, f"{prefix}-b", kafka_bootstrap)
    target.env["DATA_DIR"] = source.env["DATA_DIR"]  # the key store comes along: it opens the personal fields
    assert target.json("setup")[0] == 0
    code, report = target.json("import", str(backup))
    assert code == 0 and report["imported"] == {s: n for s, n in summary["events"].items() if n}
    for service in SERVICES:
        assert stored(target.urls[service], "33") == stored(source.urls[service], "33")
        assert stored(target.urls[service], "86") == []  # only the province asked for
    for table in ("nominations", "award_history"):  # awards' own events are in its projection at once
        assert [r for r in snapshot(target.urls["awards"], "awards")[table]] == \
               [r for r in snapshot(source.urls["awards"], "awards")[table] if "33" in r]
    db = Database(target.urls["awards"])
    relay = OutboxRelay(db, kafka_bus(target, clients), "awards", [f"{target.prefix}.awards"], 3)
    while relay.run_once():
        pass
    relay._drop_producer()
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one() == 0
    assert end_total(target, f"{target.prefix}.awards") == summary["events"]["awards"]
    db.dispose()

    code, error = target.json("import", str(backup))  # not empty any more
    assert code == 1 and "nothing imported" in error["error"]


def test_an_edited_backup_is_refused_before_anything_is_written(populated, tmp_path):
    installation, _ = populated
    backup = tmp_path / "33.jsonl"
    assert installation.thidua("export", "--province", "33", str(backup)).exit_code == 0
    lines = backup.read_text().splitlines()
    edited = json.loads(lines[0])
    edited["event"]["data"]["title"] = "Một phong trào khác"
    backup.write_text("\n".join([json.dumps(edited, ensure_ascii=False)] + lines[1:]) + "\n")
    code, error = installation.json("import", str(backup))
    assert code == 1 and "does not match its hash" in error["error"]


def test_the_embedded_defaults_sqlite_projection_is_rebuilt_the_same_way(system, tmp_path):
    """SQLite: the shadow is an attached file beside the database, removed afterwards."""
    from tests import scenarios
    from tests.driver import InProcess
    from tests.unit.conftest import SECRET as UNIT_SECRET
    scenarios.ad_hoc(InProcess(system, UNIT_SECRET))
    scenarios.gia_lai(InProcess(system, UNIT_SECRET))
    system.drain()  # the live consumers have applied all there is (a rebuild reads the stores: never behind)
    urls = {s: f"sqlite:///{tmp_path}/{s}.db" for s in SERVICES}
    for service in ("awards", "notifications"):
        live = snapshot(urls[service], service)
        result = CliRunner().invoke(main, ["rebuild", "--service", service, "--json"], catch_exceptions=False,
                                    env={"DATA_DIR": str(tmp_path), "JWT_SECRET": UNIT_SECRET, "DATABASE_URL": None,
                                         **{f"DATABASE_URL_{s.upper()}": None for s in SERVICES}})
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["followed"] > 0
        assert snapshot(urls[service], service) == live
        assert not list(tmp_path.glob("*.rebuild*"))
