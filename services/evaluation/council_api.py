"""HTTP API of councils (Hội đồng Thi đua – Khen thưởng): members, declarations of interest, ballots.

Who may act: a council of a unit is formed, staffed and its ballots opened and closed by the
``council`` role (the standing body, the secretary) of that unit or a unit above it (a token
with no unit acts for the whole province, as the province's council evaluates); the principal
of a school (``unit_head``) forms and staffs the school's council. A member declares an interest
and casts a vote as themself: the token's subject is the member's person id.
"""
import uuid

from flask.views import MethodView
from sqlalchemy import select

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import Forbidden, NotFound
from shared.service import execute, runtime

from services.evaluation import councils, handlers
from services.evaluation.projections import ballot_recusals, ballots, council_members, orgchart
from services.evaluation.projections import councils as council_rows
from services.evaluation.schemas import (BallotResultSchema, BallotViewSchema, CouncilSchema, CouncilViewSchema,
                                         InterestSchema, InterestViewSchema, MemberSchema, OpenBallotSchema,
                                         VoteSchema)

blp = Blueprint("councils", __name__, description="Hội đồng thi đua – khen thưởng: thành viên, xung đột lợi ích, "
                                                  "bỏ phiếu")

FORMERS = ("council", "unit_head", "department")
SECRETARIES = ("council",)
MEMBERS = ("council",)


def _in_scope(principal: auth.Principal, province: str, unit_id: str) -> None:
    """A unit's council is run from that unit or one above it; a token without a unit is the province's."""
    if principal.unit is None:
        return
    with runtime().db.read() as conn:
        inside = orgchart.within(conn, province, unit_id, principal.unit)
    if not inside:
        raise Forbidden(f"Hội đồng của đơn vị {unit_id} không thuộc đơn vị {principal.unit} của người gọi hay đơn vị "
                        "trực thuộc", rule="auth.unit_scope",
                        errors={"unit_id": ["ngoài đơn vị của người gọi (outside the caller's unit)"]})


def _run(command, province: str, correlation_id: str):
    return execute(handlers.COMMAND_HANDLERS, command, province, correlation_id)


@blp.route("/councils")
class Councils(MethodView):
    @blp.arguments(CouncilSchema)
    @blp.response(201, CouncilViewSchema)
    def post(self, body):
        """Thành lập hội đồng thi đua – khen thưởng của một đơn vị (for a term, e.g. a school year)."""
        principal = auth.require_role(*FORMERS)
        province = auth.province_for(body["province"])
        _in_scope(principal, province, body["unit_id"])
        cmd = councils.FormCouncil(body["id"], province, body["name"], body["unit_id"], body["term"])
        _run(cmd, province, handlers.council_stream(province, cmd.council_id))
        return _council(cmd.council_id, province)


@blp.route("/councils/<council_id>")
class CouncilOne(MethodView):
    @blp.response(200, CouncilViewSchema)
    def get(self, council_id):
        return _council(council_id)


@blp.route("/councils/<council_id>/members")
class CouncilMembers(MethodView):
    @blp.arguments(MemberSchema)
    @blp.response(201, CouncilViewSchema)
    def post(self, body, council_id):
        """Thêm thành viên hội đồng (a person, their unit and their position in the council)."""
        principal = auth.require_role(*FORMERS)
        council = _council(council_id)
        province = auth.province_for(council["province"])
        _in_scope(principal, province, council["unit_id"])
        _run(councils.AddMember(council_id, province, **body), province, handlers.council_stream(province, council_id))
        return _council(council_id, province)


@blp.route("/councils/<council_id>/interests")
class Interests(MethodView):
    @blp.arguments(InterestSchema)
    @blp.response(201, InterestViewSchema)
    def post(self, body, council_id):
        """Khai báo xung đột lợi ích: the member leaves the candidate's ballots and appraisal."""
        principal = auth.require_role(*MEMBERS)
        auth.check_own("person_id", body["person_id"], principal.subject, "Thành viên khai báo")
        province = auth.province_for(_council(council_id)["province"])
        cmd = councils.DeclareInterest(council_id, province, principal.subject, body["participant_id"],
                                       body["reason"])
        _run(cmd, province, handlers.council_stream(province, council_id))
        with runtime().db.read() as conn:
            left = conn.execute(select(ballot_recusals.c.ballot_id)
                                .join(ballots, ballots.c.id == ballot_recusals.c.ballot_id)
                                .where(ballots.c.council_id == council_id, ballots.c.province == province,
                                       ballots.c.participant_id == cmd.participant_id,
                                       ballot_recusals.c.person_id == cmd.person_id)).scalars().all()
        return {"council_id": council_id, "person_id": cmd.person_id, "participant_id": cmd.participant_id,
                "recused_from": left}


