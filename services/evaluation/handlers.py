"""Command handlers of evaluation; the routing table is at the bottom."""
from dataclasses import replace

from sqlalchemy import Connection, select

from shared.aggregate import CommandContext, rehydrate, record
from shared.envelope import Envelope
from shared.errors import NotYetSeen
from shared.eventstore import EventStore

from services.evaluation import councils, domain
from services.evaluation.projections import OWN_EVENTS, ballots, candidates, orgchart, uploads


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
    candidate = _candidate(conn, cmd.province, cmd.registration_id)
    uploads.check(conn, cmd.province, list(cmd.documents), "documents")
    units = orgchart.ancestors(conn, cmd.province, candidate["unit_id"]) if candidate["unit_id"] else []
    _, criteria_set = criteria_set_stream(store, conn, cmd.province, cmd.criteria_set_id)
    stream = f"evaluation-{cmd.registration_id}"
    evaluation = rehydrate(store, conn, stream, domain.Evaluation(cmd.registration_id))
    return _record(store, conn, stream, evaluation, domain.REGISTRATION_EVALUATED,
                   evaluation.evaluate(cmd, candidate, criteria_set, units), ctx)


def _candidate(conn: Connection, province: str, registration_id: str) -> dict:
    candidate = conn.execute(select(candidates).where(
        candidates.c.registration_id == registration_id,
        candidates.c.province == province)).mappings().first()
    if candidate is None:
        raise NotYetSeen(f"Bình xét chưa nhận được đăng ký thi đua {registration_id}: nếu vừa đăng ký, "
                         "hãy thử lại sau giây lát", rule="evaluation.registration_known")
    return dict(candidate)


def council_stream(province: str, council_id: str) -> str:
    return f"council-{province}:{council_id}"


def ballot_stream(province: str, ballot_id: str) -> str:
    return f"ballot-{province}:{ballot_id}"


def _council(store, conn, province, council_id) -> tuple[str, councils.Council]:
    stream = council_stream(province, council_id)
    return stream, rehydrate(store, conn, stream, councils.Council(council_id))


def _ballot(store, conn, province, ballot_id) -> tuple[str, councils.Ballot]:
    stream = ballot_stream(province, ballot_id)
    return stream, rehydrate(store, conn, stream, councils.Ballot(ballot_id))


def form_council(store: EventStore, conn: Connection, cmd: councils.FormCouncil, ctx: CommandContext) -> Envelope:
    stream, council = _council(store, conn, cmd.province, cmd.council_id)
    return _record(store, conn, stream, council, councils.COUNCIL_FORMED, council.form(cmd), ctx)


def add_member(store: EventStore, conn: Connection, cmd: councils.AddMember, ctx: CommandContext) -> Envelope:
    stream, council = _council(store, conn, cmd.province, cmd.council_id)
    return _record(store, conn, stream, council, councils.MEMBER_ADDED, council.add_member(cmd), ctx)


def declare_interest(store: EventStore, conn: Connection, cmd: councils.DeclareInterest,
                     ctx: CommandContext) -> Envelope:
    """The declaration, and at once the recusal from every open ballot of this council on that candidate."""
    stream, council = _council(store, conn, cmd.province, cmd.council_id)
    declared = _record(store, conn, stream, council, councils.INTEREST_DECLARED, council.declare_interest(cmd), ctx)
    open_ = conn.execute(select(ballots.c.id, ballots.c.registration_id).where(
        ballots.c.province == cmd.province, ballots.c.council_id == cmd.council_id,
        ballots.c.participant_id == cmd.participant_id, ballots.c.status == "open")).all()
    for ballot_id, registration_id in open_:
        b_stream, ballot = _ballot(store, conn, cmd.province, ballot_id)
        recusal = ballot.recuse_declared(cmd.person_id)
        if recusal is not None:  # part of the candidate's story, caused by the declaration
            _record(store, conn, b_stream, ballot, councils.MEMBER_RECUSED, recusal,
                    replace(ctx.caused_by(declared.id), correlation_id=f"registration-{registration_id}"))
    return declared


def open_ballot(store: EventStore, conn: Connection, cmd: councils.OpenBallot, ctx: CommandContext) -> Envelope:
    """The candidate comes before the council: the ballot opens and the members with a conflict of
    interest are recused, each by an event caused by the opening."""
    candidate = _candidate(conn, cmd.province, cmd.registration_id)
    _, council = _council(store, conn, cmd.province, cmd.council_id)
    unit = candidate["unit_id"]
    in_unit = {p for p, m in council.members.items() if orgchart.within(conn, cmd.province, m["unit_id"], unit)}
    own_unit = orgchart.within(conn, cmd.province, council.unit_id, unit)
    conflicts = councils.recusals(council, candidate, in_unit, own_unit)
    stream, ballot = _ballot(store, conn, cmd.province, cmd.ballot_id)
    in_council_unit = orgchart.within(conn, cmd.province, unit, council.unit_id)
    (type_, data), *recused = ballot.open(cmd, council, candidate, in_council_unit, conflicts)
    opened = _record(store, conn, stream, ballot, type_, data, ctx)
    for type_, data in recused:  # each recusal is caused by the opening, not by the recusal before it
        _record(store, conn, stream, ballot, type_, data, ctx.caused_by(opened.id))
    return opened


def cast_vote(store: EventStore, conn: Connection, cmd: councils.CastVote, ctx: CommandContext) -> Envelope:
    stream, ballot = _ballot(store, conn, cmd.province, cmd.ballot_id)
    return _record(store, conn, stream, ballot, councils.VOTE_CAST, ballot.cast(cmd), ctx)


def close_ballot(store: EventStore, conn: Connection, cmd: councils.CloseBallot, ctx: CommandContext) -> Envelope:
    stream, ballot = _ballot(store, conn, cmd.province, cmd.ballot_id)
    return _record(store, conn, stream, ballot, councils.BALLOT_CLOSED, ballot.close(cmd), ctx)


COMMAND_HANDLERS = {
    domain.DefineCriteriaSet: define_criteria_set,
    domain.EvaluateRegistration: evaluate_registration,
    councils.FormCouncil: form_council,
    councils.AddMember: add_member,
    councils.DeclareInterest: declare_interest,
    councils.OpenBallot: open_ballot,
    councils.CastVote: cast_vote,
    councils.CloseBallot: close_ballot,
}
