"""HTTP API of registration: campaigns, registrations, units, clusters and covenants.

Who the caller is (their unit, its level and name) comes from the token; the dates that decide
(registration, signing) are the server's (:func:`shared.service.today`). Ids a user chooses
(units, clusters) are looked up in the caller's province only."""
import json
import uuid

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy import bindparam, func, select

from shared import auth, cases
from shared.blueprint import Blueprint
from shared.errors import Forbidden, Invalid, NotFound
from shared.service import execute, runtime, today

from services.registration import domain, handlers, scope
from services.registration.projections import (CAMPAIGN_DETAILS, campaigns, clusters, covenants,
                                               members, orgchart, registration_row, registrations, units)
from services.registration.schemas import (ISSUER_LEVEL_OF_UNIT, CampaignSchema, ClusterSchema,
                                           CovenantSchema, CovenantViewSchema, ImportRegistrationSchema,
                                           LaunchCampaignSchema, MemberSchema, ProvinceCountSchema,
                                           RegisterSchema, RegistrationSchema, UnitSchema, UnitViewSchema,
                                           WithdrawSchema)

blp = Blueprint("registration", __name__, description="Phong trào thi đua và đăng ký thi đua")

LAUNCHERS = ("department", "authority", "council")
REGISTRANTS = ("unit_head", "department")  # a unit head for their units; the department for all
IMPORTERS = ("operator", "department")
UNIT_KEEPERS = ("department", "operator", "unit_head")  # a unit head under their own unit
CLUSTER_FORMERS = ("department", "authority", "council")
COVENANT_RECORDERS = ("department", "unit_head")  # a unit head for a cluster their units belong to


def _execute(command, province: str, correlation_id: str, own_story: bool = False):
    return execute(handlers.COMMAND_HANDLERS, command, province, correlation_id, own_story)


