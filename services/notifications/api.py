"""HTTP API of notifications: inboxes, the recipient directory, e-mail deliveries, the public list."""
from datetime import datetime, timezone

from flask.views import MethodView
from sqlalchemy import select, update

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import NotFound, RuleViolation
from shared.service import execute, runtime

from services.notifications import domain, handlers
from services.notifications.projections import deliveries, inbox, publications
from services.notifications.schemas import (DeliveryQuerySchema, DeliverySchema, InboxItemSchema,
                                            PublicListSchema, PublicQuerySchema, RecipientSchema,
                                            ReminderSettingsSchema)

blp = Blueprint("notifications", __name__, description="Thông báo, thư điện tử và công khai")

DIRECTORY_KEEPERS = ("department", "unit_head", "council", "authority", "service", "operator")


@blp.route("/inbox/<recipient>")
class Inbox(MethodView):
    @blp.response(200, InboxItemSchema(many=True))
    def get(self, recipient):
        """Hộp thư của một đơn vị, cá nhân, hội đồng hay cấp có thẩm quyền, mới nhất trước."""
        with runtime().db.read() as conn:
            return conn.execute(select(inbox).where(
                inbox.c.recipient == recipient, inbox.c.province.in_(auth.provinces_visible()))
                .order_by(inbox.c.created_at.desc())).mappings().all()


@blp.route("/recipients")
class Recipients(MethodView):
    @blp.arguments(RecipientSchema)
    @blp.response(201, RecipientSchema)
    def post(self, body):
        """Ghi địa chỉ thư điện tử của người nhận (a recipient's e-mail address)."""
        auth.require_role(*DIRECTORY_KEEPERS)
        province = auth.province_for(body["province"])
        execute(handlers.COMMAND_HANDLERS, domain.RegisterRecipient(body["id"], province, body["name"],
                                                                    body["email"]),
                province, f"recipient-{body['id']}")
        return {**body, "province": province}


@blp.route("/reminder-settings")
class ReminderSettings(MethodView):
    @blp.arguments(ReminderSettingsSchema)
    @blp.response(201, ReminderSettingsSchema)
    def post(self, body):
        """Số ngày trước mỗi hạn để nhắc (e.g. [7, 3, 1]) cho cả tỉnh."""
        auth.require_role("department", "council")
        province = auth.province_for(body["province"])
        execute(handlers.COMMAND_HANDLERS, domain.DefineReminderDays(province, tuple(body["days_before"])),
                province, f"reminder-settings-{province}")
        return {"province": province, "days_before": sorted(body["days_before"], reverse=True)}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    def get(self, query):
        """Thư điện tử đã gửi, đang chờ hoặc gửi không được (failed deliveries are visible here)."""
        q = select(deliveries).where(deliveries.c.province.in_(auth.provinces_visible()))
        if query["status"]:
            q = q.where(deliveries.c.status == query["status"])
        with runtime().db.read() as conn:
            return conn.execute(q.order_by(deliveries.c.next_attempt_at)).mappings().all()


@blp.route("/deliveries/<delivery_id>/retry")
class DeliveryRetry(MethodView):
    @blp.response(200, DeliverySchema)
    def post(self, delivery_id):
        """Gửi lại một thư đã thất bại."""
        auth.require_role("operator", "department")
        with runtime().db.write() as conn:
            row = conn.execute(select(deliveries).where(
                deliveries.c.id == delivery_id,
                deliveries.c.province.in_(auth.provinces_visible()))).mappings().first()
            if row is None:
                raise NotFound(f"Không có thư {delivery_id}")
            if row["status"] != "failed":
                raise RuleViolation("Chỉ gửi lại thư đã thất bại", rule="delivery.retry_failed_only")
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                status="pending", attempts=0, next_attempt_at=datetime.now(timezone.utc)))
            return conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()


@blp.route("/public/<province>/commendations")
class PublicList(MethodView):
    @blp.arguments(PublicQuerySchema, location="query")
    @blp.response(200, PublicListSchema)
    def get(self, query, province):
        """Công khai: đề nghị đang thẩm định và khen thưởng đã quyết định của tỉnh (no token needed)."""
        q = select(publications).where(publications.c.province == province)
        if query["campaign_id"]:
            q = q.where(publications.c.campaign_id == query["campaign_id"])
        with runtime().db.read() as conn:
            rows = conn.execute(q.order_by(publications.c.award_name, publications.c.name)).mappings().all()
        return {"province": province, "under_appraisal": [r for r in rows if r["status"] == "under_appraisal"],
                "decided": [r for r in rows if r["status"] == "decided"]}
