"""The events registration publishes, one payload schema per type and version.

The contract (see shared.eventschema): it imports nothing of registration's own code, so the
catalogue can load it for every service, and the AsyncAPI document is generated from it.
"""
from marshmallow import fields, validate

from shared.eventschema import Contracts, EventSchema
from shared.progression import ExemplarStepSchema

contracts = Contracts("registration")

PERSONAL = {"personal": True}
_kinds = validate.OneOf(("collective", "individual"))
_individual_kinds = validate.OneOf(("manager", "teacher", "staff", "worker", "student"))
_genders = validate.OneOf(("female", "male", "other"))


class AwardPlanItemSchema(EventSchema):
    award = fields.String(required=True)
    applies_to = fields.String(required=True, validate=validate.OneOf(("collective", "individual", "both")))
    max = fields.Integer(required=True, allow_none=True, strict=True, metadata={"description": "quota"})
    min = fields.Integer(required=True, allow_none=True, strict=True, metadata={"description": "target"})


class ExemplarTargetItemSchema(EventSchema):
    phase = fields.String(required=True)
    kind = fields.String(required=True, validate=_kinds)
    min = fields.Integer(required=True, strict=True)


@contracts.event("registration.campaign.launched")
class CampaignLaunchedSchema(EventSchema):
    """Phát động phong trào thi đua: a campaign is launched, with its period, deadlines, target
    groups, criteria sets and award plan."""
    campaign_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("yearly", "peak", "thematic")))
    issuer = fields.String(required=True)
    issuer_level = fields.String(required=True, validate=validate.OneOf(
        ("ministry", "province", "department", "office", "commune", "school", "council")))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    registration_deadline = fields.Date(required=True)
    deadlines = fields.Dict(keys=fields.String(), values=fields.Date(allow_none=True), required=True,
                            metadata={"description": "registration, nominations, preliminary_report, final_report"})
    allow_late_registration = fields.Boolean(required=True)
    target_groups = fields.List(fields.String(), required=True)
    content_areas = fields.List(fields.String(), required=True)
    criteria_set_ids = fields.List(fields.String(), required=True)
    award_plan = fields.List(fields.Nested(AwardPlanItemSchema), required=True)
    exemplar_targets = fields.List(fields.Nested(ExemplarTargetItemSchema), required=True)
    parent_campaign_id = fields.String(required=True, allow_none=True)


class ParticipantSchema(EventSchema):
    participant_id = fields.String(required=True)
    kind = fields.String(required=True, validate=_kinds)
    name = fields.String(required=True, metadata=PERSONAL)
    unit = fields.String(required=True)
    unit_id = fields.String(load_default=None)
    individual_kind = fields.String(load_default=None, validate=_individual_kinds)
    position = fields.String(load_default=None)
    gender = fields.String(load_default=None, validate=_genders, metadata=PERSONAL)
    address = fields.String(load_default=None, metadata=PERSONAL)
    phone = fields.String(load_default=None, metadata=PERSONAL)


class PledgeSchema(EventSchema):
    content = fields.String(required=True)
    area = fields.String(load_default=None)
    start = fields.Date(required=True)
    end = fields.Date(required=True)


@contracts.event("registration.participant.registered")
class ParticipantRegisteredSchema(EventSchema):
    """Đăng ký thi đua: a collective or a person registers in a campaign with its pledges."""
    registration_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    campaign_title = fields.String(required=True)
    campaign_kind = fields.String(required=True)
    participant = fields.Nested(ParticipantSchema, required=True)
    late = fields.Boolean(required=True)
    imported = fields.Boolean(load_default=False, metadata={
        "description": "entered from historical records; absent (false) in events recorded before it existed"})
    registered_on = fields.Date(required=True)
    pledges = fields.List(fields.Nested(PledgeSchema), required=True)


@contracts.event("registration.participant.withdrawn")
class ParticipantWithdrawnSchema(EventSchema):
    """Rút đăng ký thi đua."""
    registration_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    reason = fields.String(required=True)


@contracts.event("registration.unit.registered")
class UnitRegisteredSchema(EventSchema):
    """A unit (school, office, department...) enters the org chart. Its address and phone are an
    organisation's, not a person's."""
    unit_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_id = fields.String(required=True, allow_none=True)
    address = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)


@contracts.event("registration.unit.member_added")
class MemberAddedSchema(EventSchema):
    """A person becomes a member of a unit."""
    unit_id = fields.String(required=True)
    person_id = fields.String(required=True)
    name = fields.String(required=True, metadata=PERSONAL)
    position = fields.String(load_default=None)
    individual_kind = fields.String(required=True, validate=_individual_kinds)
    gender = fields.String(load_default=None, validate=_genders, metadata=PERSONAL)


@contracts.event("registration.cluster.formed")
class ClusterFormedSchema(EventSchema):
    """Cụm, khối thi đua: units grouped to emulate one another."""
    cluster_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("cluster", "block")))
    member_unit_ids = fields.List(fields.String(), required=True)


@contracts.event("registration.covenant.signed")
class CovenantSignedSchema(EventSchema):
    """Ký giao ước thi đua: every member of a cluster signs its covenant for a campaign."""
    covenant_id = fields.String(required=True)
    cluster_id = fields.String(required=True)
    cluster_name = fields.String(required=True)
    campaign_id = fields.String(required=True)
    content = fields.String(required=True)
    signed_by = fields.List(fields.String(), required=True)
    signed_on = fields.Date(required=True)


class ExemplarFormSchema(EventSchema):
    """The Gia Lai registration form: a collective's school, address and phone, or a person's
    name, position, unit and phone."""
    school = fields.String()
    address = fields.String()
    name = fields.String(metadata=PERSONAL)
    position = fields.String()
    unit = fields.String()
    phone = fields.String(metadata=PERSONAL)


@contracts.event("registration.exemplar.registered")
class ExemplarRegisteredSchema(ExemplarStepSchema):
    """Đăng ký điển hình: a candidate exemplar, before step 1's selection."""
    details = fields.Nested(ExemplarFormSchema, required=True)
    achievements = fields.String(required=True)


@contracts.event("registration.exemplar.selected")
class ExemplarSelectedSchema(ExemplarStepSchema):
    """Bước 1, xây dựng điển hình: a head selects and commends the exemplar within their scope."""
    head = fields.String(required=True)
    scope_unit_id = fields.String(required=True, allow_none=True)
    commendation = fields.String(required=True)
    commended_on = fields.Date(required=True)


@contracts.event("registration.exemplar.learning_organised")
class LearningOrganisedSchema(ExemplarStepSchema):
    """Bước 3, tổ chức học tập: a unit organises learning from the exemplar."""
    learning_id = fields.String(required=True)
    learning_unit_id = fields.String(required=True)
    held_on = fields.Date(required=True)
    participants = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    form = fields.String(required=True)


@contracts.event("registration.person.erased")
class PersonErasedSchema(EventSchema):
    """Xóa dữ liệu cá nhân theo yêu cầu: the person's key is destroyed, so their personal fields read
    as erased in every event; every service erases its projection's copies. No personal data."""
    person_id = fields.String(required=True, metadata={"description": "the person's id (a pseudonym)"})
    request_reference = fields.String(required=True, metadata={"description": "the person's request, its number"})
    erased_on = fields.Date(required=True)
    key_destroyed = fields.Boolean(required=True, metadata={
        "description": "false when the key was gone already or the person's data was only ever in clear"})
