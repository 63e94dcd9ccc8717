"""The operator's commands of ``thidua`` (registered on :data:`shared.cli.main`).

Every command takes ``--json`` and exits 0 when done, 1 when it ran and found a problem,
2 on bad usage or configuration (including a database not migrated yet), 3 when the
database or the broker did not answer. With ``--json`` an error that ends a command
before its report is printed as ``{"error": ..., "exit_code": ...}`` on standard output,
so that a script always reads one JSON document; the message goes to stderr as well.

A service's database is ``DATABASE_URL_<SERVICE>`` or else ``DATABASE_URL`` (or the
embedded default's SQLite file); a command that touches several services' databases
needs the ``DATABASE_URL_<SERVICE>`` of each when ``DATABASE_URL`` is set, since one URL
cannot name four databases.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from shared import config
from shared.bus import BusUnavailable

SERVICES = ("registration", "evaluation", "awards", "notifications")
service_option = click.option("--service", "services", multiple=True, type=click.Choice(SERVICES),
                              help="repeat for several; default: every service")
one_service = click.option("--service", required=True, type=click.Choice(SERVICES))
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")


class Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def problem(message: str) -> Failure:
    return Failure(message, 1)


_emitted = {"yes": False}


def emit(as_json: bool, payload, text: str) -> None:
    _emitted["yes"] = True
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str) if as_json else text)


def operation(fn):
    """Maps what went wrong to the exit codes, and prints it as JSON under ``--json``."""
    from shared.migrations import SchemaNotCurrent

    @functools.wraps(fn)
    def run(*args, **kwargs):
        as_json = kwargs.get("as_json", False)
        _emitted["yes"] = False
        try:
            return fn(*args, **kwargs)
        except BusUnavailable as exc:
            failure = Failure(f"the broker did not answer: {exc}", 3)
        except (config.ConfigError, SchemaNotCurrent) as exc:
            failure = Failure(str(exc), 2)
        except DBAPIError as exc:
            failure = _database_failure(exc)
        except Failure as exc:
            failure = exc
        if as_json and not _emitted["yes"]:  # a report already printed is the output; the code says the rest
            click.echo(json.dumps({"error": failure.message, "exit_code": failure.exit_code}, ensure_ascii=False))
        raise failure
    return run


def _database_failure(exc: DBAPIError) -> Failure:
    text = str(exc.orig)
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return Failure(f"the database has no schema yet: run `thidua migrate` ({text.splitlines()[0]})", 2)
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return Failure(f"the database did not answer: {text.splitlines()[0] if text else exc}", 3)
    return Failure(f"database error: {text}", 1)


# -- settings -----------------------------------------------------------------------
def settings(service: str, several: bool = False) -> config.Settings:
    env = dict(os.environ)
    if not env.get("JWT_SECRET"):  # operator commands sign nothing; the embedded default's key, or a stand-in
        env["JWT_SECRET"] = _dev_secret() or "operator-commands-sign-nothing-" + "x" * 8
    specific = env.get(f"DATABASE_URL_{service.upper()}")
    if specific:
        env["DATABASE_URL"] = specific
    elif several and env.get("DATABASE_URL"):
        raise config.ConfigError(f"DATABASE_URL names one database; set DATABASE_URL_{service.upper()} "
                                 "for each service this command touches")
    return config.load(service, env)


def chosen(services: tuple[str, ...]) -> list[str]:
    return list(services) or list(SERVICES)


def database(service: str, several: bool = False):
    from shared.db import Database
    return Database(settings(service, several).database_url)


def kafka(service: str = "registration"):
    from shared.ops.kafka import KafkaOps
    return KafkaOps(settings(service).kafka())


def _dev_secret() -> str | None:
    path = Path(os.environ.get("DATA_DIR", "data")) / "jwt_secret"
    return path.read_text().strip() if path.exists() else None


def spec_of(service: str):
    from shared.stack import service_spec
    return service_spec(service)


# -- migrate ----------------------------------------------------------------------------
@click.command()
@service_option
@json_option
@operation
def migrate(services, as_json):
    """Upgrade each service's database to the code's schema (Alembic, upgrade head)."""
    report = migrate_services(chosen(services))
    emit(as_json, report, "\n".join(f"{r['service']}: {r['from'] or 'empty'} -> {r['to']}" for r in report))


def migrate_services(names: list[str]) -> list[dict]:
    from shared import migrations
    report = []
    for name in names:
        db = database(name, several=len(names) > 1)
        try:
            state = migrations.upgrade(db, name)
        finally:
            db.dispose()
        report.append({"service": name, "from": state.current, "to": state.head})
    return report


@click.command()
@one_service
@click.option("-m", "--message", required=True)
@json_option
@operation
def revision(service, message, as_json):
    """Write a new migration of SERVICE from what its tables in the code say (autogenerate)."""
    import shutil
    import tempfile

    from alembic import command

    from shared import migrations
    from shared.db import Database
    folder = tempfile.mkdtemp(prefix="thidua-revision-")
    db = Database(f"sqlite:///{folder}/head.db")
    try:
        migrations.upgrade(db, service)
        with db.read() as conn:
            if not migrations.differences(conn, service):
                raise problem(f"the {service} tables in the code are those of revision "
                              f"{migrations.head(service)}: nothing to write")
        with db.write() as conn:
            script = command.revision(migrations.alembic_config(service, conn), message=message,
                                      autogenerate=True, rev_id=f"{int(migrations.head(service)) + 1:04d}")
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    emit(as_json, {"service": service, "revision": script.revision, "path": script.path}, script.path)


# -- topics -----------------------------------------------------------------------------
@click.group()
def topics():
    """The Kafka topics: every service's events topic and its dead-letter topic."""


