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