def _issuer(principal: auth.Principal, province: str) -> tuple[str, str]:
    """Who launches, as the token says: the caller's unit (its name as registered here, else the
    token's ``name``) and its level (a council issues as a council)."""
    level = "council" if principal.role == "council" else ISSUER_LEVEL_OF_UNIT.get(principal.unit_level)
    if level is None:
        raise Forbidden("Mã thông báo không nêu cấp đơn vị (unit_level) của người phát động",
                        rule="auth.claims", errors={"issuer_level": ["the token names no unit_level"]})
    with runtime().db.read() as conn:
        unit = orgchart.unit(conn, province, principal.unit) if principal.unit else None
    name = unit["name"] if unit else principal.name
    if not name:
        raise Forbidden("Mã thông báo không nêu đơn vị (unit) hay tên (name) của người phát động",
                        rule="auth.claims", errors={"issuer": ["the token names no unit or name"]})
    return name, level


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(LaunchCampaignSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body):
        """Phát động phong trào thi đua (launch a campaign, or a sub-movement of one)."""
        principal = auth.require_role(*LAUNCHERS)
        province = auth.province_for(body.pop("province"))
        issuer, issuer_level = _issuer(principal, province)
        auth.check_own("issuer", body.pop("issuer"), issuer, "Cơ quan phát động")
        auth.check_own("issuer_level", body.pop("issuer_level"), issuer_level, "Cấp phát động")
        deadlines = {k: v for k, v in body.pop("deadlines").items() if v is not None}
        cmd = domain.LaunchCampaign(
            campaign_id=str(uuid.uuid4()), province=province, deadlines=deadlines,
            target_groups=tuple(body.pop("target_groups")), content_areas=tuple(body.pop("content_areas")),
            criteria_set_ids=tuple(body.pop("criteria_set_ids")), award_plan=tuple(body.pop("award_plan")),
            exemplar_targets=tuple(body.pop("exemplar_targets")), issuer=issuer, issuer_level=issuer_level,
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
        """Đăng ký thi đua (register a collective or an individual with its emulation content), on
        the server's date: a unit head for their unit (the default) or a unit under it."""
        principal = auth.require_role(*REGISTRANTS)
        province = auth.province_for(_campaign_province(campaign_id))
        participant = _participant_in_scope(principal, province, body["participant"])
        return _register(domain.RegisterParticipant(
            registration_id=str(uuid.uuid4()), campaign_id=campaign_id, province=province,
            participant=participant, pledges=tuple(body["pledges"]), registered_on=today()))

    @blp.response(200, RegistrationSchema(many=True))
    def get(self, campaign_id):
        """Các đăng ký thi đua của phong trào (the campaign's registrations)."""
        _campaign(campaign_id)
        with runtime().db.read() as conn:
            rows = conn.execute(select(registrations).where(registrations.c.campaign_id == campaign_id)
                                .order_by(registrations.c.registered_on, registrations.c.name)
                                ).mappings().all()
        return [_registration_view(r) for r in rows]


@blp.route("/imports/registrations")
class ImportedRegistrations(MethodView):
    @blp.arguments(ImportRegistrationSchema)
    @blp.response(201, RegistrationSchema)
    def post(self, body):
        """Nhập đăng ký thi đua từ hồ sơ cũ (a historical registration, on the date of its record,
        marked imported; the deadline is history and does not refuse it)."""
        auth.require_role(*IMPORTERS)
        province = auth.province_for(_campaign_province(body["campaign_id"]))
        if body["registered_on"] > today():
            raise Invalid("Ngày đăng ký của hồ sơ cũ không thể sau hôm nay", rule="import.registered_on_past",
                          errors={"registered_on": [f"after today ({today().isoformat()})"]})
        return _register(domain.RegisterParticipant(
            registration_id=str(uuid.uuid4()), campaign_id=body["campaign_id"], province=province,
            participant=body["participant"], pledges=tuple(body["pledges"]),
            registered_on=body["registered_on"], imported=True))


def _participant_in_scope(principal: auth.Principal, province: str, participant: dict) -> dict:
    head = scope.head_unit(principal)
    if head is None:
        return participant
    participant = {**participant, "unit_id": participant["unit_id"] or head}
    with runtime().db.read() as conn:
        scope.require_within(conn, province, participant["unit_id"], head, "participant.unit_id")
    return participant


def _register(cmd: domain.RegisterParticipant) -> dict:
    event = _execute(cmd, cmd.province, cases.correlation(cmd.registration_id), own_story=True)
    return {**registration_row(event), "pledges": event.data["pledges"]}  # the row written, not read back


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
        """Rút đăng ký thi đua (withdraw a registration): a unit head only of their units'."""
        principal = auth.require_role(*REGISTRANTS)
        registration = _registration(registration_id)
        province = auth.province_for(registration["province"])
        with runtime().db.read() as conn:
            scope.require_within(conn, province, registration["unit_id"], scope.head_unit(principal), "unit_id")
        _execute(domain.WithdrawRegistration(registration_id, province, body["reason"]), province,
                 cases.correlation(registration_id), own_story=True)
        return _registration(registration_id)


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitSchema)
    @blp.response(201, UnitViewSchema)
    def post(self, body):
        """Đăng ký đơn vị (a unit, placed under its parent unit): a unit head only under their own."""
        principal = auth.require_role(*UNIT_KEEPERS)
        province = auth.province_for(body.pop("province"))
        head = scope.head_unit(principal)
        if head is not None:
            if body["parent_id"] is None:
                raise Forbidden("Thủ trưởng đơn vị chỉ đăng ký đơn vị trực thuộc đơn vị mình: hãy nêu đơn vị cấp "
                                "trên (parent_id)", rule="auth.unit_scope",
                                errors={"parent_id": ["required: a unit under the caller's unit"]})
            with runtime().db.read() as conn:
                scope.require_within(conn, province, body["parent_id"], head, "parent_id")
        unit_id = body.pop("id")
        _execute(domain.RegisterUnit(unit_id=unit_id, province=province, **body), province,
                 handlers.stream_of("unit", province, unit_id))
        return _unit(province, unit_id)

    @blp.response(200, UnitViewSchema(many=True))
    def get(self):
        with runtime().db.read() as conn:
            keys = conn.execute(select(units.c.province, units.c.id).where(
                units.c.province.in_(auth.provinces_visible())).order_by(units.c.name)).all()
        return [_unit(p, i) for p, i in keys]


@blp.route("/units/<unit_id>")
class UnitOne(MethodView):
    @blp.response(200, UnitViewSchema)
    def get(self, unit_id):
        """Một đơn vị của tỉnh (``?province=`` when the token names several)."""
        return _unit(_province_asked(), unit_id)


@blp.route("/units/<unit_id>/members")
class UnitMembers(MethodView):
    @blp.arguments(MemberSchema)
    @blp.response(201, UnitViewSchema)
    def post(self, body, unit_id):
        """Thêm thành viên vào đơn vị (add a member to a unit): a unit head only to their units."""
        principal = auth.require_role(*UNIT_KEEPERS)
        province = _unit(_province_asked(), unit_id)["province"]
        with runtime().db.read() as conn:
            scope.require_within(conn, province, unit_id, scope.head_unit(principal), "unit_id")
        _execute(domain.AddMember(unit_id, province, body), province, handlers.stream_of("unit", province, unit_id))
        return _unit(province, unit_id)


@blp.route("/clusters")
class Clusters(MethodView):
    @blp.arguments(ClusterSchema)
    @blp.response(201, ClusterSchema)
    def post(self, body):
        """Lập cụm, khối thi đua (form an emulation cluster or block)."""
        auth.require_role(*CLUSTER_FORMERS)
        province = auth.province_for(body.pop("province"))
        cmd = domain.FormCluster(cluster_id=body["id"], province=province, name=body["name"],
                                 kind=body["kind"], member_unit_ids=tuple(body["member_unit_ids"]))
        _execute(cmd, province, handlers.stream_of("cluster", province, cmd.cluster_id))
        return _cluster(province, cmd.cluster_id)


