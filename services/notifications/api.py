"""HTTP API of notifications."""
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from shared import auth
from shared.service import runtime

from services.notifications.projections import inbox
from services.notifications.schemas import InboxItemSchema

blp = Blueprint("notifications", __name__, description="Thông báo")


@blp.route("/inbox/<recipient>")
class Inbox(MethodView):
    @blp.response(200, InboxItemSchema(many=True))
    def get(self, recipient):
        """Hộp thư của một đơn vị, cá nhân hay tỉnh (a recipient's inbox), newest first."""
        with runtime().db.read() as conn:
            return conn.execute(select(inbox).where(
                inbox.c.recipient == recipient, inbox.c.province.in_(auth.provinces_visible()))
                .order_by(inbox.c.created_at.desc())).mappings().all()
