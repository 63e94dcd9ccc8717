"""HTTP API of awards: nominations, appraisal, decisions, ad-hoc commendation, history, holds, rules."""
import json
import uuid
from datetime import date, datetime, timezone

from flask.views import MethodView
from sqlalchemy import func, select

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import Invalid, NotFound
from shared.service import execute, runtime

from services.awards import domain, handlers
from services.awards.projections import campaigns, history, holds, nominations, participants
from services.awards.rules import lineage, national
from services.awards.schemas import (AdHocSchema, AppraiseSchema, DecideSchema, DefineRuleSchema,
                                     HistorySchema, HoldSchema, HoldViewSchema, LiftSchema, NominateSchema,
                                     NominationSchema, ParticipantSchema, PastAwardSchema, QuotaSchema,
                                     ResubmitSchema)

blp = Blueprint("awards", __name__, description="Khen thưởng: đề nghị, thẩm định, quyết định, tra cứu")

PROPOSERS = ("unit_head",)
APPRAISERS = ("council",)
DECIDERS = ("authority",)
RULE_MAKERS = ("council", "authority")


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _run(command, province, correlation_id):
    return execute(handlers.COMMAND_HANDLERS, command, province, correlation_id)


@blp.route("/nominations")
class Nominations(MethodView):
    @blp.arguments(NominateSchema)
    @blp.response(201, NominationSchema)
    def post(self, body):
        """Đề nghị khen thưởng (a head of unit nominates a participant whose evaluation passed)."""
        auth.require_role(*PROPOSERS)
        province = auth.province_for(None if len(auth.provinces_visible()) == 1 else
                                     _campaign_province(body["campaign_id"]))
        cmd = domain.Nominate(nomination_id=str(uuid.uuid4()), province=province,
                              submitted_on=body.pop("submitted_on") or _today(), **body)
        _run(cmd, province, f"registration-{cmd.registration_id}")
        return _nomination(cmd.nomination_id)