@blp.route("/ballots")
class Ballots(MethodView):
    @blp.arguments(OpenBallotSchema)
    @blp.response(201, BallotViewSchema)
    def post(self, body):
        """Đưa một người, tập thể ra hội đồng bỏ phiếu cho một danh hiệu, hình thức: members with a conflict
        of interest are recused at once, each recusal an event naming its reason."""
        principal = auth.require_role(*SECRETARIES)
        council = _council(body["council_id"])
        province = auth.province_for(council["province"])
        _in_scope(principal, province, council["unit_id"])
        cmd = councils.OpenBallot(str(uuid.uuid4()), province, body["council_id"], body["registration_id"],
                                  body["award"], body["secret"])
        _run(cmd, province, f"registration-{cmd.registration_id}")
        return _ballot(cmd.ballot_id)


@blp.route("/ballots/<ballot_id>")
class BallotOne(MethodView):
    @blp.response(200, BallotViewSchema)
    def get(self, ballot_id):
        return _ballot(ballot_id)


@blp.route("/ballots/<ballot_id>/votes")
class Votes(MethodView):
    @blp.arguments(VoteSchema)
    @blp.response(201, BallotViewSchema)
    def post(self, body, ballot_id):
        """Bỏ phiếu: a member entitled to vote votes once; a recused member is refused."""
        principal = auth.require_role(*MEMBERS)
        ballot = _ballot(ballot_id)
        province = auth.province_for(ballot["province"])
        _run(councils.CastVote(ballot_id, province, principal.subject, body["choice"]), province,
             f"registration-{ballot['registration_id']}")
        return _ballot(ballot_id)


@blp.route("/ballots/<ballot_id>/result")
class Result(MethodView):
    @blp.arguments(BallotResultSchema)
    @blp.response(201, BallotViewSchema)
    def post(self, body, ballot_id):
        """Kết thúc bỏ phiếu (the secretary): the tally of the votes cast here, or the paper ballot box's counts;
        the share is over the members entitled to vote."""
        principal = auth.require_role(*SECRETARIES)
        ballot = _ballot(ballot_id)
        province = auth.province_for(ballot["province"])
        _in_scope(principal, province, _council(ballot["council_id"], province)["unit_id"])
        voters = tuple(body["voters"]) if body["voters"] is not None else None
        _run(councils.CloseBallot(ballot_id, province, principal.subject, body["votes_for"], body["votes_against"],
                                  voters), province, f"registration-{ballot['registration_id']}")
        return _ballot(ballot_id)


def _council(council_id: str, province: str | None = None) -> dict:
    """The council of that id in the caller's provinces (or in ``province``)."""
    provinces = (province,) if province else auth.provinces_visible()
    with runtime().db.read() as conn:
        row = conn.execute(select(council_rows).where(council_rows.c.id == council_id,
                                                      council_rows.c.province.in_(provinces))
                           .order_by(council_rows.c.province)).mappings().first()
        if row is None:
            raise NotFound(f"Không có hội đồng {council_id}")
        members = conn.execute(select(council_members).where(
            council_members.c.province == row["province"], council_members.c.council_id == council_id)
            .order_by(council_members.c.name)).mappings().all()
    return {**row, "members": members}


def _ballot(ballot_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(ballots).where(ballots.c.id == ballot_id,
                                                 ballots.c.province.in_(auth.provinces_visible()))).mappings().first()
        if row is None:
            raise NotFound(f"Không có cuộc bỏ phiếu {ballot_id}")
        recusals = conn.execute(select(ballot_recusals).where(ballot_recusals.c.ballot_id == ballot_id)
                                .order_by(ballot_recusals.c.member_name)).mappings().all()
    return {**row, "entitled": row["members_total"] - row["recused"], "recusals": recusals}
