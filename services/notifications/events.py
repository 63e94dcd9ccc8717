"""The events notifications publishes, one payload schema per type and version (the contract:
see shared.eventschema)."""
from marshmallow import fields, validate

from shared.eventschema import Contracts, EventSchema
from shared.progression import ExemplarStepSchema

contracts = Contracts("notifications")


@contracts.event("notifications.recipient.registered")
class RecipientRegisteredSchema(EventSchema):
    """A recipient's name and e-mail address in the directory."""
    recipient_id = fields.String(required=True)
    name = fields.String(required=True, metadata={"personal": True})
    email = fields.Email(required=True, allow_none=True, metadata={"personal": True})


@contracts.event("notifications.reminder_settings.defined")
class ReminderSettingsDefinedSchema(EventSchema):
    """How many days before each deadline a province's reminders go out."""
    days_before = fields.List(fields.Integer(strict=True, validate=validate.Range(min=0)), required=True)


@contracts.event("notifications.deadline.reminded")
class DeadlineRemindedSchema(EventSchema):
    """Nhắc hạn: a campaign's deadline is near; sent once per deadline and bucket of days."""
    key = fields.String(required=True)
    campaign_id = fields.String(required=True)
    campaign_title = fields.String(required=True)
    deadline_kind = fields.String(required=True)
    deadline_name = fields.String(required=True)
    deadline = fields.Date(required=True)
    days_before = fields.Integer(required=True, strict=True)
    sent_on = fields.Date(required=True)


@contracts.event("notifications.exemplar.publicised")
class ExemplarPublicisedSchema(ExemplarStepSchema):
    """Bước 2, tuyên truyền, nhân rộng: the exemplar publicised to every unit of its province."""
    message = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    units_notified = fields.List(fields.String(), required=True)
