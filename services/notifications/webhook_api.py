"""HTTP API of webhooks: an integrator subscribes, lists, unsubscribes, watches and redrives.

Every route needs a token with the ``webhooks`` scope (an integrator's client-credentials
token). A subscription belongs to the province it was made in and to the client that made
it (the token's subject): another client, or a token of another province, gets 404 — the
same answer whether the subscription exists or not. One exception, read only: the
department and the operators of a province list all of its subscriptions
(``GET /webhooks?province=``), to see who receives what; secrets are never shown, to
anyone, after the answer that made them.
"""
import json
import uuid
from datetime import datetime, timezone

from flask.views import MethodView
from sqlalchemy import select, update

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import Forbidden, NotFound, RuleViolation
from shared.service import runtime

from services.notifications import webhooks
from services.notifications.schemas import (NewSecretSchema, NewWebhookSchema, RedrivenSchema,
                                            WebhookDeliveryQuerySchema, WebhookDeliverySchema, WebhookListQuerySchema,
                                            WebhookSchema)
from services.notifications.webhook_secrets import SecretBox
from services.notifications.webhooks import deliveries, subscriptions

blp = Blueprint("webhooks", __name__, description="Webhook: sự kiện gửi tới hệ thống tích hợp của tỉnh")


OVERSEERS = ("department", "operator")  # see a province's subscriptions, read only


def _integrator() -> auth.Principal:
    principal = auth.current()
    if webhooks.SCOPE not in principal.scopes:
        raise Forbidden(f"Cần mã thông báo có phạm vi (scope) {webhooks.SCOPE!r} của hệ thống tích hợp "
                        f"(an integrator's token with the {webhooks.SCOPE!r} scope)", rule="webhooks.scope")
    return principal


def _subscription(conn, webhook_id: str) -> dict:
    principal = _integrator()
    row = conn.execute(select(subscriptions).where(
        subscriptions.c.id == webhook_id, subscriptions.c.status == "active",
        subscriptions.c.owner == principal.subject,
        subscriptions.c.province.in_(principal.provinces))).mappings().first()
    if row is None:
        raise NotFound(f"Không có đăng ký webhook {webhook_id} (no such webhook)")
    return _shown(row)


def _shown(row) -> dict:
    return {**row, "event_types": json.loads(row["event_types"])}


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.arguments(WebhookSchema)
    @blp.response(201, NewWebhookSchema)
    def post(self, body):
        """Đăng ký nhận sự kiện (subscribe): địa chỉ https, các loại sự kiện, khóa bí mật (hoặc để hệ
        thống tạo). Khóa chỉ hiện một lần, trong trả lời này (signing_secret)."""
        principal = _integrator()
        province = auth.province_for(body["province"])
        secret = body["secret"] or webhooks.new_secret()
        row = dict(id=str(uuid.uuid4()), province=province, owner=principal.subject, url=body["url"],
                   event_types=json.dumps(sorted(set(body["event_types"]))),
                   secret=SecretBox.from_env().seal(secret), description=body["description"],
                   status="active", created_at=datetime.now(timezone.utc))
        with runtime().db.write() as conn:
            conn.execute(subscriptions.insert(), row)
        return {**_shown(row), "signing_secret": secret}

    @blp.arguments(WebhookListQuerySchema, location="query")
    @blp.response(200, WebhookSchema(many=True))
    def get(self, query):
        """Các đăng ký webhook của hệ thống gọi, trong các tỉnh của mã thông báo; với Sở (department) và
        người vận hành (operator): mọi đăng ký của tỉnh ``province`` (chỉ xem, không có khóa bí mật)."""
        principal = auth.current()
        q = select(subscriptions).where(subscriptions.c.status == "active")
        if webhooks.SCOPE in principal.scopes:
            q = q.where(subscriptions.c.owner == principal.subject,
                        subscriptions.c.province.in_([auth.province_for(query["province"])] if query["province"]
                                                     else principal.provinces))
        elif principal.has_role(*OVERSEERS):
            q = q.where(subscriptions.c.province == auth.province_for(query["province"]))
        else:
            _integrator()  # the 403 that names the scope
        with runtime().db.read() as conn:
            return [_shown(r) for r in conn.execute(q.order_by(subscriptions.c.created_at)).mappings()]


