"""HTTP API of evaluation."""
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from shared import auth
from shared.errors import NotFound
from shared.service import runtime

from services.evaluation.projections import candidates
from services.evaluation.schemas import CandidateSchema

blp = Blueprint("evaluation", __name__, description="Bình xét thi đua")


@blp.route("/campaigns/<campaign_id>/candidates")
class CampaignCandidates(MethodView):
    @blp.response(200, CandidateSchema(many=True))
    def get(self, campaign_id):
        """Những đăng ký thi đua chờ bình xét (registrations awaiting evaluation)."""
        with runtime().db.read() as conn:
            return conn.execute(select(candidates).where(
                candidates.c.campaign_id == campaign_id,
                candidates.c.province.in_(auth.provinces_visible()))
                .order_by(candidates.c.name)).mappings().all()


@blp.route("/candidates/<registration_id>")
class CandidateOne(MethodView):
    @blp.response(200, CandidateSchema)
    def get(self, registration_id):
        with runtime().db.read() as conn:
            row = conn.execute(select(candidates).where(
                candidates.c.registration_id == registration_id,
                candidates.c.province.in_(auth.provinces_visible()))).mappings().first()
        if row is None:
            raise NotFound(f"Bình xét chưa nhận được đăng ký {registration_id}")
        return row
