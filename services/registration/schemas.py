"""The HTTP edge of registration: what a request must hold, field by field."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

CAMPAIGN_KINDS = ("yearly", "peak", "thematic")
ISSUER_LEVELS = ("ministry", "province", "department", "office", "commune", "school", "council")
# The issuer level of a campaign launched by a person of a unit at each level (auth.UNIT_LEVELS):
# a district's education office (Phòng GD&ĐT) issues as "office". A council (Hội đồng TĐKT)
# issues as "council" whatever its unit's level: that comes from the caller's role.
ISSUER_LEVEL_OF_UNIT = {"school": "school", "commune": "commune", "district": "office",
                        "department": "department", "province": "province", "ministry": "ministry"}
PARTICIPANT_KINDS = ("collective", "individual")
INDIVIDUAL_KINDS = ("manager", "teacher", "staff", "worker", "student")
TARGET_GROUPS = ("collective",) + INDIVIDUAL_KINDS
UNIT_KINDS = ("department", "office", "school", "kindergarten", "center", "division", "other")
CLUSTER_KINDS = ("cluster", "block")

_id = validate.Length(min=1, max=100)


class DeadlinesSchema(Schema):
    nominations = fields.Date(load_default=None)
    preliminary_report = fields.Date(load_default=None)
    final_report = fields.Date(load_default=None)


class AwardPlanSchema(Schema):
    award = fields.String(required=True, validate=validate.Length(min=2, max=100),
                          metadata={"description": "title or form code, e.g. bang_khen_chu_tich_tinh"})
    applies_to = fields.String(load_default="both", validate=validate.OneOf(("collective", "individual", "both")))
    max = fields.Integer(load_default=None, validate=validate.Range(min=0),
                         metadata={"description": "quota: no more than this many decisions"})
    min = fields.Integer(load_default=None, validate=validate.Range(min=0),
                         metadata={"description": "target: at least this many selected"})


class ExemplarTargetSchema(Schema):
    phase = fields.String(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    min = fields.Integer(required=True, validate=validate.Range(min=1),
                         metadata={"description": "at least this many exemplars selected in the phase"})


class LaunchCampaignSchema(Schema):
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    title = fields.String(required=True, validate=validate.Length(min=3, max=500))
    kind = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_KINDS))
    issuer = fields.String(load_default=None, validate=validate.Length(min=2, max=300),
                           metadata={"description": "the caller's unit, from the token; if sent, must be it"})
    issuer_level = fields.String(load_default=None, validate=validate.OneOf(ISSUER_LEVELS),
                                 metadata={"description": "from the token (the unit's level, or council); "
                                                          "if sent, must be it"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    registration_deadline = fields.Date(required=True)
    allow_late_registration = fields.Boolean(load_default=False)
    deadlines = fields.Nested(DeadlinesSchema, load_default=dict)
    target_groups = fields.List(fields.String(validate=validate.OneOf(TARGET_GROUPS)), load_default=list)
    content_areas = fields.List(fields.String(validate=validate.Length(min=2, max=500)), load_default=list)
    criteria_set_ids = fields.List(fields.String(validate=_id), load_default=list)
    award_plan = fields.List(fields.Nested(AwardPlanSchema), load_default=list)
    exemplar_targets = fields.List(fields.Nested(ExemplarTargetSchema), load_default=list)
    parent_campaign_id = fields.String(load_default=None, validate=_id)


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
    parent_campaign_id = fields.String(allow_none=True)
    deadlines = fields.Dict()
    target_groups = fields.List(fields.String())
    content_areas = fields.List(fields.String())
    criteria_set_ids = fields.List(fields.String())
    award_plan = fields.List(fields.Dict())
    exemplar_targets = fields.List(fields.Dict())
    registrations = fields.Integer()
    sub_campaigns = fields.List(fields.String())


class ParticipantSchema(Schema):
    participant_id = fields.String(required=True, validate=_id)
    kind = fields.String(required=True, validate=validate.OneOf(PARTICIPANT_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit_id = fields.String(load_default=None, validate=_id)
    individual_kind = fields.String(load_default=None, validate=validate.OneOf(INDIVIDUAL_KINDS))
    position = fields.String(load_default=None, validate=validate.Length(max=200))
    gender = fields.String(load_default=None, validate=validate.OneOf(("female", "male", "other")))
    address = fields.String(load_default=None, validate=validate.Length(max=500))
    phone = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9 +().-]{6,20}$"))

    @validates_schema
    def _kind_of_individual(self, data, **_):
        if data["kind"] == "individual" and not data.get("individual_kind"):
            raise ValidationError("required for an individual (manager, teacher, staff, worker, student)",
                                  "individual_kind")


class PledgeSchema(Schema):
    content = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    area = fields.String(load_default=None, validate=validate.Length(max=500))
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class RegisterSchema(Schema):
    """The registration date is the server's (today in Vietnam): a body cannot name it."""
    participant = fields.Nested(ParticipantSchema, required=True)
    pledges = fields.List(fields.Nested(PledgeSchema), required=True, validate=validate.Length(min=1, max=50))


