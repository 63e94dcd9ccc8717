"""The HTTP edge of notifications."""
from marshmallow import Schema, fields, validate


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
