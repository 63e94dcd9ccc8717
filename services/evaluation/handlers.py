"""Command handlers of evaluation; the routing table is at the bottom."""
from sqlalchemy import Connection, select

from shared.aggregate import CommandContext, rehydrate, record
from shared.envelope import Envelope
from shared.errors import NotYetSeen
from shared.eventstore import EventStore

from services.evaluation import domain
from services.evaluation.projections import OWN_EVENTS, candidates, orgchart, uploads


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def criteria_set_stream(store: EventStore, conn: Connection, province: str,
                        set_id: str) -> tuple[str, domain.CriteriaSet]:
    """A province's criteria set and its stream, ``criteria-<province>:<id>``: ids are each
    province's own. A set defined before that lives on in its old stream ``criteria-<id>``
    when that stream is this province's; another province's old stream is not this one's set."""
    stream = f"criteria-{province}:{set_id}"
    if not store.version(conn, stream):
        legacy = store.load(conn, f"criteria-{set_id}")
        if legacy and legacy[0].province == province:
            criteria_set = domain.CriteriaSet(set_id)
            for event in legacy:
                criteria_set.apply(event.type, event.data, event.province)
            return f"criteria-{set_id}", criteria_set
    return stream, rehydrate(store, conn, stream, domain.CriteriaSet(set_id))


def define_criteria_set(store: EventStore, conn: Connection, cmd: domain.DefineCriteriaSet,
                        ctx: CommandContext) -> Envelope:
    stream, criteria_set = criteria_set_stream(store, conn, cmd.province, cmd.criteria_set_id)
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
    uploads.check(conn, cmd.province, list(cmd.documents), "documents")
    units = orgchart.ancestors(conn, cmd.province, candidate["unit_id"]) if candidate["unit_id"] else []
    _, criteria_set = criteria_set_stream(store, conn, cmd.province, cmd.criteria_set_id)
    stream = f"evaluation-{cmd.registration_id}"
    evaluation = rehydrate(store, conn, stream, domain.Evaluation(cmd.registration_id))
    return _record(store, conn, stream, evaluation, domain.REGISTRATION_EVALUATED,
                   evaluation.evaluate(cmd, dict(candidate), criteria_set, units), ctx)


COMMAND_HANDLERS = {
    domain.DefineCriteriaSet: define_criteria_set,
    domain.EvaluateRegistration: evaluate_registration,
}