@topics.command("create")
@service_option
@json_option
@operation
def topics_create(services, as_json):
    """Create the missing topics with their partitions and retention (existing ones are left alone)."""
    from shared.ops import topics as ops
    client = kafka()
    try:
        report = ops.create(client, [t for s in chosen(services) for t in ops.wanted(settings(s))])
    finally:
        client.close()
    emit(as_json, report, "\n".join(f"{r['topic']}: {'created' if r['created'] else 'exists'}" for r in report))


@topics.command("check")
@service_option
@json_option
@operation
def topics_check(services, as_json):
    """Check that every topic exists with its partitions, replication and retention; exit 1 if not."""
    from shared.ops import topics as ops
    client = kafka()
    try:
        report = ops.check(client, [t for s in chosen(services) for t in ops.wanted(settings(s))])
    finally:
        client.close()
    emit(as_json, report, "\n".join(
        f"{r['topic']}: " + ("; ".join(r["problems"]) if r["problems"] else
                             f"ok ({r['partitions']} partitions, retention.ms {r['retention_ms'] or 'not reported'})")
        for r in report))
    if any(r["problems"] for r in report):
        raise problem("some topics are not as they should be")


# -- lag --------------------------------------------------------------------------------
@click.command()
@service_option
@click.option("--max-messages", type=int, default=None, help="exit 1 when a partition is further behind")
@click.option("--max-seconds", type=float, default=None, help="exit 1 when the oldest unconsumed record is older")
@json_option
@operation
def lag(services, max_messages, max_seconds, as_json):
    """Each consumer group's lag per partition, in messages and in seconds."""
    from shared.ops.lag import group_lag
    client = kafka()
    rows = []
    try:
        for name in chosen(services):
            spec, s = spec_of(name), settings(name)
            if spec.follows:
                rows += group_lag(client, s.group, [config.topic_of(s.topic_prefix, f) for f in spec.follows])
    finally:
        client.close()
    over = [r for r in rows if (max_messages is not None and r["lag"] > max_messages)
            or (max_seconds is not None and (r["seconds"] or 0) > max_seconds)]
    emit(as_json, rows, "\n".join(
        f"{r['group']:<28} {r['topic']:<26} p{r['partition']}  committed {r['committed'] if r['committed'] is not None else '-':>6}"
        f"  end {r['end']:>6}  lag {r['lag']:>6}  {r['seconds'] if r['seconds'] is not None else '?'} s"
        for r in rows) or "no consumer groups")
    if over:
        raise problem(f"{len(over)} partitions are behind the limit")


