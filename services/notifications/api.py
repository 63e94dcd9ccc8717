"""HTTP API of notifications: inboxes, the recipient directory, e-mail deliveries, the public list."""
from datetime import datetime, timezone

from flask.views import MethodView
from sqlalchemy import select, update

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import Forbidden, NotFound, RuleViolation
from shared.service import execute, runtime

from services.notifications import domain, handlers
from services.notifications.projections import deliveries, inbox, orgchart, people, publications
from services.notifications.schemas import (DeliveryQuerySchema, DeliverySchema, InboxItemSchema,
                                            PublicListSchema, PublicQuerySchema, RecipientSchema,
                                            ReminderSettingsSchema)

blp = Blueprint("notifications", __name__, description="Thông báo, thư điện tử và công khai")

# Who keeps the directory for others: an integrator syncing addresses (a person's own
# address is set by those who may read their inbox, since the e-mail is a copy of it).
DIRECTORY_SYNC = ("service",)
MAIL_KEEPERS = ("department", "operator")  # who sees and retries the province's e-mails


@blp.route("/inbox")
class MyInbox(MethodView):
    @blp.response(200, InboxItemSchema(many=True))
    def get(self):
        """Hộp thư của chính người gọi (người nhận là chủ thể của mã thông báo), mới nhất trước."""
        principal = auth.current()
        return _items(principal.subject, principal.provinces)


@blp.route("/inbox/<recipient>")
class Inbox(MethodView):
    @blp.response(200, InboxItemSchema(many=True))
    def get(self, recipient):
        """Hộp thư của một đơn vị, cá nhân, hội đồng hay cấp có thẩm quyền, mới nhất trước: chỉ
        người nhận, thủ trưởng đơn vị của người nhận (hay đơn vị cấp trên), và với hộp thư của
        hội đồng, cấp có thẩm quyền, Sở: vai trò đó của tỉnh."""
        return _items(recipient, _readable_in(recipient))


@blp.route("/recipients")
class Recipients(MethodView):
    @blp.arguments(RecipientSchema)
    @blp.response(201, RecipientSchema)
    def post(self, body):
        """Ghi địa chỉ thư điện tử của người nhận (a recipient's e-mail address): bởi người được
        xem hộp thư đó, hay một hệ thống tích hợp (vai trò service)."""
        province = auth.province_for(body["province"])
        if not auth.current().has_role(*DIRECTORY_SYNC) and province not in _readable_in(body["id"]):
            raise _refused(body["id"])
        execute(handlers.COMMAND_HANDLERS, domain.RegisterRecipient(body["id"], province, body["name"],
                                                                    body["email"]),
                province, f"recipient-{body['id']}")
        return {**body, "province": province}


def _readable_in(recipient: str) -> tuple[str, ...]:
    """The provinces of the caller's token in which they may read ``recipient``'s inbox."""
    principal = auth.current()
    chains = {}
    if principal.has_role("unit_head") and principal.unit:
        with runtime().db.read() as conn:
            chains = {p: _chains(conn, p, recipient) for p in principal.provinces}
    return domain.inbox_readable(principal, recipient, chains)


def _chains(conn, province: str, recipient: str) -> list[list[str]]:
    units = conn.execute(select(people.c.unit_id).where(people.c.province == province,
                                                        people.c.person_id == recipient)).scalars().all()
    if orgchart.unit(conn, province, recipient):  # a unit's own inbox
        units = [*units, recipient]
    return [orgchart.ancestors(conn, province, u) for u in units]


def _refused(recipient: str) -> Forbidden:
    # the same answer whether the inbox exists or not
    return Forbidden(f"Không được xem hộp thư {recipient}: chỉ người nhận và thủ trưởng đơn vị của người nhận "
                     "(hay đơn vị cấp trên); hộp thư của hội đồng, cấp có thẩm quyền, Sở: chỉ vai trò đó của tỉnh",
                     rule="notifications.inbox_reader")


def _items(recipient: str, provinces: tuple[str, ...]) -> list:
    if not provinces:
        raise _refused(recipient)
    with runtime().db.read() as conn:
        return conn.execute(select(inbox).where(inbox.c.recipient == recipient, inbox.c.province.in_(provinces))
                            .order_by(inbox.c.created_at.desc())).mappings().all()


@blp.route("/reminder-settings")
class ReminderSettings(MethodView):
    @blp.arguments(ReminderSettingsSchema)
    @blp.response(201, ReminderSettingsSchema)
    def post(self, body):
        """Số ngày trước mỗi hạn để nhắc (e.g. [7, 3, 1]) cho cả tỉnh."""
        principal = auth.require_role("department", "council")
        if not principal.has_role("department") and principal.unit is not None:
            raise Forbidden("Mốc nhắc hạn là của cả tỉnh: chỉ Sở hay hội đồng thi đua của tỉnh (không phải của "
                            "một đơn vị) đặt được", rule="reminders.province_council")
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
        auth.require_role(*MAIL_KEEPERS)
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
        auth.require_role(*MAIL_KEEPERS)
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
