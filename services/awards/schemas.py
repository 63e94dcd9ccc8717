"""The HTTP edge of awards."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.documents import DocumentRefSchema

from services.awards.rules import hold_kinds

LEVELS = ("prime_minister", "minister", "province", "department", "district", "commune", "school")
_id = validate.Length(min=1, max=100)
_code = validate.Regexp(r"^[a-z0-9_]{2,100}$")


def _iso_date(value: str) -> None:
    """A rule's dates stay strings in the stored rule, but must be real dates (the rulebook parses them)."""
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("not a valid date (YYYY-MM-DD)") from exc


_date = validate.And(validate.Regexp(r"^\d{4}-\d{2}-\d{2}$"), _iso_date)


class MinutesSchema(Schema):
    members_total = fields.Integer(required=True, validate=validate.Range(min=1))
    votes_for = fields.Integer(required=True, validate=validate.Range(min=0))
    meeting_date = fields.Date(load_default=None)

    @post_load
    def _dates_as_text(self, data, **_):
        # the dossier rides in the event as JSON: its date is kept as the ISO text it was given in,
        # the same in the first projection as after a replay
        if data.get("meeting_date") is not None:
            data["meeting_date"] = data["meeting_date"].isoformat()
        return data


class DossierSchema(Schema):
    submission_letter = fields.String(load_default=None, validate=validate.Length(max=500),
                                      metadata={"description": "tờ trình: number or reference"})
    achievement_report = fields.String(load_default=None, validate=validate.Length(max=20000),
                                       metadata={"description": "báo cáo thành tích"})
    council_minutes = fields.Nested(MinutesSchema, load_default=None,
                                    metadata={"description": "biên bản họp hội đồng, kết quả bỏ phiếu kín"})
    certifications = fields.List(fields.String(validate=validate.Length(max=500)), load_default=list)
    documents = fields.List(fields.Nested(DocumentRefSchema), validate=validate.Length(max=50),
                            metadata={"description": "tệp của hồ sơ (tờ trình, báo cáo, biên bản...), mỗi tệp "
                                                     "đã tải lên qua POST /documents"})


class NominateSchema(Schema):
    campaign_id = fields.String(required=True, validate=_id)
    registration_id = fields.String(required=True, validate=_id)
    award = fields.String(required=True, validate=_code)
    kind = fields.String(load_default="periodic", validate=validate.OneOf(("periodic", "thematic")))
    # Both come from the token (the head's unit, the head's own level); a body may only repeat them.
    proposer_unit = fields.String(load_default=None, validate=_id)
    submitted_to = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    dossier = fields.Nested(DossierSchema, required=True)


class AppraiseSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("approved", "returned", "rejected")))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class ResubmitSchema(Schema):
    dossier = fields.Nested(DossierSchema, required=True)


class DecideSchema(Schema):
    """The date is the server's, the level the token's authority, the issuer the token's name."""
    decision_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS),
                          metadata={"description": "may only repeat the token's authority"})


class ParticipantRefSchema(Schema):
    participant_id = fields.String(required=True, validate=_id)
    participant_kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    unit = fields.String(required=True, validate=validate.Length(min=2, max=300))


class AdHocSchema(DecideSchema):
    participant = fields.Nested(ParticipantRefSchema, required=True)
    award = fields.String(required=True, validate=_code)
    achievement = fields.String(required=True, validate=validate.Length(min=5, max=5000))
    campaign_id = fields.String(load_default=None, validate=_id,
                                metadata={"description": "the campaign whose quota it counts against; without "
                                                         "one it counts against no campaign's quota"})


class PastAwardSchema(Schema):
    participant = fields.Nested(ParticipantRefSchema, required=True)
    award = fields.String(required=True, validate=_code)
    year = fields.Integer(required=True, validate=validate.Range(min=1945, max=2100))
    kind = fields.String(load_default="periodic", validate=validate.OneOf(("periodic", "thematic", "ad_hoc")))
    decision_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    decision_date = fields.Date(required=True)
    issuer = fields.String(required=True, validate=validate.Length(min=2, max=300))
    issuer_level = fields.String(required=True, validate=validate.OneOf(LEVELS))


