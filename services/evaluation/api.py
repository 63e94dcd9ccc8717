"""HTTP API of evaluation: criteria sets, candidates, evaluations (bình xét)."""
import json

from flask.views import MethodView
from sqlalchemy import select

from shared import auth, cases, documents
from shared.blueprint import Blueprint
from shared.errors import Forbidden, NotFound
from shared.service import execute, runtime, today

from services.evaluation import domain, handlers
from services.evaluation.projections import candidates, criteria_sets, evaluations, orgchart
from services.evaluation.schemas import (CandidateSchema, CriteriaSetSchema, CriteriaSetViewSchema,
                                         EvaluateSchema, EvaluationSchema)

blp = Blueprint("evaluation", __name__, description="Bình xét thi đua")

DEFINERS = ("department", "council", "authority")
EVALUATORS = ("council",)
# Who reads every evaluation's evidence files in their province (a head reads those of their unit and below).
EVIDENCE_READERS = ("council", "department", "authority", "operator")


@blp.route("/criteria-sets")
class CriteriaSets(MethodView):
    @blp.arguments(CriteriaSetSchema)
    @blp.response(201, CriteriaSetViewSchema)
    def post(self, body):
        """Định nghĩa (hoặc sửa) bộ tiêu chí thi đua; mỗi lần sửa là một phiên bản mới."""
        auth.require_role(*DEFINERS)
        province = auth.province_for(body["province"])
        cmd = domain.DefineCriteriaSet(criteria_set_id=body["id"], province=province, name=body["name"],
                                       applies_to=tuple(body["applies_to"]), criteria=tuple(body["criteria"]),
                                       source=body["source"])
        execute(handlers.COMMAND_HANDLERS, cmd, province, f"criteria-{province}:{cmd.criteria_set_id}")
        return _criteria_set(cmd.criteria_set_id, (province,))

    @blp.response(200, CriteriaSetViewSchema(many=True))
    def get(self):
        with runtime().db.read() as conn:
            rows = conn.execute(select(criteria_sets).where(
                criteria_sets.c.province.in_(auth.provinces_visible()))
                .order_by(criteria_sets.c.province, criteria_sets.c.id)).mappings().all()
        return [_view(r) for r in rows]


@blp.route("/criteria-sets/<criteria_set_id>")
class CriteriaSetOne(MethodView):
    @blp.response(200, CriteriaSetViewSchema)
    def get(self, criteria_set_id):
        return _criteria_set(criteria_set_id)


@blp.route("/evaluations")
class Evaluations(MethodView):
    @blp.arguments(EvaluateSchema)
    @blp.response(201, EvaluationSchema)
    def post(self, body):
        """Bình xét một đăng ký thi đua theo bộ tiêu chí, với minh chứng cho từng tiêu chí.
        Gửi lại khi minh chứng được sửa: một vòng bình xét mới, lịch sử được giữ."""
        council = auth.require_role(*EVALUATORS)
        province = auth.province_for(_candidate(body["registration_id"], missing_ok=True).get("province")
                                     or None)
        cmd = domain.EvaluateRegistration(
            registration_id=body["registration_id"], province=province,
            criteria_set_id=body["criteria_set_id"], evidence=body["evidence"], evaluated_on=today(),
            council_unit=council.unit, note=body["note"], documents=tuple(body["documents"]))
        execute(handlers.COMMAND_HANDLERS, cmd, province, cases.correlation(cmd.registration_id), own_story=True)
        return _evaluations(cmd.registration_id)[-1]


@blp.route("/evaluations/<registration_id>")
class EvaluationHistory(MethodView):
    @blp.response(200, EvaluationSchema(many=True))
    def get(self, registration_id):
        """Mọi vòng bình xét của một đăng ký, cũ trước mới sau (the evaluation history)."""
        rounds = _evaluations(registration_id)
        if not rounds:
            raise NotFound(f"Chưa có kết quả bình xét cho đăng ký {registration_id}")
        return rounds


@blp.route("/evaluations/<registration_id>/documents/<sha256>")
class EvaluationDocument(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    def get(self, registration_id, sha256):
        """Tải về một tệp minh chứng của bình xét (an evidence file of any round, by its SHA-256): for the
        province's council, department and authorities, and the heads of the candidate's unit or one above."""
        c = _candidate(registration_id)  # another province's: 404, like any missing candidate
        return documents.serve(
            f"evaluation-{registration_id}", sha256, readers=EVIDENCE_READERS, orgchart=orgchart,
            province=c["province"], unit=c["unit_id"], refusal=Forbidden(
                f"Minh chứng của {c['name']} chỉ dành cho hội đồng thi đua, Sở, cấp có thẩm quyền và thủ trưởng "
                "đơn vị của người, tập thể được bình xét (not a reader of this evidence)", rule="documents.readers"))


@blp.route("/campaigns/<campaign_id>/candidates")
class CampaignCandidates(MethodView):
    @blp.response(200, CandidateSchema(many=True))
    def get(self, campaign_id):
        """Những đăng ký thi đua của phong trào và trạng thái bình xét của chúng."""
        with runtime().db.read() as conn:
            return conn.execute(select(candidates).where(
                candidates.c.campaign_id == campaign_id,
                candidates.c.province.in_(auth.provinces_visible()))
                .order_by(candidates.c.name)).mappings().all()


@blp.route("/candidates/<registration_id>")
class CandidateOne(MethodView):
    @blp.response(200, CandidateSchema)
    def get(self, registration_id):
        return _candidate(registration_id)


def _candidate(registration_id: str, missing_ok: bool = False) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(candidates).where(
            candidates.c.registration_id == registration_id,
            candidates.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None and not missing_ok:
        raise NotFound(f"Bình xét chưa nhận được đăng ký {registration_id}")
    return dict(row or {})


def _criteria_set(criteria_set_id: str, provinces: tuple[str, ...] | None = None) -> dict:
    """The set of that id in the caller's province (the first of them, for a token of several)."""
    with runtime().db.read() as conn:
        row = conn.execute(select(criteria_sets).where(
            criteria_sets.c.id == criteria_set_id,
            criteria_sets.c.province.in_(provinces or auth.provinces_visible()))
            .order_by(criteria_sets.c.province)).mappings().first()
    if row is None:
        raise NotFound(f"Không có bộ tiêu chí {criteria_set_id}")
    return _view(row)


def _view(row) -> dict:
    return {**row, "applies_to": json.loads(row["applies_to"]), "criteria": json.loads(row["criteria"])}


def _evaluations(registration_id: str) -> list[dict]:
    with runtime().db.read() as conn:
        rows = conn.execute(select(evaluations).where(
            evaluations.c.registration_id == registration_id,
            evaluations.c.province.in_(auth.provinces_visible())).order_by(evaluations.c.round)
        ).mappings().all()
    return [{**r, "results": json.loads(r["results"]), "documents": json.loads(r["documents"] or "[]")}
            for r in rows]
