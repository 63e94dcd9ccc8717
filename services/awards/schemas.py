from marshmallow import Schema, fields


class ParticipantSchema(Schema):
    registration_id = fields.String()
    campaign_id = fields.String()
    province = fields.String()
    participant_id = fields.String()
    participant_kind = fields.String()
    name = fields.String()
    unit = fields.String()
    evaluation = fields.String()
