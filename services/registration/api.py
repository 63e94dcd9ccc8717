"""HTTP API of registration."""
import json
import uuid
from datetime import datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from shared import auth
from shared.errors import NotFound
from shared.service import command_context, runtime

from services.registration import domain, handlers
from services.registration.projections import campaigns, registrations
from services.registration.schemas import (CampaignSchema, LaunchCampaignSchema, RegisterSchema,
                                           RegistrationSchema)

blp = Blueprint("registration", __name__, description="Phong trào thi đua và đăng ký thi đua")

LAUNCHERS = ("department", "authority")
REGISTRANTS = ("unit_head", "participant", "department", "service")


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(LaunchCampaignSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body):
        """Phát động phong trào thi đua (launch a campaign)."""
        auth.require_role(*LAUNCHERS)
        province = auth.province_for(body.pop("province"))
        cmd = domain.LaunchCampaign(campaign_id=str(uuid.uuid4()), province=province, **body)
        rt = runtime()
        with rt.db.write() as conn:
            handlers.handle(rt.store, conn, cmd, command_context(province, f"campaign-{cmd.campaign_id}"))
        return _campaign(cmd.campaign_id)

    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """Các phong trào thi đua của tỉnh (campaigns visible to the caller)."""
        with runtime().db.read() as conn:
            rows = conn.execute(select(campaigns).where(campaigns.c.province.in_(auth.provinces_visible()))
                                .order_by(campaigns.c.period_start.desc())).mappings().all()
        return rows


@blp.route("/campaigns/<campaign_id>")
class CampaignOne(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        return _campaign(campaign_id)


@blp.route("/campaigns/<campaign_id>/registrations")
class CampaignRegistrations(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body, campaign_id):
        """Đăng ký thi đua (register a collective or an individual with its emulation content)."""
        auth.require_role(*REGISTRANTS)
        campaign = _campaign(campaign_id)
        province = auth.province_for(campaign["province"])
        cmd = domain.RegisterParticipant(
            registration_id=str(uuid.uuid4()), campaign_id=campaign_id, province=province,
            participant=body["participant"], pledges=tuple(body["pledges"]),
            registered_on=body["registered_on"] or datetime.now(timezone.utc).date())
        rt = runtime()
        with rt.db.write() as conn:
            handlers.handle(rt.store, conn, cmd,
                            command_context(province, f"registration-{cmd.registration_id}"))
        return _registration(cmd.registration_id)

    @blp.response(200, RegistrationSchema(many=True))
    def get(self, campaign_id):
        _campaign(campaign_id)
        with runtime().db.read() as conn:
            rows = conn.execute(select(registrations).where(registrations.c.campaign_id == campaign_id)
                                .order_by(registrations.c.registered_on)).mappings().all()
        return [_registration_view(r) for r in rows]


@blp.route("/registrations/<registration_id>")
class RegistrationOne(MethodView):
    @blp.response(200, RegistrationSchema)
    def get(self, registration_id):
        return _registration(registration_id)


def _campaign(campaign_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(campaigns).where(
            campaigns.c.id == campaign_id,
            campaigns.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không tìm thấy phong trào thi đua {campaign_id}")
    return dict(row)


def _registration(registration_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(registrations).where(
            registrations.c.id == registration_id,
            registrations.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không tìm thấy đăng ký thi đua {registration_id}")
    return _registration_view(row)


def _registration_view(row) -> dict:
    return {**row, "pledges": json.loads(row["pledges"])}
