"""Command handlers of notifications; the routing table is at the bottom."""
from sqlalchemy import Connection

from shared.aggregate import CommandContext, Stream, rehydrate, record
from shared.envelope import Envelope
from shared.eventstore import EventStore

from services.notifications import domain
from services.notifications.projections import OWN_EVENTS


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def _stream(store, conn, stream_id) -> Stream:
    return rehydrate(store, conn, stream_id, Stream(stream_id))


def register_recipient(store: EventStore, conn: Connection, cmd: domain.RegisterRecipient,
                       ctx: CommandContext) -> Envelope:
    stream = f"recipient-{cmd.province}-{cmd.recipient_id}"
    return _record(store, conn, stream, _stream(store, conn, stream), domain.RECIPIENT_REGISTERED,
                   domain.register_recipient(cmd), ctx)


def define_reminder_days(store: EventStore, conn: Connection, cmd: domain.DefineReminderDays,
                         ctx: CommandContext) -> Envelope:
    stream = f"reminder-settings-{cmd.province}"
    return _record(store, conn, stream, _stream(store, conn, stream), domain.REMINDER_SETTINGS_DEFINED,
                   domain.define_reminder_days(cmd), ctx)


def remind_deadline(store: EventStore, conn: Connection, cmd: domain.RemindDeadline,
                    ctx: CommandContext) -> Envelope | None:
    stream = f"reminder-{cmd.key}"
    reminder = _stream(store, conn, stream)
    data = domain.remind(reminder, cmd)
    return None if data is None else _record(store, conn, stream, reminder, domain.DEADLINE_REMINDED, data, ctx)


COMMAND_HANDLERS = {
    domain.RegisterRecipient: register_recipient,
    domain.DefineReminderDays: define_reminder_days,
    domain.RemindDeadline: remind_deadline,
}
