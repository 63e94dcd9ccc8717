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


# -- councils and their ballots (conflict of interest as data) --------------------------------------
PERSONAL = {"personal": True}
_reasons = validate.OneOf(("is_candidate", "candidate_unit", "declared_interest"))


@contracts.event("evaluation.council.formed")
class CouncilFormedSchema(EventSchema):
    """Hội đồng thi đua – khen thưởng of a unit, for a term."""
    council_id = fields.String(required=True)
    name = fields.String(required=True)
    unit_id = fields.String(required=True)
    term = fields.String(required=True)


@contracts.event("evaluation.council.member_added")
class CouncilMemberAddedSchema(EventSchema):
    council_id = fields.String(required=True)
    person_id = fields.String(required=True, metadata={"description": "the person's id: a participant's, a subject's"})
    name = fields.String(required=True, metadata=PERSONAL)
    unit_id = fields.String(required=True, metadata={"description": "the unit the member belongs to"})
    position = fields.String(required=True, validate=validate.OneOf(("chair", "vice_chair", "secretary", "member")))


@contracts.event("evaluation.council.interest_declared")
class InterestDeclaredSchema(EventSchema):
    """A member declares a conflict of interest with a candidate: recused from their ballots."""
    council_id = fields.String(required=True)
    person_id = fields.String(required=True)
    member_name = fields.String(required=True, metadata=PERSONAL)
    participant_id = fields.String(required=True)
    reason = fields.String(required=True)


class BallotMemberSchema(EventSchema):
    person_id = fields.String(required=True)
    name = fields.String(required=True, metadata=PERSONAL)


@contracts.event("evaluation.ballot.opened")
class BallotOpenedSchema(EventSchema):
    """A candidate comes before the council for one title or form; ``members`` are those on the
    council then, the electorate before recusals."""
    ballot_id = fields.String(required=True)
    council_id = fields.String(required=True)
    council_name = fields.String(required=True)
    registration_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    participant_kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    name = fields.String(required=True, metadata=PERSONAL)
    unit_id = fields.String(required=True, allow_none=True)
    award = fields.String(required=True)
    secret = fields.Boolean(required=True, metadata={"description": "bỏ phiếu kín"})
    members = fields.List(fields.Nested(BallotMemberSchema), required=True)


@contracts.event("evaluation.ballot.member_recused")
class MemberRecusedSchema(EventSchema):
    """A member leaves the candidate's vote and appraisal, for the reason named."""
    ballot_id = fields.String(required=True)
    council_id = fields.String(required=True)
    registration_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    award = fields.String(required=True)
    person_id = fields.String(required=True)
    member_name = fields.String(required=True, metadata=PERSONAL)
    reason = fields.String(required=True, validate=_reasons)
    reason_text = fields.String(required=True, metadata={"description": "the reason, in Vietnamese"})
    vote_struck = fields.Boolean(required=True, metadata={"description": "a vote already cast no longer counts"})


@contracts.event("evaluation.ballot.vote_cast")
class VoteCastSchema(EventSchema):
    """A member's vote in an open vote (a secret ballot is counted by the secretary instead)."""
    ballot_id = fields.String(required=True)
    person_id = fields.String(required=True)
    choice = fields.String(required=True, validate=validate.OneOf(("for", "against", "abstain")))


@contracts.event("evaluation.ballot.closed")
class BallotClosedSchema(EventSchema):
    """The result: the share of votes for over the members entitled to vote (the recused excluded)."""
    ballot_id = fields.String(required=True)
    council_id = fields.String(required=True)
    registration_id = fields.String(required=True)
    participant_id = fields.String(required=True)
    award = fields.String(required=True)
    members_total = fields.Integer(required=True, strict=True)
    recused = fields.Integer(required=True, strict=True)
    entitled = fields.Integer(required=True, strict=True)
    votes_for = fields.Integer(required=True, strict=True)
    votes_against = fields.Integer(required=True, strict=True)
    share_for_pct = fields.Float(required=True)
    voters = fields.Integer(required=True, allow_none=True, strict=True,
                            metadata={"description": "how many handed in a ballot, when the minutes say"})
    secret = fields.Boolean(required=True)
    counted_by = fields.String(required=True, validate=validate.OneOf(("members", "secretary")))
    closed_by = fields.String(required=True)
