"""The HTTP edge of evaluation."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.documents import DocumentRefSchema

GROUPS = ("collective", "manager", "teacher", "staff", "worker", "student")
_id = validate.Length(min=1, max=100)


class WindowSchema(Schema):
    from_ = fields.Integer(data_key="from", attribute="from", required=True)
    to = fields.Integer(required=True)


class CriterionSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"))
    label = fields.String(required=True, validate=validate.Length(min=2, max=500))
    kind = fields.String(required=True, validate=validate.OneOf(("quantitative", "qualitative")))
    metric = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"))
    comparison = fields.String(load_default=None, validate=validate.OneOf((">=", ">", "<=", "<", "==", "!=", "in")))
    threshold = fields.Raw(load_default=None, allow_none=True)
    unit = fields.String(load_default=None, validate=validate.Length(max=20))
    window = fields.Nested(WindowSchema, load_default=None)
    vote_threshold_pct = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))

    @validates_schema
    def _quantitative_needs_a_rule(self, data, **_):
        if data["kind"] != "quantitative":
            return
        errors = {f: ["required for a quantitative criterion"] for f in ("metric", "comparison")
                  if not data.get(f)}
        if data.get("threshold") is None:
            errors["threshold"] = ["required for a quantitative criterion"]
        elif data.get("comparison") == "in" and not isinstance(data["threshold"], list):
            errors["threshold"] = ["must be a list when the comparison is 'in'"]
        elif data.get("comparison") not in (None, "in") and not isinstance(data["threshold"], (int, float, str, bool)):
            errors["threshold"] = ["must be a number, a string or a boolean"]
        if errors:
            raise ValidationError(errors)


class CriteriaSetSchema(Schema):
    id = fields.String(required=True, validate=_id)
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    applies_to = fields.List(fields.String(validate=validate.OneOf(GROUPS)), load_default=list)
    source = fields.String(required=True, validate=validate.Length(min=2, max=500),
                           metadata={"description": "the plan or regulation the criteria come from"})
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=validate.Length(min=1, max=100))


class CriteriaSetViewSchema(CriteriaSetSchema):
    version = fields.Integer()


class EvidenceDocumentSchema(DocumentRefSchema):
    criterion = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"),
                              metadata={"description": "the criterion the file is evidence for; none: the whole"})


class EvaluateSchema(Schema):
    registration_id = fields.String(required=True, validate=_id)
    criteria_set_id = fields.String(required=True, validate=_id)
    evidence = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    documents = fields.List(fields.Nested(EvidenceDocumentSchema), load_default=list,
                            validate=validate.Length(max=100),
                            metadata={"description": "tệp minh chứng, mỗi tệp đã tải lên qua POST /documents"})
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ResultSchema(Schema):
    code = fields.String()
    label = fields.String()
    kind = fields.String()
    passed = fields.Boolean()
    value = fields.Raw(allow_none=True)
    comparison = fields.String()
    threshold = fields.Raw()
    votes = fields.Dict()
    reason = fields.String()


class EvaluationSchema(Schema):
    registration_id = fields.String()
    round = fields.Integer()
    campaign_id = fields.String()
    criteria_set_id = fields.String()
    criteria_set_version = fields.Integer()
    passed = fields.Boolean()
    evaluated_on = fields.Date()
    note = fields.String(allow_none=True)
    results = fields.List(fields.Nested(ResultSchema))
    documents = fields.List(fields.Nested(EvidenceDocumentSchema))


class CandidateSchema(Schema):
    registration_id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    individual_kind = fields.String(allow_none=True)
    name = fields.String()
    unit = fields.String()
    unit_id = fields.String(allow_none=True)
    status = fields.String()


# -- councils and their ballots ------------------------------------------------------------------
POSITIONS = ("chair", "vice_chair", "secretary", "member")


class CouncilSchema(Schema):
    id = fields.String(required=True, validate=_id)
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit_id = fields.String(required=True, validate=_id,
                            metadata={"description": "the unit (organisation chart) whose council it is"})
    term = fields.String(required=True, validate=validate.Length(min=4, max=30),
                         metadata={"description": "e.g. the school year 2024-2025"})


class MemberSchema(Schema):
    person_id = fields.String(required=True, validate=_id,
                              metadata={"description": "the person's id: the same as a participant's id and a "
                                                       "token's subject"})
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit_id = fields.String(required=True, validate=_id, metadata={"description": "the unit the person belongs to"})
    position = fields.String(load_default="member", validate=validate.OneOf(POSITIONS))


class CouncilViewSchema(CouncilSchema):
    members = fields.List(fields.Nested(MemberSchema))


class InterestSchema(Schema):
    participant_id = fields.String(required=True, validate=_id)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    person_id = fields.String(load_default=None, validate=_id,
                              metadata={"description": "may only repeat the caller's own (token subject)"})


class InterestViewSchema(Schema):
    council_id = fields.String()
    person_id = fields.String()
    participant_id = fields.String()
    recused_from = fields.List(fields.String(), metadata={"description": "open ballots the member left at once"})


class OpenBallotSchema(Schema):
    council_id = fields.String(required=True, validate=_id)
    registration_id = fields.String(required=True, validate=_id)
    award = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,100}$"),
                          metadata={"description": "the title or form the council votes on proposing"})
    secret = fields.Boolean(load_default=True, metadata={"description": "bỏ phiếu kín"})


class VoteSchema(Schema):
    choice = fields.String(required=True, validate=validate.OneOf(("for", "against", "abstain")))


class BallotResultSchema(Schema):
    """Without counts, the tally of the votes members cast here; with them, the paper ballot box's."""
    votes_for = fields.Integer(load_default=None, validate=validate.Range(min=0))
    votes_against = fields.Integer(load_default=None, validate=validate.Range(min=0))
    voters = fields.List(fields.String(validate=_id), load_default=None, validate=validate.Length(max=500),
                         metadata={"description": "who handed in a ballot (the minutes' list), never who voted what"})

    @validates_schema
    def _both_or_neither(self, data, **_):
        if (data.get("votes_for") is None) != (data.get("votes_against") is None):
            raise ValidationError("cần nêu cả votes_for và votes_against, hoặc không nêu cả hai "
                                  "(give both, or neither)", "votes_for")


class RecusalSchema(Schema):
    person_id = fields.String()
    member_name = fields.String()
    reason = fields.String(metadata={"description": "is_candidate, candidate_unit or declared_interest"})
    explanation = fields.String()
    event_id = fields.String(metadata={"description": "the recusal's event in evaluation's store"})


class BallotViewSchema(Schema):
    id = fields.String()
    province = fields.String()
    council_id = fields.String()
    registration_id = fields.String()
    participant_id = fields.String()
    name = fields.String()
    award = fields.String()
    status = fields.String()
    secret = fields.Boolean()
    members_total = fields.Integer()
    recused = fields.Integer()
    entitled = fields.Integer(metadata={"description": "members entitled to vote: the members less the recused"})
    votes_cast = fields.Integer()
    votes_for = fields.Integer(allow_none=True)
    votes_against = fields.Integer(allow_none=True)
    share_for_pct = fields.Float(allow_none=True, metadata={"description": "votes for, over the entitled"})
    recusals = fields.List(fields.Nested(RecusalSchema))
