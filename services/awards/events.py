"""The events awards publishes, one payload schema per type and version (the contract: see
shared.eventschema).

``awards.award.recorded`` is at v2: v1 named the deciding level ``issuer_level`` where every
other award event says ``level``, and its first events (before the import path was called so)
carried no ``imported`` flag nor who imported them and when.
"""
from typing import Any

from marshmallow import fields, validate

from shared.eventschema import Contracts, DocumentRefSchema, EventSchema
from shared.progression import ExemplarStepSchema

contracts = Contracts("awards")

PERSONAL = {"personal": True}
_levels = validate.OneOf(("prime_minister", "minister", "province", "department", "district", "commune", "school"))
_participant_kinds = validate.OneOf(("collective", "individual"))
_award_kinds = validate.OneOf(("periodic", "thematic", "ad_hoc"))


class ParticipantRefSchema(EventSchema):
    participant_id = fields.String(required=True)
    participant_kind = fields.String(required=True, validate=_participant_kinds)
    name = fields.String(required=True, metadata=PERSONAL)
    unit = fields.String(required=True)


class MinutesSchema(EventSchema):
    members_total = fields.Integer(required=True, strict=True)
    votes_for = fields.Integer(required=True, strict=True)
    meeting_date = fields.Date(load_default=None)


class DossierSchema(EventSchema):
    """Hồ sơ: submission letter, achievement report, council minutes with the ballot, certifications,
    and the dossier's files."""
    submission_letter = fields.String(load_default=None)
    achievement_report = fields.String(load_default=None)
    council_minutes = fields.Nested(MinutesSchema, load_default=None)
    certifications = fields.List(fields.String())
    documents = fields.List(fields.Nested(DocumentRefSchema))


class BallotSchema(EventSchema):
    """The council's ballot on the candidate (evaluation's), its share over the members entitled to vote."""
    id = fields.String(required=True)
    council_id = fields.String(required=True)
    members_total = fields.Integer(required=True, strict=True)
    recused = fields.Integer(required=True, strict=True)
    entitled = fields.Integer(required=True, strict=True)
    votes_for = fields.Integer(required=True, strict=True)
    share_for_pct = fields.Float(required=True)


@contracts.event("awards.nomination.submitted")
class NominationSubmittedSchema(EventSchema):
    """Đề nghị khen thưởng: a head proposes an award for an evaluated registration (or, in step 5,
    for an exemplar), to the proposer's own level first."""
    nomination_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    campaign_title = fields.String(required=True, allow_none=True)
    registration_id = fields.String(required=True, allow_none=True, metadata={"description": "none in step 5"})
    participant = fields.Nested(ParticipantRefSchema, required=True)
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    rule_source = fields.String(required=True)
    kind = fields.String(required=True, validate=_award_kinds)
    year = fields.Integer(required=True, strict=True)
    proposer_unit = fields.String(required=True, allow_none=True)
    submitted_to = fields.String(required=True, validate=_levels)
    submitted_on = fields.Date(required=True)
    dossier = fields.Nested(DossierSchema, required=True)
    evaluation_round = fields.Integer(required=True, allow_none=True, strict=True)
    ballot = fields.Nested(BallotSchema, metadata={"description": "the council's ballot that counted, for a title "
                                                                  "that needs one"})


@contracts.event("awards.nomination.escalated")
class NominationEscalatedSchema(EventSchema):
    """Trình cấp trên: the proposal climbs one level, beyond the authority of the one below."""
    nomination_id = fields.String(required=True)
    from_level = fields.String(required=True, validate=_levels)
    to_level = fields.String(required=True, validate=_levels)
    award = fields.String(required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)


@contracts.event("awards.nomination.appraised")
class NominationAppraisedSchema(EventSchema):
    """Thẩm định: approved, returned to be completed, or rejected."""
    nomination_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("approved", "returned", "rejected")))
    reason = fields.String(required=True)
    appraised_on = fields.Date(load_default=None, metadata={"description": "absent in the first events"})
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    campaign_id = fields.String(required=True, allow_none=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)


@contracts.event("awards.nomination.resubmitted")
class NominationResubmittedSchema(EventSchema):
    """A returned proposal's dossier completed."""
    nomination_id = fields.String(required=True)
    dossier = fields.Nested(DossierSchema, required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)
    award = fields.String(required=True)