@blp.route("/nominations/<nomination_id>")
class NominationOne(MethodView):
    @blp.response(200, NominationSchema)
    def get(self, nomination_id):
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/appraisal")
class Appraisal(MethodView):
    @blp.arguments(AppraiseSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Thẩm định: đạt (approved), trả lại để hoàn thiện (returned) hoặc không đạt (rejected), có lý do."""
        auth.require_role(*APPRAISERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        _run(domain.Appraise(nomination_id, province, body["outcome"], body["reason"]), province,
             _correlation(nomination_id))
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/resubmission")
class Resubmission(MethodView):
    @blp.arguments(ResubmitSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Bổ sung hồ sơ đề nghị đã bị trả lại (resubmit a returned nomination)."""
        auth.require_role(*PROPOSERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        _run(domain.Resubmit(nomination_id, province, body["dossier"]), province, _correlation(nomination_id))
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/decision")
class Decision(MethodView):
    @blp.arguments(DecideSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Quyết định khen thưởng của cấp có thẩm quyền, với số và ngày quyết định."""
        auth.require_role(*DECIDERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        _run(domain.Decide(nomination_id=nomination_id, province=province, **body), province,
             _correlation(nomination_id))
        return _nomination(nomination_id)


@blp.route("/ad-hoc-commendations")
class AdHoc(MethodView):
    @blp.arguments(AdHocSchema)
    @blp.response(201, NominationSchema)
    def post(self, body):
        """Khen thưởng đột xuất: thành tích đột xuất, quyết định ngay bởi cấp có thẩm quyền."""
        auth.require_role(*DECIDERS)
        province = auth.province_for(None)
        cmd = domain.CommendAdHoc(nomination_id=str(uuid.uuid4()), province=province, **body)
        _run(cmd, province, f"ad-hoc-{cmd.nomination_id}")
        return _nomination(cmd.nomination_id)


@blp.route("/campaigns/<campaign_id>/nominations")
class CampaignNominations(MethodView):
    @blp.response(200, NominationSchema(many=True))
    def get(self, campaign_id):
        with runtime().db.read() as conn:
            rows = conn.execute(select(nominations).where(
                nominations.c.campaign_id == campaign_id,
                nominations.c.province.in_(auth.provinces_visible())).order_by(nominations.c.name)
            ).mappings().all()
        return [_nomination_view(r) for r in rows]


@blp.route("/campaigns/<campaign_id>/quotas")
class CampaignQuotas(MethodView):
    @blp.response(200, QuotaSchema(many=True))
    def get(self, campaign_id):
        """Chỉ tiêu khen thưởng của phong trào và số đã quyết định (quotas and their use)."""
        with runtime().db.read() as conn:
            row = conn.execute(select(campaigns).where(
                campaigns.c.id == campaign_id,
                campaigns.c.province.in_(auth.provinces_visible()))).mappings().first()
            if row is None:
                raise NotFound(f"Khen thưởng chưa nhận được phong trào {campaign_id}")
            out = []
            for plan in json.loads(row["award_plan"]):
                query = select(func.count()).select_from(history).where(
                    history.c.campaign_id == campaign_id, history.c.award == plan["award"],
                    history.c.status == "valid")
                if plan.get("applies_to", "both") != "both":
                    query = query.where(history.c.participant_kind == plan["applies_to"])
                out.append({**plan, "applies_to": plan.get("applies_to", "both"),
                            "used": conn.execute(query).scalar_one()})
        return out


@blp.route("/campaigns/<campaign_id>/participants")
class CampaignParticipants(MethodView):
    @blp.response(200, ParticipantSchema(many=True))
    def get(self, campaign_id):
        """Người và tập thể tham gia phong trào, với kết quả bình xét."""
        with runtime().db.read() as conn:
            return conn.execute(select(participants).where(
                participants.c.campaign_id == campaign_id,
                participants.c.province.in_(auth.provinces_visible()))
                .order_by(participants.c.name)).mappings().all()


@blp.route("/history/<participant_id>")
class History(MethodView):
    @blp.response(200, HistorySchema(many=True))
    def get(self, participant_id):
        """Tra cứu khen thưởng: mọi danh hiệu, hình thức đã nhận, theo quyết định nào, ngày nào."""
        with runtime().db.read() as conn:
            # as it is now: a successor province also sees what its predecessors awarded
            provinces = {p for visible in auth.provinces_visible() for p in lineage(visible)}
            return conn.execute(select(history).where(
                history.c.participant_id == participant_id, history.c.province.in_(provinces))
                .order_by(history.c.decision_date, history.c.award)).mappings().all()


@blp.route("/history")
class PastAwards(MethodView):
    @blp.arguments(PastAwardSchema)
    @blp.response(201, HistorySchema)
    def post(self, body):
        """Ghi nhận khen thưởng đã có (as issued: issuer, level, number, date) — for chains and look-ups."""
        auth.require_role(*DECIDERS)
        province = auth.province_for(None)
        cmd = domain.RecordPastAward(record_id=str(uuid.uuid4()), province=province, **body)
        _run(cmd, province, f"record-{cmd.record_id}")
        with runtime().db.read() as conn:
            return conn.execute(select(history).where(history.c.id == cmd.record_id)).mappings().first()


@blp.route("/holds")
class Holds(MethodView):
    @blp.arguments(HoldSchema)
    @blp.response(201, HoldViewSchema)
    def post(self, body):
        """Tạm hoãn xét khen thưởng khi đang xem xét kỷ luật, điều tra, thanh tra, khiếu nại."""
        auth.require_role(*RULE_MAKERS)
        province = auth.province_for(None)
        cmd = domain.PlaceHold(hold_id=str(uuid.uuid4()), province=province, participant_id=body["participant_id"],
                               kind=body["kind"], reason=body["reason"], placed_on=body["placed_on"] or _today())
        _run(cmd, province, f"hold-{cmd.hold_id}")
        return _hold(cmd.hold_id)


@blp.route("/holds/<hold_id>/lifting")
class HoldLifting(MethodView):
    @blp.arguments(LiftSchema)
    @blp.response(201, HoldViewSchema)
    def post(self, body, hold_id):
        auth.require_role(*RULE_MAKERS)
        province = auth.province_for(_hold(hold_id)["province"])
        _run(domain.LiftHold(hold_id, province, body["reason"], body["lifted_on"] or _today()), province,
             f"hold-{hold_id}")
        return _hold(hold_id)


@blp.route("/rules")
class Rules(MethodView):
    @blp.arguments(DefineRuleSchema)
    @blp.response(201, DefineRuleSchema)
    def post(self, body):
        """Thêm hoặc sửa một quy định của tỉnh (a province's award or authority rule, dated, with its source)."""
        auth.require_role(*RULE_MAKERS)
        province = auth.province_for(body.pop("province"))
        given = {k: v for k, v in body.items() if v is not None}
        if len(given) != 1:
            raise Invalid("Nêu đúng một quy định: award hoặc authority",
                          errors={"award": ["give exactly one of award, authority"]})
        [(section, rule)] = given.items()
        _run(domain.DefineRule(str(uuid.uuid4()), province, section, rule), province, "rules")
        return {section: rule}

    def get(self):
        """Bộ quy định đang áp dụng cho tỉnh: quy định quốc gia và quy định riêng của tỉnh."""
        province = auth.province_for(None)
        with runtime().db.read() as conn:
            book = handlers.rulebook(conn, province)
        return {"national": national(), "province": {"awards": book.province_awards,
                                                     "authorities": book.province_authorities}}


def _campaign_province(campaign_id: str) -> str | None:
    with runtime().db.read() as conn:
        return conn.execute(select(campaigns.c.province).where(campaigns.c.id == campaign_id)).scalar()


def _correlation(nomination_id: str) -> str:
    """The story a nomination belongs to: the correlation id of its first event."""
    _nomination(nomination_id)
    rt = runtime()
    with rt.db.read() as conn:
        first = rt.store.load(conn, f"nomination-{nomination_id}")[0]
    return first.correlationid


def _nomination(nomination_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(nominations).where(
            nominations.c.id == nomination_id,
            nominations.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không có đề nghị khen thưởng {nomination_id}")
    return _nomination_view(row)


def _nomination_view(row) -> dict:
    return {**row, "dossier": json.loads(row["dossier"])}


def _hold(hold_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(holds).where(holds.c.id == hold_id,
                                               holds.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không có tạm hoãn {hold_id}")
    return dict(row)
