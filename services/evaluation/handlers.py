"""Command handlers of evaluation; the routing table is at the bottom."""
from sqlalchemy import Connection, select

from shared.aggregate import CommandContext, rehydrate, record
from shared.envelope import Envelope
from shared.errors import NotYetSeen
from shared.eventstore import EventStore

from services.evaluation import domain
from services.evaluation.projections import OWN_EVENTS, candidates


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def define_criteria_set(store: EventStore, conn: Connection, cmd: domain.DefineCriteriaSet,
                        ctx: CommandContext) -> Envelope:
    stream = f"criteria-{cmd.criteria_set_id}"
    criteria_set = rehydrate(store, conn, stream, domain.CriteriaSet(cmd.criteria_set_id))
    return _record(store, conn, stream, criteria_set, domain.CRITERIA_SET_DEFINED,
                   criteria_set.define(cmd), ctx)


def evaluate_registration(store: EventStore, conn: Connection, cmd: domain.EvaluateRegistration,
                          ctx: CommandContext) -> Envelope:
    candidate = conn.execute(select(candidates).where(
        candidates.c.registration_id == cmd.registration_id,
        candidates.c.province == cmd.province)).mappings().first()
    if candidate is None:
        raise NotYetSeen(f"Bình xét chưa nhận được đăng ký thi đua {cmd.registration_id}: nếu vừa đăng ký, "
                         "hãy thử lại sau giây lát", rule="evaluation.registration_known")
    criteria_set = rehydrate(store, conn, f"criteria-{cmd.criteria_set_id}",
                             domain.CriteriaSet(cmd.criteria_set_id))
    stream = f"evaluation-{cmd.registration_id}"
    evaluation = rehydrate(store, conn, stream, domain.Evaluation(cmd.registration_id))
    return _record(store, conn, stream, evaluation, domain.REGISTRATION_EVALUATED,
                   evaluation.evaluate(cmd, dict(candidate), criteria_set), ctx)


COMMAND_HANDLERS = {
    domain.DefineCriteriaSet: define_criteria_set,
    domain.EvaluateRegistration: evaluate_registration,
}