@blp.route("/webhooks/<webhook_id>")
class OneWebhook(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id):
        """Một đăng ký webhook (không kèm khóa bí mật)."""
        with runtime().db.read() as conn:
            return _subscription(conn, webhook_id)

    @blp.response(204)
    def delete(self, webhook_id):
        """Hủy đăng ký: những lần gửi chưa xong bị hủy (cancelled); lịch sử gửi vẫn xem được đến khi xóa."""
        now = datetime.now(timezone.utc)
        with runtime().db.write() as conn:
            _subscription(conn, webhook_id)
            conn.execute(update(subscriptions).where(subscriptions.c.id == webhook_id)
                         .values(status="deleted", deleted_at=now))
            conn.execute(update(deliveries).where(deliveries.c.subscription_id == webhook_id,
                                                  deliveries.c.status.in_(webhooks.HOLDING))
                         .values(status="cancelled", last_error="Đã hủy đăng ký (unsubscribed)"))


@blp.route("/webhooks/<webhook_id>/secret")
class WebhookSecret(MethodView):
    @blp.arguments(NewSecretSchema)
    @blp.response(201, NewSecretSchema)
    def post(self, body, webhook_id):
        """Đổi khóa bí mật (rotate): khóa mới chỉ hiện một lần, trong trả lời này. Trong thời gian chuyển
        tiếp (WEBHOOK_SECRET_GRACE_S, mặc định 24 giờ) mỗi lần gửi mang chữ ký của cả khóa mới và khóa cũ,
        sau đó chỉ khóa mới."""
        secret = body["secret"] or webhooks.new_secret()
        with runtime().db.write() as conn:
            _subscription(conn, webhook_id)
            until = webhooks.rotate(conn, webhook_id, SecretBox.from_env().seal(secret), datetime.now(timezone.utc),
                                    webhooks.grace())
        return {"id": webhook_id, "signing_secret": secret, "previous_secret_until": until}


@blp.route("/webhooks/<webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.arguments(WebhookDeliveryQuerySchema, location="query")
    @blp.response(200, WebhookDeliverySchema(many=True))
    def get(self, query, webhook_id):
        """Các lần gửi của một đăng ký, mới nhất trước: trạng thái, số lần thử, mã trả lời hay lỗi
        cuối cùng, lần thử tới."""
        with runtime().db.read() as conn:
            _subscription(conn, webhook_id)
            q = select(deliveries).where(deliveries.c.subscription_id == webhook_id)
            if query["status"]:
                q = q.where(deliveries.c.status == query["status"])
            rows = conn.execute(q.order_by(deliveries.c.created_at.desc(), deliveries.c.stream,
                                           deliveries.c.sequence.desc()).limit(query["limit"])).mappings()
            return [_delivery(r) for r in rows]


def _delivery(row) -> dict:
    return {**row, "next_attempt_at": row["next_attempt_at"] if row["status"] in webhooks.OPEN else None}


@blp.route("/webhooks/<webhook_id>/deliveries/<delivery_id>/redrive")
class Redrive(MethodView):
    @blp.response(200, WebhookDeliverySchema)
    def post(self, webhook_id, delivery_id):
        """Gửi lại một lần gửi đã thất bại (failed): số lần thử tính lại từ đầu; các sự kiện sau nó của
        cùng luồng đang chờ nó sẽ đi tiếp theo thứ tự."""
        with runtime().db.write() as conn:
            _subscription(conn, webhook_id)
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id,
                                                        deliveries.c.subscription_id == webhook_id)).mappings().first()
            if row is None:
                raise NotFound(f"Không có lần gửi {delivery_id} (no such delivery)")
            if row["status"] != "failed":
                raise RuleViolation(f"Chỉ gửi lại lần gửi đã thất bại (only a failed delivery is redriven; "
                                    f"this one is {row['status']})", rule="webhooks.redrive_failed_only")
            _redrive(conn, deliveries.c.id == delivery_id)
            return _delivery(conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first())


@blp.route("/webhooks/<webhook_id>/redrive")
class RedriveAll(MethodView):
    @blp.response(200, RedrivenSchema)
    def post(self, webhook_id):
        """Gửi lại mọi lần gửi đã thất bại của đăng ký này."""
        with runtime().db.write() as conn:
            _subscription(conn, webhook_id)
            return {"redriven": _redrive(conn, deliveries.c.subscription_id == webhook_id)}


def _redrive(conn, which) -> int:
    return conn.execute(update(deliveries).where(which, deliveries.c.status == "failed").values(
        status="pending", attempts=0, first_attempt_at=None, next_attempt_at=datetime.now(timezone.utc))).rowcount
