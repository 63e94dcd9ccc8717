"""HTTP API of awards."""
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from shared import auth
from shared.service import runtime

from services.awards.projections import participants
from services.awards.schemas import ParticipantSchema

blp = Blueprint("awards", __name__, description="Khen thưởng")


@blp.route("/campaigns/<campaign_id>/participants")
class CampaignParticipants(MethodView):
    @blp.response(200, ParticipantSchema(many=True))
    def get(self, campaign_id):
        """Người và tập thể tham gia phong trào, với kết quả bình xét (participants and their evaluation)."""
        with runtime().db.read() as conn:
            return conn.execute(select(participants).where(
                participants.c.campaign_id == campaign_id,
                participants.c.province.in_(auth.provinces_visible()))
                .order_by(participants.c.name)).mappings().all()