# -- dead letters -------------------------------------------------------------------------
@click.group()
def dlq():
    """Dead letters of a service's consumer: list, show, redrive."""


def _letters(service, keep_open: bool = False):
    """The DLQ topic of SERVICE, its dead letters and their states (and the clients, if kept open)."""
    from shared.consumer import dlq_topic
    from shared.ops import dlq as ops
    s = settings(service)
    topic = dlq_topic(s.topic_prefix, service)
    client, db = kafka(service), database(service)
    try:
        letters = ops.read(client, topic)
        found = topic, letters, ops.states(db, letters)
    except BaseException:
        client.close()
        db.dispose()
        raise
    if keep_open:
        return (*found, client, db)
    client.close()
    db.dispose()
    return found


@dlq.command("list")
@one_service
@click.option("--parked", is_flag=True, help="only those still waiting for a redrive")
@json_option
@operation
def dlq_list(service, parked, as_json):
    """Every dead letter of SERVICE with its reason and state (parked, pending, applied, ignored)."""
    topic, letters, state = _letters(service)
    rows = [dl.summary(state[dl.id]) for dl in letters if not parked or state[dl.id] == "parked"]
    emit(as_json, rows, "\n".join(f"{r['id']:<8} {r['state']:<8} {r['type'] or '?':<40} {r['event_id'] or '-'}\n"
                                  f"         {r['reason']}" for r in rows) or f"{topic}: no dead letters")


@dlq.command("show")
@one_service
@click.argument("ident")
@json_option
@operation
def dlq_show(service, ident, as_json):
    """One dead letter, by partition:offset or event id: headers, reason and the whole event."""
    from shared.ops import dlq as ops
    topic, letters, state = _letters(service)
    letter = ops.find(letters, ident)
    if letter is None:
        raise problem(f"{topic} has no dead letter {ident}")
    detail = letter.detail(state[letter.id])
    emit(as_json, detail, json.dumps(detail, ensure_ascii=False, indent=2))


@dlq.command("redrive")
@one_service
@click.argument("ident", required=False)
@click.option("--all", "everything", is_flag=True, help="every parked dead letter")
@json_option
@operation
def dlq_redrive(service, ident, everything, as_json):
    """Apply a dead letter again: forget that it was dead-lettered, and send it to its topic again."""
    from shared.ops import dlq as ops
    if bool(ident) == everything:
        raise click.UsageError("name one dead letter (partition:offset or event id), or --all")
    topic, letters, state, client, db = _letters(service, keep_open=True)
    try:
        if everything:
            todo = ops.parked(letters, state)
        else:
            letter = ops.find(letters, ident)
            if letter is None:
                raise problem(f"{topic} has no dead letter {ident}")
            todo = [letter]
        report = [ops.redrive(db, client, topic, dl) for dl in todo]
    finally:
        client.close()
        db.dispose()
    emit(as_json, report, "\n".join(
        f"{r['id']} {r['event_id']}: " + (f"redriven to {r['to']}" if r["redriven"] else f"not redriven: {r['why']}")
        for r in report) or "nothing to redrive")
    if not everything and not all(r["redriven"] for r in report):
        raise problem(report[0]["why"])


# -- republish ------------------------------------------------------------------------------
@click.command()
@one_service
@click.option("--from-position", type=click.IntRange(min=0), required=True, help="store position to start at")
@click.option("--wait", "wait_s", type=float, default=0.0, help="seconds to wait for the relay to send them")
@json_option
@operation
def republish(service, from_position, wait_s, as_json):
    """Send SERVICE's events again from a store position on: marks them unsent; its relay sends them."""
    from sqlalchemy import func, select

    from shared.eventstore import UNSENT, outbox
    from shared.relay import mark_unsent
    db = database(service)
    try:
        marked = mark_unsent(db, from_position)
        deadline, backlog = time.monotonic() + wait_s, marked
        while True:
            with db.read() as conn:
                backlog = conn.execute(select(func.count()).select_from(outbox).where(UNSENT)).scalar_one()
            if not backlog or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
    finally:
        db.dispose()
    report = {"service": service, "from_position": from_position, "marked": marked, "unsent": backlog}
    emit(as_json, report, f"{service}: {marked} events marked for sending again; {backlog} not sent yet")
    if wait_s and backlog:
        raise problem(f"{backlog} events still unsent after {wait_s}s: is the {service} worker running?")


