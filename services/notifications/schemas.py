from marshmallow import Schema, fields


class InboxItemSchema(Schema):
    id = fields.String()
    province = fields.String()
    recipient = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