@blp.route("/clusters/<cluster_id>")
class ClusterOne(MethodView):
    @blp.response(200, ClusterSchema)
    def get(self, cluster_id):
        return _cluster(_province_asked(), cluster_id)


@blp.route("/clusters/<cluster_id>/covenants")
class Covenants(MethodView):
    @blp.arguments(CovenantSchema)
    @blp.response(201, CovenantViewSchema)
    def post(self, body, cluster_id):
        """Ký kết giao ước thi đua (the cluster's members sign a covenant for a campaign), on the day it
        is recorded; a unit head records it only for a cluster one of their units belongs to."""
        principal = auth.require_role(*COVENANT_RECORDERS)
        cluster = _cluster(_province_asked(), cluster_id)
        province = cluster["province"]
        head = scope.head_unit(principal)
        with runtime().db.read() as conn:
            if head is not None and not any(orgchart.within(conn, province, m, head)
                                            for m in cluster["member_unit_ids"]):
                raise Forbidden(f"Đơn vị {head!r} của người gọi không thuộc cụm, khối «{cluster['name']}»",
                                rule="auth.unit_scope")
        cmd = domain.SignCovenant(covenant_id=str(uuid.uuid4()), cluster_id=cluster_id, province=province,
                                  campaign_id=body["campaign_id"], content=body["content"],
                                  signed_by=tuple(body["signed_by"]), signed_on=today())
        _execute(cmd, province, handlers.stream_of("cluster", province, cluster_id))
        return _covenants(province, cluster_id, cmd.covenant_id)[0]

    @blp.response(200, CovenantViewSchema(many=True))
    def get(self, cluster_id):
        province = _cluster(_province_asked(), cluster_id)["province"]
        return _covenants(province, cluster_id)


@blp.route("/national/campaigns")
class NationalCampaigns(MethodView):
    @blp.response(200, ProvinceCountSchema(many=True))
    def get(self):
        """Số liệu toàn quốc (ministry only): per province, campaigns and registrations (not
        withdrawn), and the same per kind of campaign."""
        auth.require_national()
        with runtime().db.read() as conn:
            rows = conn.execute(select(campaigns.c.province, campaigns.c.kind, func.count(),
                                       func.coalesce(func.sum(campaigns.c.registrations), 0))
                                .group_by(campaigns.c.province, campaigns.c.kind)
                                .order_by(campaigns.c.province, campaigns.c.kind)).all()
        out: dict[str, dict] = {}
        for province, kind, count, registered in rows:
            entry = out.setdefault(province, {"province": province, "campaigns": 0, "registrations": 0,
                                              "by_kind": []})
            entry["campaigns"] += count
            entry["registrations"] += registered
            entry["by_kind"].append({"kind": kind, "campaigns": count, "registrations": registered})
        return list(out.values())


# -- reads, always filtered by the caller's provinces -------------------------------
def _one(table, key_col, key, what: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(table).where(key_col == key, table.c.province.in_(
            auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không tìm thấy {what} {key}")
    return dict(row)


def _province_asked() -> str:
    """The province a request about a province's own id (a unit, a cluster) is about."""
    return auth.province_for(request.args.get("province"))


def _own(table, province: str, key: str, what: str) -> dict:
    """A province's own id: another province's same id is as absent as a missing one."""
    with runtime().db.read() as conn:
        row = conn.execute(select(table).where(table.c.province == province, table.c.id == key)).mappings().first()
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


def _unit(province: str, unit_id: str) -> dict:
    row = _own(units, province, unit_id, "đơn vị")
    with runtime().db.read() as conn:
        people = conn.execute(select(members).where(members.c.province == province, members.c.unit_id == unit_id)
                              .order_by(members.c.name)).mappings().all()
        children = conn.execute(select(units.c.id).where(units.c.province == province,
                                                         units.c.parent_id == unit_id)).scalars().all()
    return {**row, "members": [dict(p) for p in people], "children": list(children)}


def _cluster(province: str, cluster_id: str) -> dict:
    row = _own(clusters, province, cluster_id, "cụm, khối thi đua")
    return {**row, "member_unit_ids": json.loads(row["member_unit_ids"])}


def _covenants(province: str, cluster_id: str, covenant_id: str | None = None) -> list[dict]:
    query = select(covenants).where(covenants.c.province == province, covenants.c.cluster_id == cluster_id)
    if covenant_id:
        query = query.where(covenants.c.id == covenant_id)
    with runtime().db.read() as conn:
        rows = conn.execute(query.order_by(covenants.c.signed_on)).mappings().all()
    return [{**r, "signed_by": json.loads(r["signed_by"])} for r in rows]