# -- rebuild ----------------------------------------------------------------------------------
@click.command()
@one_service
@json_option
@operation
def rebuild(service, as_json):
    """Rebuild SERVICE's projection from its store and the stores of the services it follows,
    in fresh tables, swapped in only when complete. Needs DATABASE_URL_<S> of each followed service."""
    from shared.ops.rebuild import Rebuild, RebuildFailed
    from shared.privacy import protector as privacy
    spec = spec_of(service)
    several = bool(spec.follows)
    followed = {f: database(f, several=True) for f in spec.follows}
    conf = settings(service, several)
    spec = privacy.protected(spec, privacy.from_settings(conf))  # the events read opened (or erased)
    job = Rebuild(conf.database_url, spec, followed)
    try:
        with click.progressbar(length=job.total(), label=f"rebuilding {service}", file=sys.stderr) as bar:
            job.progress = bar.update
            report = job.run()
    except RebuildFailed as exc:
        raise problem(f"rebuild of {service} stopped, nothing was changed: {exc}") from exc
    finally:
        for db in followed.values():
            db.dispose()
    emit(as_json, report, f"{service}: rebuilt {', '.join(report['tables'])} from {report['own']} own and "
                          f"{report['followed']} followed events ({report['caught_up']} caught up at the swap, "
                          f"{report['dead_lettered']} still dead-lettered)")


# -- export / import ----------------------------------------------------------------------------
@click.command("export")
@click.option("--province", required=True)
@click.argument("file", type=click.File("w", encoding="utf-8"))
@service_option
@json_option
@operation
def export_(province, file, services, as_json):
    """Write every event of PROVINCE from every service's store to FILE (JSON lines; - for stdout)."""
    from shared.ops import backup
    names, counts = chosen(services), {}
    for name in names:
        db = database(name, several=len(names) > 1)
        try:
            counts[name] = backup.write(file, backup.export_lines(name, db, province))
        finally:
            db.dispose()
    summary = {"province": province, "events": counts}
    if getattr(file, "name", "-") in ("-", "<stdout>"):  # the events went to stdout: the summary may not
        click.echo(json.dumps(summary, ensure_ascii=False), err=True)
    else:
        emit(as_json, summary, f"province {province}: " + ", ".join(f"{n} {c}" for n, c in counts.items()))


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@json_option
@operation
def import_(file, as_json):
    """Append the events of FILE (from `thidua export`) to empty stores; the relays then publish them.
    Their personal fields open with the key store they were sealed with (KEYSTORE_URL)."""
    from shared.ops import backup
    from shared.privacy import protector as privacy
    try:
        by_service = backup.read(file)
    except backup.ImportRefused as exc:
        raise problem(str(exc)) from exc
    unknown = sorted(set(by_service) - set(SERVICES))
    if unknown:
        raise problem(f"the file names unknown services: {', '.join(unknown)}")
    several = len(by_service) > 1
    dbs = {name: database(name, several) for name in by_service}
    try:
        for name, lines in by_service.items():  # check everything before writing anything
            if found := backup.verify(lines, getattr(settings(name, several), "chain_key", b"")):
                raise problem(f"{len(found)} problems in the file, nothing imported; first: {found[0]}")
            if reason := backup.refusal(dbs[name], name, lines):
                raise problem(f"{reason}; nothing imported")
        # the projections are given the events opened: the key store must be the exported events' own
        counts = {name: backup.import_lines(dbs[name], privacy.protected(spec_of(name), privacy.from_settings(
                      settings(name, several))), settings(name, several).topic, lines)
                  for name, lines in by_service.items()}
    except backup.ImportRefused as exc:
        raise problem(str(exc)) from exc
    finally:
        for db in dbs.values():
            db.dispose()
    emit(as_json, {"imported": counts}, "imported " + ", ".join(f"{n} {c}" for n, c in counts.items()))