@contracts.event("awards.award.decided")
class AwardDecidedSchema(EventSchema):
    """Quyết định khen thưởng: by the competent level, within quota and caps; ad hoc (đột xuất)
    decisions carry the achievement."""
    nomination_id = fields.String(required=True)
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)
    campaign_id = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, validate=_award_kinds)
    year = fields.Integer(required=True, strict=True)
    decision_number = fields.String(required=True)
    decision_date = fields.Date(required=True)
    level = fields.String(required=True, validate=_levels)
    issuer = fields.String(required=True)
    achievement = fields.String(metadata={"description": "ad hoc decisions only"})


class _AwardRecorded(EventSchema):
    record_id = fields.String(required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    year = fields.Integer(required=True, strict=True)
    kind = fields.String(required=True, validate=_award_kinds)
    decision_number = fields.String(required=True)
    decision_date = fields.Date(required=True)
    issuer = fields.String(required=True)
    imported_by = fields.String(load_default=None)
    imported_on = fields.Date(load_default=None)


@contracts.event("awards.award.recorded", 1)
class AwardRecordedV1Schema(_AwardRecorded):
    """A past decision entered from the records (the import path), as issued."""
    issuer_level = fields.String(required=True, validate=_levels)
    imported = fields.Boolean(load_default=True)


def award_recorded_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: ``issuer_level`` is ``level``, as in every other award event; every recorded
    award came by the import path, before it was flagged so; who imported the first ones, and
    when, was not kept."""
    data["level"] = data.pop("issuer_level")
    data["imported"] = True
    data.setdefault("imported_by", None)
    data.setdefault("imported_on", None)
    return data


@contracts.event("awards.award.recorded", 2, upcast=award_recorded_v2)
class AwardRecordedSchema(_AwardRecorded):
    """A past decision entered from the records (the import path), as issued."""
    level = fields.String(required=True, validate=_levels, metadata={"description": "the level that decided it"})
    imported = fields.Boolean(required=True, validate=validate.Equal(True))
    imported_by = fields.String(required=True, allow_none=True, metadata={"description": "none before v2"})
    imported_on = fields.Date(required=True, allow_none=True, metadata={"description": "none before v2"})


class RevokedParticipantSchema(EventSchema):
    participant_id = fields.String(required=True)
    participant_kind = fields.String(required=True, validate=_participant_kinds)
    name = fields.String(required=True, metadata=PERSONAL)


@contracts.event("awards.award.revoked")
class AwardRevokedSchema(EventSchema):
    """Thu hồi: the award leaves history, chains and the quota it used, by a decision of its own."""
    award_id = fields.String(required=True)
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    participant = fields.Nested(RevokedParticipantSchema, required=True)
    campaign_id = fields.String(required=True, allow_none=True)
    revoked_decision_number = fields.String(required=True)
    decision_number = fields.String(required=True)
    reason = fields.String(required=True)
    revoked_on = fields.Date(required=True)
    level = fields.String(required=True, validate=_levels)
    issuer = fields.String(required=True)


@contracts.event("awards.hold.placed")
class HoldPlacedSchema(EventSchema):
    """Tạm hoãn: no award or proposal for the person while discipline, investigation or a
    complaint is pending."""
    hold_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    kind = fields.String(required=True)
    reason = fields.String(required=True)
    placed_on = fields.Date(required=True)
    placed_by = fields.String(load_default=None, metadata={"description": "absent in the first events"})


@contracts.event("awards.hold.lifted")
class HoldLiftedSchema(EventSchema):
    """A hold lifted."""
    hold_id = fields.String(required=True)
    reason = fields.String(required=True)
    lifted_on = fields.Date(required=True)


@contracts.event("awards.rule.defined")
class RuleDefinedSchema(EventSchema):
    """A province's rule, as dated data: an award's standard, an authority, or a percentage cap."""
    rule_id = fields.String(required=True)
    section = fields.String(required=True, validate=validate.OneOf(("award", "authority", "cap")))
    rule = fields.Dict(required=True, metadata={"description": "as POST /rules takes it, for its section"})


@contracts.event("awards.exemplar.recognised")
class ExemplarRecognisedSchema(ExemplarStepSchema):
    """Bước 5, khen thưởng / trình cấp trên: the head judges the exemplar's influence and spread,
    commends it within their authority or proposes it upward."""
    influence = fields.String(required=True)
    spread_units = fields.Integer(required=True, strict=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("commended", "nominated")))
    award = fields.String(required=True)
    award_name = fields.String(required=True)
    rule_source = fields.String(required=True)
    level = fields.String(required=True, validate=_levels)
    nomination_id = fields.String(required=True)
