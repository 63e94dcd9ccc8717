"""The events evaluation publishes, one payload schema per type and version (the contract: see
shared.eventschema)."""
from marshmallow import fields, validate

from shared.eventschema import Contracts, DocumentRefSchema, EventSchema
from shared.progression import ExemplarStepSchema

contracts = Contracts("evaluation")

_comparisons = validate.OneOf((">=", ">", "<=", "<", "==", "!=", "in"))
_groups = validate.OneOf(("collective", "manager", "teacher", "staff", "worker", "student"))


class WindowSchema(EventSchema):
    from_ = fields.Integer(data_key="from", required=True, strict=True)
    to = fields.Integer(required=True, strict=True)


class CriterionSchema(EventSchema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("quantitative", "qualitative")))
    metric = fields.String(load_default=None)
    comparison = fields.String(load_default=None, validate=_comparisons)
    threshold = fields.Raw(load_default=None, allow_none=True,
                           metadata={"description": "a number, a string, a boolean, or a list for 'in'"})
    unit = fields.String(load_default=None)
    window = fields.Nested(WindowSchema, load_default=None)
    vote_threshold_pct = fields.Float(load_default=None)


@contracts.event("evaluation.criteria_set.defined")
class CriteriaSetDefinedSchema(EventSchema):
    """Bộ tiêu chí: a province's criteria set, defined or redefined (``set_version`` counts)."""
    criteria_set_id = fields.String(required=True)
    set_version = fields.Integer(required=True, strict=True)
    name = fields.String(required=True)
    applies_to = fields.List(fields.String(validate=_groups), required=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True)
    source = fields.String(required=True)


class VotesSchema(EventSchema):
    for_ = fields.Integer(data_key="for", required=True, allow_none=True, strict=True)
    members = fields.Integer(required=True, allow_none=True, strict=True)


class ResultSchema(EventSchema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True)
    passed = fields.Boolean(required=True)
    value = fields.Raw(required=True, allow_none=True, metadata={"description": "what was measured"})
    reason = fields.String(required=True, metadata={"description": "why, in Vietnamese"})
    comparison = fields.String(validate=_comparisons)
    threshold = fields.Raw(allow_none=True)
    votes = fields.Nested(VotesSchema)


class EvidenceDocumentSchema(DocumentRefSchema):
    criterion = fields.String(load_default=None, metadata={"description": "the criterion it is evidence for"})


@contracts.event("evaluation.registration.evaluated")
class RegistrationEvaluatedSchema(EventSchema):
    """Bình xét: a registration judged against a criteria set, criterion by criterion."""
    registration_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    participant_kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    individual_kind = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, metadata={"personal": True})
    unit = fields.String(required=True)
    criteria_set_id = fields.String(required=True)
    criteria_set_version = fields.Integer(required=True, strict=True)
    round = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    evaluated_on = fields.Date(required=True)
    note = fields.String(required=True, allow_none=True)
    documents = fields.List(fields.Nested(EvidenceDocumentSchema), metadata={"description": "evidence files"})
    passed = fields.Boolean(required=True)
    results = fields.List(fields.Nested(ResultSchema), required=True)
    metrics = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                          metadata={"description": "each criterion's metric and its value (a share in per cent)"})


class OutcomeSchema(EventSchema):
    unit_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("learned", "followed", "caught_up", "surpassed")))
    note = fields.String(load_default=None)


class CouncilVoteSchema(EventSchema):
    members_total = fields.Integer(required=True, strict=True)
    votes_for = fields.Integer(required=True, strict=True)


@contracts.event("evaluation.exemplar.reviewed")
class ExemplarReviewedSchema(ExemplarStepSchema):
    """Bước 4, bình xét: the council reviews how units learned, followed, caught up with and
    surpassed the exemplar."""
    assessment = fields.String(required=True)
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True)
    council = fields.Nested(CouncilVoteSchema, required=True)
    reviewed_on = fields.Date(required=True)