# -- verify / anchor ---------------------------------------------------------------------------
@click.command()
@service_option
@json_option
@operation
def verify(services, as_json):
    """Check every chain of every stream of each service's store against its head rows and its last
    signed digest: an edited or removed event, a stream cut short or deleted, a truncated store."""
    from shared import anchors
    names, reports = chosen(services), []
    for name in names:
        s = settings(name, several=len(names) > 1)
        digest, bad = anchors.read_digest(s.anchor_dir, name, s.anchor_key) if s.anchor_key else (None, None)
        db = database(name, several=len(names) > 1)
        try:
            with db.read() as conn:
                findings, counts = anchors.verify_store(conn, name, s.chain_key, digest)
        finally:
            db.dispose()
        if bad is not None:
            findings.insert(0, bad)
        elif s.anchor_key and digest is None:
            findings.insert(0, anchors.Finding(name, "digest_missing", f"không có bản tóm tắt đã ký của {name} trong "
                                               f"{s.anchor_dir} — chưa công bố, hoặc đã bị xóa (digest missing)"))
        reports.append({**counts, "findings": [f.as_json() for f in findings]})
    found = sum(len(r["findings"]) for r in reports)
    emit(as_json, {"verified": not found, "services": reports}, "\n".join(_verify_text(r) for r in reports))
    if found:
        raise problem(f"{found} problem(s) found in the stores")


def _verify_text(report: dict) -> str:
    from shared.anchors import KINDS
    anchored = f"digest of {report['digest_time']} ({report['anchored']} streams)" if report["digest_time"] \
        else "no digest"
    lines = [f"{report['service']}: {report['streams']} streams, {report['events']} events, "
             f"{report['heads']} heads, {anchored}: " + ("OK" if not report["findings"] else "PROBLEMS")]
    lines += [f"  ✗ {KINDS[f['kind']]}: {f['message']}" for f in report["findings"]]
    return "\n".join(lines)


@click.command()
@service_option
@json_option
@operation
def anchor(services, as_json):
    """Publish each service's signed digest of its chain heads now (the workers do it every
    ANCHOR_INTERVAL_S); after a legitimate restore, this anchors the restored store."""
    from shared import anchors
    names, done = chosen(services), []
    for name in names:
        s = settings(name, several=len(names) > 1)
        if not s.anchor_key:
            raise Failure("ANCHOR_KEY is not set: a digest is signed with a key kept outside the store", 2)
        db = database(name, several=len(names) > 1)
        try:
            done.append({"service": name, "digest": str(anchors.publish(db, name, s.anchor_key, s.anchor_dir))})
        finally:
            db.dispose()
    emit(as_json, done, "\n".join(f"{d['service']}: {d['digest']}" for d in done))


# -- forget -------------------------------------------------------------------------------------
@click.command()
@click.argument("person")
@click.option("--province", required=True)
@click.option("--reference", required=True, help="the person's request (its number): no personal data")
@json_option
@operation
def forget(person, province, reference, as_json):
    """Erase PERSON's personal data in PROVINCE: destroy their key and record the erasure, which
    every service follows (registration's worker publishes it). The events and chains stay."""
    from shared.aggregate import CommandContext
    from shared.clock import from_env, today
    from shared.envelope import Actor
    from shared.errors import ApiError
    from shared.eventstore import EventStore
    from shared.privacy import protector as privacy
    from services.registration import erasure
    conf = settings("registration")
    db = database("registration")
    store = EventStore(conf.topic, conf.chain_key, privacy.from_settings(conf))
    cmd = erasure.ErasePerson(person, province, reference, today(from_env()))
    ctx = CommandContext(source="registration", province=province, actor=Actor("thidua-cli", "operator"),
                         correlation_id=erasure.stream_of(province, person),
                         causation_id=f"command:{CommandContext.new_id()}")
    try:
        with db.write() as conn:
            event = erasure.erase_person(store, conn, cmd, ctx)
    except ApiError as exc:
        raise problem(str(exc)) from exc
    finally:
        db.dispose()
    emit(as_json, {**event.data, "province": province, "event_id": event.id},
         f"{person} ({province}): key {'destroyed' if event.data['key_destroyed'] else 'already gone'}, "
         f"erasure recorded as event {event.id}")


COMMANDS = [migrate, revision, topics, lag, dlq, republish, rebuild, export_, import_, verify, anchor, forget]