class ImportRegistrationSchema(RegisterSchema):
    """A historical registration entered from the records (operator, department): its date is
    the one on the record, and it is marked imported."""
    campaign_id = fields.String(required=True, validate=_id)
    registered_on = fields.Date(required=True, metadata={"description": "the date on the historical record"})


class WithdrawSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class PledgeViewSchema(Schema):
    content = fields.String()
    area = fields.String(allow_none=True)
    start = fields.String(metadata={"format": "date"})
    end = fields.String(metadata={"format": "date"})


class RegistrationSchema(Schema):
    id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    individual_kind = fields.String(allow_none=True)
    name = fields.String()
    unit = fields.String()
    unit_id = fields.String(allow_none=True)
    late = fields.Boolean()
    imported = fields.Boolean(metadata={"description": "entered from historical records, not registered here"})
    status = fields.String()
    registered_on = fields.Date()
    pledges = fields.List(fields.Nested(PledgeViewSchema))


class UnitSchema(Schema):
    id = fields.String(required=True, validate=_id)
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    parent_id = fields.String(load_default=None, validate=_id)
    address = fields.String(load_default=None, validate=validate.Length(max=500))
    phone = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9 +().-]{6,20}$"))


class MemberSchema(Schema):
    person_id = fields.String(required=True, validate=_id)
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    position = fields.String(load_default=None, validate=validate.Length(max=200))
    individual_kind = fields.String(required=True, validate=validate.OneOf(INDIVIDUAL_KINDS))
    gender = fields.String(load_default=None, validate=validate.OneOf(("female", "male", "other")))


class UnitViewSchema(UnitSchema):
    members = fields.List(fields.Nested(MemberSchema))
    children = fields.List(fields.String())


class ClusterSchema(Schema):
    id = fields.String(required=True, validate=_id)
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(CLUSTER_KINDS))
    member_unit_ids = fields.List(fields.String(validate=_id), required=True,
                                  validate=validate.Length(min=2, max=200))


class CovenantSchema(Schema):
    """Signed on the day it is recorded (the server's date)."""
    campaign_id = fields.String(required=True, validate=_id)
    content = fields.String(required=True, validate=validate.Length(min=3, max=5000))
    signed_by = fields.List(fields.String(validate=_id), required=True, validate=validate.Length(min=1))


class CovenantViewSchema(CovenantSchema):
    id = fields.String()
    cluster_id = fields.String()
    signed_on = fields.Date()


class KindCountSchema(Schema):
    kind = fields.String()
    campaigns = fields.Integer()
    registrations = fields.Integer(metadata={"description": "not withdrawn"})


class ProvinceCountSchema(Schema):
    province = fields.String()
    campaigns = fields.Integer()
    registrations = fields.Integer(metadata={"description": "not withdrawn"})
    by_kind = fields.List(fields.Nested(KindCountSchema))