def _hold_kind(value: str) -> None:
    if value not in hold_kinds():  # the rulebook's list (Decree 152, Art 4(4))
        raise ValidationError(f"must be one of: {', '.join(hold_kinds())}")


class HoldSchema(Schema):
    participant_id = fields.String(required=True, validate=_id)
    kind = fields.String(required=True, validate=_hold_kind)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class LiftSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000),
                           metadata={"description": "why (khai man, giả mạo hồ sơ, đề nghị sai...)"})
    decision_number = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                    metadata={"description": "số quyết định thu hồi"})


class RequirementSchema(Schema):
    metric = fields.String(required=True, validate=_code)
    comparison = fields.String(required=True, validate=validate.OneOf((">=", ">", "<=", "<", "==", "in")))
    threshold = fields.Raw(required=True)

    @validates_schema
    def _threshold_fits_the_comparison(self, data, **_):
        threshold = data.get("threshold")
        if data.get("comparison") == "in" and not isinstance(threshold, list):
            raise ValidationError({"threshold": ["must be a list when the comparison is 'in'"]})
        if data.get("comparison") not in (None, "in") and not isinstance(threshold, (int, float, str, bool)):
            raise ValidationError({"threshold": ["must be a number, a string or a boolean"]})


class RequiresSchema(Schema):
    all_of = fields.List(fields.Nested(RequirementSchema), load_default=list)
    any_of = fields.List(fields.Nested(RequirementSchema), load_default=list)


class ChainSchema(Schema):
    award = fields.String(load_default=None, validate=_code)
    award_any = fields.List(fields.String(validate=_code), load_default=None)
    consecutive_years = fields.Integer(required=True, validate=validate.Range(min=1, max=20))


class AwardRuleSchema(Schema):
    code = fields.String(required=True, validate=_code)
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    category = fields.String(required=True, validate=validate.OneOf(("title", "form")))
    applies_to = fields.String(required=True, validate=validate.OneOf(("individual", "collective", "both")))
    requires = fields.Nested(RequiresSchema, load_default=dict)
    ballot_pct = fields.Float(load_default=None, validate=validate.Range(min=0, max=100))
    chain = fields.Nested(ChainSchema, load_default=None)
    once_per_person = fields.Boolean(load_default=False)
    source = fields.String(required=True, validate=validate.Length(min=3, max=500))
    valid_from = fields.String(required=True, validate=_date)
    valid_to = fields.String(load_default=None, validate=_date)


class AuthorityRuleSchema(Schema):
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    confers = fields.List(fields.String(validate=_code), required=True)
    source = fields.String(required=True, validate=validate.Length(min=3, max=500))
    valid_from = fields.String(required=True, validate=_date)
    valid_to = fields.String(load_default=None, validate=_date)


class SelectorSchema(Schema):
    award = fields.String(load_default=None, validate=_code)
    rating = fields.List(fields.String(validate=_code), load_default=None, validate=validate.Length(min=1))

    @validates_schema
    def _one_of_award_or_rating(self, data, **_):
        if (data.get("award") is None) == (data.get("rating") is None):
            raise ValidationError("give exactly one of award, rating", "award")


class CapRuleSchema(Schema):
    """A percentage cap per unit and campaign: those matching ``counts`` at most ``max_pct`` % of those
    matching ``of``."""
    code = fields.String(required=True, validate=_code)
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    counts = fields.Nested(SelectorSchema, required=True)
    of = fields.Nested(SelectorSchema, required=True)
    max_pct = fields.Float(required=True, validate=validate.Range(min=0, max=100))
    source = fields.String(required=True, validate=validate.Length(min=3, max=500))
    valid_from = fields.String(required=True, validate=_date)
    valid_to = fields.String(load_default=None, validate=_date)


