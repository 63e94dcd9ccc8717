"""HTTP API of registration: campaigns, registrations, units, clusters and covenants."""
import json
import uuid
from datetime import datetime, timezone

from flask import current_app
from flask.views import MethodView
from sqlalchemy import bindparam, select

from shared import auth
from shared.blueprint import Blueprint
from shared.errors import NotFound
from shared.service import execute, runtime

from services.registration import domain, handlers
from services.registration.projections import (CAMPAIGN_DETAILS, campaigns, clusters, covenants,
                                               members, registration_row, registrations, units)
from services.registration.schemas import (CampaignSchema, ClusterSchema, CovenantSchema,
                                           CovenantViewSchema, LaunchCampaignSchema, MemberSchema,
                                           RegisterSchema, RegistrationSchema, UnitSchema,
                                           UnitViewSchema, WithdrawSchema)

blp = Blueprint("registration", __name__, description="Phong trào thi đua và đăng ký thi đua")

LAUNCHERS = ("department", "authority", "council")
REGISTRANTS = ("unit_head", "participant", "department", "service")
ORGANISERS = ("department", "authority", "council", "unit_head")


def _execute(command, province: str, correlation_id: str):
    return execute(handlers.COMMAND_HANDLERS, command, province, correlation_id)


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(LaunchCampaignSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body):
        """Phát động phong trào thi đua (launch a campaign, or a sub-movement of one)."""
        auth.require_role(*LAUNCHERS)
        province = auth.province_for(body.pop("province"))
        deadlines = {k: v for k, v in body.pop("deadlines").items() if v is not None}
        cmd = domain.LaunchCampaign(
            campaign_id=str(uuid.uuid4()), province=province, deadlines=deadlines,
            target_groups=tuple(body.pop("target_groups")), content_areas=tuple(body.pop("content_areas")),
            criteria_set_ids=tuple(body.pop("criteria_set_ids")), award_plan=tuple(body.pop("award_plan")),
            exemplar_targets=tuple(body.pop("exemplar_targets")),
            **body)
        _execute(cmd, province, f"campaign-{cmd.campaign_id}")
        return _campaign(cmd.campaign_id)

    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """Các phong trào thi đua của tỉnh (campaigns visible to the caller)."""
        with runtime().db.read() as conn:
            rows = conn.execute(select(campaigns).where(campaigns.c.province.in_(auth.provinces_visible()))
                                .order_by(campaigns.c.period_start.desc())).mappings().all()
        return [_campaign_view(r, []) for r in rows]


@blp.route("/campaigns/<campaign_id>")
class CampaignOne(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        """Một phong trào thi đua, với các phong trào con (a campaign and its sub-movements)."""
        return _campaign(campaign_id)


@blp.route("/campaigns/<campaign_id>/registrations")
class CampaignRegistrations(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body, campaign_id):
        """Đăng ký thi đua (register a collective or an individual with its emulation content)."""
        auth.require_role(*REGISTRANTS)
        province = auth.province_for(_campaign_province(campaign_id))
        cmd = domain.RegisterParticipant(
            registration_id=str(uuid.uuid4()), campaign_id=campaign_id, province=province,
            participant=body["participant"], pledges=tuple(body["pledges"]),
            registered_on=body["registered_on"] or datetime.now(timezone.utc).date())
        event = _execute(cmd, province, f"registration-{cmd.registration_id}")
        return {**registration_row(event), "pledges": event.data["pledges"]}  # the row written, not read back

    @blp.response(200, RegistrationSchema(many=True))
    def get(self, campaign_id):
        """Các đăng ký thi đua của phong trào (the campaign's registrations)."""
        _campaign(campaign_id)
        with runtime().db.read() as conn:
            rows = conn.execute(select(registrations).where(registrations.c.campaign_id == campaign_id)
                                .order_by(registrations.c.registered_on, registrations.c.name)
                                ).mappings().all()
        return [_registration_view(r) for r in rows]


@blp.route("/registrations/<registration_id>")
class RegistrationOne(MethodView):
    @blp.response(200, RegistrationSchema)
    def get(self, registration_id):
        return _registration(registration_id)


@blp.route("/registrations/<registration_id>/withdrawal")
class Withdrawal(MethodView):
    @blp.arguments(WithdrawSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body, registration_id):
        """Rút đăng ký thi đua (withdraw a registration)."""
        auth.require_role(*REGISTRANTS)
        province = auth.province_for(_registration(registration_id)["province"])
        _execute(domain.WithdrawRegistration(registration_id, province, body["reason"]), province,
                 f"registration-{registration_id}")
        return _registration(registration_id)


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitSchema)
    @blp.response(201, UnitViewSchema)
    def post(self, body):
        """Đăng ký đơn vị (a unit, placed under its parent unit)."""
        auth.require_role(*ORGANISERS)
        province = auth.province_for(body.pop("province"))
        unit_id = body.pop("id")
        _execute(domain.RegisterUnit(unit_id=unit_id, province=province, **body), province,
                 f"unit-{unit_id}")
        return _unit(unit_id)

    @blp.response(200, UnitViewSchema(many=True))
    def get(self):
        with runtime().db.read() as conn:
            ids = conn.execute(select(units.c.id).where(units.c.province.in_(auth.provinces_visible()))
                               .order_by(units.c.name)).scalars().all()
        return [_unit(i) for i in ids]


@blp.route("/units/<unit_id>")
class UnitOne(MethodView):
    @blp.response(200, UnitViewSchema)
    def get(self, unit_id):
        return _unit(unit_id)


