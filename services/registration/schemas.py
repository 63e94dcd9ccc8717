"""The HTTP edge of registration: what a request must hold, field by field."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

CAMPAIGN_KINDS = ("yearly", "peak", "thematic")
ISSUER_LEVELS = ("ministry", "province", "department", "office", "commune", "school")
PARTICIPANT_KINDS = ("collective", "individual")
INDIVIDUAL_KINDS = ("manager", "teacher", "staff", "worker", "student")


class LaunchCampaignSchema(Schema):
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    title = fields.String(required=True, validate=validate.Length(min=3, max=500))
    kind = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_KINDS))
    issuer = fields.String(required=True, validate=validate.Length(min=2, max=300))
    issuer_level = fields.String(required=True, validate=validate.OneOf(ISSUER_LEVELS))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    registration_deadline = fields.Date(required=True)
    allow_late_registration = fields.Boolean(load_default=False)


class CampaignSchema(Schema):
    id = fields.String()
    province = fields.String()
    title = fields.String()
    kind = fields.String()
    issuer = fields.String()
    issuer_level = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    registration_deadline = fields.Date()
    allow_late_registration = fields.Boolean()
    registrations = fields.Integer()


class ParticipantSchema(Schema):
    participant_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit = fields.String(required=True, validate=validate.Length(min=2, max=300))
    individual_kind = fields.String(load_default=None, validate=validate.OneOf(INDIVIDUAL_KINDS))

    @validates_schema
    def _kind_of_individual(self, data, **_):
        if data["kind"] == "individual" and not data.get("individual_kind"):
            raise ValidationError("required for an individual (manager, teacher, staff, worker, student)",
                                  "individual_kind")


class PledgeSchema(Schema):
    content = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class RegisterSchema(Schema):
    participant = fields.Nested(ParticipantSchema, required=True)
    pledges = fields.List(fields.Nested(PledgeSchema), required=True, validate=validate.Length(min=1, max=50))
    registered_on = fields.Date(load_default=None, metadata={"description": "defaults to today (UTC)"})


class PledgeViewSchema(Schema):
    content = fields.String()
    start = fields.String(metadata={"format": "date"})
    end = fields.String(metadata={"format": "date"})


class RegistrationSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    name = fields.String()
    unit = fields.String()
    late = fields.Boolean()
    registered_on = fields.Date()
    pledges = fields.List(fields.Nested(PledgeViewSchema))