class DefineRuleSchema(Schema):
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=16))
    award = fields.Nested(AwardRuleSchema, load_default=None)
    authority = fields.Nested(AuthorityRuleSchema, load_default=None)
    cap = fields.Nested(CapRuleSchema, load_default=None)


class NominationSchema(Schema):
    id = fields.String()
    province = fields.String()
    campaign_id = fields.String(allow_none=True)
    registration_id = fields.String(allow_none=True)
    participant_id = fields.String()
    participant_kind = fields.String()
    name = fields.String()
    unit = fields.String()
    award = fields.String()
    award_name = fields.String()
    kind = fields.String()
    status = fields.String()
    target_level = fields.String()
    proposer_unit = fields.String(allow_none=True)
    submitted_on = fields.Date(allow_none=True)
    dossier = fields.Dict()
    last_reason = fields.String(allow_none=True)
    decision_number = fields.String(allow_none=True)
    decision_date = fields.Date(allow_none=True)


class HistorySchema(Schema):
    id = fields.String()
    participant_id = fields.String()
    name = fields.String()
    award = fields.String()
    award_name = fields.String()
    kind = fields.String()
    year = fields.Integer()
    campaign_id = fields.String(allow_none=True)
    decision_number = fields.String()
    decision_date = fields.Date()
    issuer = fields.String()
    level = fields.String()
    status = fields.String()
    imported = fields.Boolean()
    revoked_on = fields.Date(allow_none=True)
    revocation_number = fields.String(allow_none=True)
    revocation_reason = fields.String(allow_none=True)


class HistoryQuerySchema(Schema):
    include_revoked = fields.Boolean(load_default=False)


class AwardCountSchema(Schema):
    award = fields.String()
    name = fields.String()
    category = fields.String(allow_none=True, metadata={"description": "title (danh hiệu) or form (hình thức)"})
    nominations = fields.Integer()
    awards = fields.Integer()


class NationalAwardsSchema(Schema):
    province = fields.String()
    nominations = fields.Integer()
    awards = fields.Integer(metadata={"description": "valid awards (a revoked one is not counted)"})
    by_award = fields.List(fields.Nested(AwardCountSchema))


class HoldViewSchema(Schema):
    id = fields.String()
    participant_id = fields.String()
    kind = fields.String()
    reason = fields.String()
    status = fields.String()
    placed_on = fields.Date()
    lifted_on = fields.Date(allow_none=True)


class QuotaSchema(Schema):
    award = fields.String()
    applies_to = fields.String()
    max = fields.Integer(allow_none=True)
    min = fields.Integer(allow_none=True)
    used = fields.Integer()


class ParticipantSchema(Schema):
    registration_id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    name = fields.String()
    unit = fields.String()
    unit_id = fields.String(allow_none=True)
    status = fields.String()
    evaluation = fields.String()


class PublicAwardQuerySchema(Schema):
    name = fields.String(load_default=None, validate=validate.Length(min=2, max=200),
                         metadata={"description": "words of the name, with or without marks (tran thi bich)"})
    participant_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    kind = fields.String(load_default=None, validate=validate.OneOf(("individual", "collective")))

    @validates_schema
    def _one_of(self, data, **_):
        if not data.get("name") and not data.get("participant_id"):
            raise ValidationError("Nhập tên (ít nhất 2 ký tự) hoặc mã người, tập thể cần tra cứu", "name")


class PublicAwardSchema(Schema):
    """An award as it is made public (công khai): what the decision itself says, nothing personal beyond it."""
    participant_id = fields.String()
    participant_kind = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    award = fields.String()
    award_name = fields.String()
    year = fields.Integer()
    campaign_id = fields.String(allow_none=True)
    decision_number = fields.String()
    decision_date = fields.Date()
    issuer = fields.String()
    level = fields.String()
