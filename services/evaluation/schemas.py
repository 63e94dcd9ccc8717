from marshmallow import Schema, fields


class CandidateSchema(Schema):
    registration_id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    individual_kind = fields.String(allow_none=True)
    name = fields.String()
    unit = fields.String()
    status = fields.String()