@blp.route("/units/<unit_id>/members")
class UnitMembers(MethodView):
    @blp.arguments(MemberSchema)
    @blp.response(201, UnitViewSchema)
    def post(self, body, unit_id):
        """Thêm thành viên vào đơn vị (add a member to a unit)."""
        auth.require_role(*ORGANISERS)
        province = auth.province_for(_unit(unit_id)["province"])
        _execute(domain.AddMember(unit_id, province, body), province, f"unit-{unit_id}")
        return _unit(unit_id)


@blp.route("/clusters")
class Clusters(MethodView):
    @blp.arguments(ClusterSchema)
    @blp.response(201, ClusterSchema)
    def post(self, body):
        """Lập cụm, khối thi đua (form an emulation cluster or block)."""
        auth.require_role(*LAUNCHERS)
        province = auth.province_for(body.pop("province"))
        cmd = domain.FormCluster(cluster_id=body["id"], province=province, name=body["name"],
                                 kind=body["kind"], member_unit_ids=tuple(body["member_unit_ids"]))
        _execute(cmd, province, f"cluster-{cmd.cluster_id}")
        return _cluster(cmd.cluster_id)


@blp.route("/clusters/<cluster_id>")
class ClusterOne(MethodView):
    @blp.response(200, ClusterSchema)
    def get(self, cluster_id):
        return _cluster(cluster_id)


@blp.route("/clusters/<cluster_id>/covenants")
class Covenants(MethodView):
    @blp.arguments(CovenantSchema)
    @blp.response(201, CovenantViewSchema)
    def post(self, body, cluster_id):
        """Ký kết giao ước thi đua (the cluster's members sign a covenant for a campaign)."""
        auth.require_role(*ORGANISERS)
        province = auth.province_for(_cluster(cluster_id)["province"])
        cmd = domain.SignCovenant(covenant_id=str(uuid.uuid4()), cluster_id=cluster_id, province=province,
                                  campaign_id=body["campaign_id"], content=body["content"],
                                  signed_by=tuple(body["signed_by"]), signed_on=body["signed_on"])
        _execute(cmd, province, f"cluster-{cluster_id}")
        return _covenants(cluster_id, cmd.covenant_id)[0]

    @blp.response(200, CovenantViewSchema(many=True))
    def get(self, cluster_id):
        _cluster(cluster_id)
        return _covenants(cluster_id)


# -- reads, always filtered by the caller's provinces -------------------------------
def _one(table, key_col, key, what: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(table).where(key_col == key, table.c.province.in_(
            auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không tìm thấy {what} {key}")
    return dict(row)


_CAMPAIGN_PROVINCE = select(campaigns.c.province).where(campaigns.c.id == bindparam("id"))


def _campaign_province(campaign_id: str) -> str:
    """The campaign's province, if the caller may see it (the hot path: one small read, once:
    a campaign's province never changes, so each process remembers it)."""
    known = current_app.extensions.setdefault("registration.campaign_provinces", {})
    province = known.get(campaign_id)
    if province is None:
        with runtime().db.read() as conn:
            province = conn.execute(_CAMPAIGN_PROVINCE, {"id": campaign_id}).scalar()
        if province is not None:
            if len(known) >= 10_000:
                known.clear()
            known[campaign_id] = province
    if province is None or province not in auth.provinces_visible():
        raise NotFound(f"Không tìm thấy phong trào thi đua {campaign_id}")
    return province


def _campaign(campaign_id: str) -> dict:
    row = _one(campaigns, campaigns.c.id, campaign_id, "phong trào thi đua")
    with runtime().db.read() as conn:
        subs = conn.execute(select(campaigns.c.id).where(campaigns.c.parent_campaign_id == campaign_id)
                            ).scalars().all()
    return _campaign_view(row, subs)


def _campaign_view(row, subs) -> dict:
    details = json.loads(row["details"])
    return {**{k: v for k, v in row.items() if k != "details"},
            **{k: details.get(k) or ([] if k != "deadlines" else {}) for k in CAMPAIGN_DETAILS},
            "sub_campaigns": list(subs)}


def _registration(registration_id: str) -> dict:
    return _registration_view(_one(registrations, registrations.c.id, registration_id, "đăng ký thi đua"))


def _registration_view(row) -> dict:
    return {**row, "pledges": json.loads(row["pledges"])}


def _unit(unit_id: str) -> dict:
    row = _one(units, units.c.id, unit_id, "đơn vị")
    with runtime().db.read() as conn:
        people = conn.execute(select(members).where(members.c.unit_id == unit_id)
                              .order_by(members.c.name)).mappings().all()
        children = conn.execute(select(units.c.id).where(units.c.parent_id == unit_id)).scalars().all()
    return {**row, "members": [dict(p) for p in people], "children": list(children)}


def _cluster(cluster_id: str) -> dict:
    row = _one(clusters, clusters.c.id, cluster_id, "cụm, khối thi đua")
    return {**row, "member_unit_ids": json.loads(row["member_unit_ids"])}


def _covenants(cluster_id: str, covenant_id: str | None = None) -> list[dict]:
    query = select(covenants).where(covenants.c.cluster_id == cluster_id)
    if covenant_id:
        query = query.where(covenants.c.id == covenant_id)
    with runtime().db.read() as conn:
        rows = conn.execute(query.order_by(covenants.c.signed_on)).mappings().all()
    return [{**r, "signed_by": json.loads(r["signed_by"])} for r in rows]
