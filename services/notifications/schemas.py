"""The HTTP edge of notifications."""
from marshmallow import Schema, ValidationError, fields, validate


class InboxItemSchema(Schema):
    id = fields.String()
    province = fields.String()
    recipient = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class RecipientSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    email = fields.Email(load_default=None)


class ReminderSettingsSchema(Schema):
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    days_before = fields.List(fields.Integer(validate=validate.Range(min=0, max=365)), required=True,
                              validate=validate.Length(min=1, max=10))


class DeliverySchema(Schema):
    id = fields.String()
    recipient = fields.String()
    email = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    last_error = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


class DeliveryQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("pending", "sending", "sent", "failed")))


class PublicationSchema(Schema):
    nomination_id = fields.String()
    campaign_id = fields.String(allow_none=True)
    campaign_title = fields.String(allow_none=True)
    name = fields.String()
    unit = fields.String()
    participant_kind = fields.String()
    award_name = fields.String()
    kind = fields.String()
    status = fields.String()
    decision_number = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)
    issuer = fields.String(allow_none=True)


class PublicListSchema(Schema):
    province = fields.String()
    under_appraisal = fields.List(fields.Nested(PublicationSchema))
    decided = fields.List(fields.Nested(PublicationSchema))


class PublicQuerySchema(Schema):
    campaign_id = fields.String(load_default=None)


# -- webhooks -------------------------------------------------------------------------------
def _webhook_url(url: str) -> None:
    """A URL webhooks may go to: well-formed, then (server-side request forgery) not to an address
    inside the installation's networks — webhook_net, checked again at each delivery."""
    from services.notifications import webhooks
    from services.notifications.webhook_net import NetworkPolicy
    problem = webhooks.url_problem(url, webhooks.allow_http()) or NetworkPolicy.from_env().url_problem(url)
    if problem:
        raise ValidationError(problem)


def _event_type(event_type: str) -> None:
    from services.notifications import webhooks
    from services.notifications.service import SPEC
    problem = webhooks.type_problem(event_type, SPEC.follows)
    if problem:
        raise ValidationError(problem)


def _webhook_secret(secret: str) -> None:
    from services.notifications import webhooks
    problem = webhooks.secret_problem(secret)
    if problem:
        raise ValidationError(problem)


class WebhookSchema(Schema):
    """A subscription: its secret is given (or made) once, when it is created, and never shown again."""
    id = fields.String(dump_only=True)
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16),
                             metadata={"description": "the token's province; required when it has several"})
    url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _webhook_url])
    event_types = fields.List(fields.String(validate=[validate.Length(min=3, max=200), _event_type]),
                              required=True, validate=validate.Length(min=1, max=50),
                              metadata={"description": "event types, or `<service>.*` for all of a service's"})
    secret = fields.String(load_only=True, load_default=None, validate=_webhook_secret,
                           metadata={"description": "whsec_ + base64 of 24 to 64 bytes; made when left out"})
    description = fields.String(load_default=None, validate=validate.Length(max=500))
    status = fields.String(dump_only=True)
    owner = fields.String(dump_only=True, metadata={"description": "the integrator's client that subscribed"})
    created_at = fields.DateTime(dump_only=True)
    previous_secret_until = fields.DateTime(dump_only=True, allow_none=True, metadata={
        "description": "after a rotation: until when the replaced secret still signs beside the new one"})


class NewWebhookSchema(WebhookSchema):
    """The answer to a subscription: the only one that shows its secret."""
    signing_secret = fields.String(dump_only=True)


class WebhookListQuerySchema(Schema):
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16), metadata={
        "description": "the province whose subscriptions a department or operator sees; the token's "
                       "when it has one"})


class NewSecretSchema(Schema):
    """A rotation: the new secret is given (or made) and shown once, in the answer."""
    secret = fields.String(load_only=True, load_default=None, validate=_webhook_secret,
                           metadata={"description": "whsec_ + base64 of 24 to 64 bytes; made when left out"})
    id = fields.String(dump_only=True)
    signing_secret = fields.String(dump_only=True)
    previous_secret_until = fields.DateTime(dump_only=True, metadata={
        "description": "until then deliveries carry a signature with the old secret too"})


class WebhookDeliverySchema(Schema):
    id = fields.String()
    subscription_id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    stream = fields.String()
    sequence = fields.Integer()
    status = fields.String(metadata={"description": "pending, sending, delivered, failed, cancelled"})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "none once delivered, failed or "
                                                                               "cancelled"})
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class WebhookDeliveryQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(
        ("pending", "sending", "delivered", "failed", "cancelled")))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "at most this many, the newest first"})


class RedrivenSchema(Schema):
    redriven = fields.Integer()
