"""HTTP API of awards: nominations, appraisal, decisions, ad-hoc commendation, history, holds, rules."""
import json
import uuid

from flask.views import MethodView
from sqlalchemy import func, select

from shared import auth, cases, documents
from shared.blueprint import Blueprint
from shared.errors import Forbidden, Invalid, NotFound
from shared.i18n import search_key
from shared.service import execute, runtime, today

from services.awards import domain, handlers
from services.awards.projections import campaigns, history, holds, nominations, orgchart, participants
from services.awards.rules import lineage, national
from services.awards.schemas import (AdHocSchema, AppraiseSchema, DecideSchema, DefineRuleSchema,
                                     HistoryQuerySchema, HistorySchema, HoldSchema, HoldViewSchema, LiftSchema,
                                     NationalAwardsSchema, NominateSchema, NominationSchema, ParticipantSchema,
                                     PastAwardSchema, PublicAwardQuerySchema, PublicAwardSchema, QuotaSchema,
                                     ResubmitSchema, RevokeSchema)

blp = Blueprint("awards", __name__, description="Khen thưởng: đề nghị, thẩm định, quyết định, tra cứu")

PROPOSERS = ("unit_head",)
APPRAISERS = ("council",)
DECIDERS = ("authority",)
RULE_MAKERS = ("council", "authority")
IMPORTERS = ("operator", "department")
# Who uploads dossier files (a head for a nomination, a head or an authority for an exemplar's step 5),
# and who reads every dossier of their province (a head reads those of their unit and the units under it).
DOSSIER_MAKERS = ("unit_head", "authority")
DOSSIER_READERS = ("council", "authority", "department", "operator")
# The authority a head holds by the level of their unit, when the token names no authority of its own.
AUTHORITY_OF_UNIT_LEVEL = {"school": "school", "commune": "commune", "district": "district",
                           "department": "department", "province": "province", "ministry": "minister"}


def proposer_level(principal: auth.Principal) -> str:
    """Where a head's proposal starts: their own authority (token), or the one their unit's level gives."""
    level = principal.authority or AUTHORITY_OF_UNIT_LEVEL.get(principal.unit_level or "")
    if level is None:
        raise Forbidden("Mã thông báo không nêu thẩm quyền (authority) hay cấp đơn vị (unit_level) của người đề "
                        "nghị", rule="auth.claims", errors={"authority": ["missing from the token"]})
    return level


def deciding_level(principal: auth.Principal, given: str | None) -> str:
    """The level that decides: the token's ``authority``; a body may only repeat it."""
    if principal.authority is None:
        raise Forbidden("Mã thông báo của cấp có thẩm quyền phải nêu thẩm quyền (authority) của người quyết định",
                        rule="auth.claims", errors={"authority": ["missing from the token"]})
    auth.check_own("level", given, principal.authority, "Cấp quyết định")
    return principal.authority


def issuer_of(principal: auth.Principal, level: str, province: str) -> str:
    """Who signs: the person the token names, else the level's name in the province's rulebook."""
    if principal.name:
        return principal.name
    with runtime().db.read() as conn:
        book = handlers.rulebook(conn, province)
    return book.authority_name(level, today()) or domain.LEVEL_NAMES.get(level, level)


def _run(command, province, correlation_id, own_story: bool = False):
    return execute(handlers.COMMAND_HANDLERS, command, province, correlation_id, own_story)


@blp.route("/nominations")
class Nominations(MethodView):
    @blp.arguments(NominateSchema)
    @blp.response(201, NominationSchema)
    def post(self, body):
        """Đề nghị khen thưởng (a head of unit nominates a participant whose evaluation passed)."""
        principal = auth.require_role(*PROPOSERS)
        province = auth.province_for(None if len(auth.provinces_visible()) == 1 else
                                     _campaign_province(body["campaign_id"]))
        auth.check_own("proposer_unit", body.pop("proposer_unit"), principal.unit, "Đơn vị đề nghị")
        level = proposer_level(principal)
        auth.check_own("submitted_to", body.pop("submitted_to"), level, "Cấp trình")
        cmd = domain.Nominate(nomination_id=str(uuid.uuid4()), province=province, proposer_unit=principal.unit,
                              proposer_level=level, submitted_on=today(), **body)
        _run(cmd, province, cases.correlation(cmd.registration_id), own_story=True)
        return _nomination(cmd.nomination_id)


@blp.route("/nominations/<nomination_id>")
class NominationOne(MethodView):
    @blp.response(200, NominationSchema)
    def get(self, nomination_id):
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/documents/<sha256>")
class NominationDocument(MethodView):
    @blp.response(200, content_type="application/octet-stream")
    def get(self, nomination_id, sha256):
        """Tải về một tệp của hồ sơ đề nghị (a file of the dossier, by its SHA-256): for the province's
        council, authorities and department, and the heads of the proposing unit or a unit above it."""
        n = _nomination(nomination_id)  # another province's: 404, like any missing nomination
        return documents.serve(
            f"nomination-{nomination_id}", sha256, readers=DOSSIER_READERS, orgchart=orgchart,
            province=n["province"], unit=n["proposer_unit"], refusal=Forbidden(
                f"Hồ sơ đề nghị {n['id']} do đơn vị {n['proposer_unit']} lập: chỉ thủ trưởng đơn vị đó hoặc đơn vị "
                "cấp trên, hội đồng thi đua, cấp có thẩm quyền và Sở xem được tệp của hồ sơ (not a reader of this "
                "dossier)", rule="documents.readers"))


@blp.route("/nominations/<nomination_id>/appraisal")
class Appraisal(MethodView):
    @blp.arguments(AppraiseSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Thẩm định: đạt (approved), trả lại để hoàn thiện (returned) hoặc không đạt (rejected), có lý do."""
        principal = auth.require_role(*APPRAISERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        _run(domain.Appraise(nomination_id, province, body["outcome"], body["reason"], today(), principal.subject),
             province, _correlation(nomination_id), own_story=True)
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/resubmission")
class Resubmission(MethodView):
    @blp.arguments(ResubmitSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Bổ sung hồ sơ đề nghị đã bị trả lại (resubmit a returned nomination)."""
        principal = auth.require_role(*PROPOSERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        _run(domain.Resubmit(nomination_id, province, body["dossier"], principal.unit), province,
             _correlation(nomination_id), own_story=True)
        return _nomination(nomination_id)


@blp.route("/nominations/<nomination_id>/decision")
class Decision(MethodView):
    @blp.arguments(DecideSchema)
    @blp.response(201, NominationSchema)
    def post(self, body, nomination_id):
        """Quyết định khen thưởng của cấp có thẩm quyền, với số và ngày quyết định."""
        principal = auth.require_role(*DECIDERS)
        province = auth.province_for(_nomination(nomination_id)["province"])
        level = deciding_level(principal, body.pop("level"))
        _run(domain.Decide(nomination_id=nomination_id, province=province, decision_number=body["decision_number"],
                           decision_date=today(), level=level, issuer=issuer_of(principal, level, province)), province,
             _correlation(nomination_id), own_story=True)
        return _nomination(nomination_id)


@blp.route("/ad-hoc-commendations")
class AdHoc(MethodView):
    @blp.arguments(AdHocSchema)
    @blp.response(201, NominationSchema)
    def post(self, body):
        """Khen thưởng đột xuất: thành tích đột xuất, quyết định ngay bởi cấp có thẩm quyền."""
        principal = auth.require_role(*DECIDERS)
        province = auth.province_for(None)
        level = deciding_level(principal, body.pop("level"))
        cmd = domain.CommendAdHoc(nomination_id=str(uuid.uuid4()), province=province, decision_date=today(),
                                  level=level, issuer=issuer_of(principal, level, province), **body)
        _run(cmd, province, f"ad-hoc-{cmd.nomination_id}")
        return _nomination(cmd.nomination_id)


@blp.route("/campaigns/<campaign_id>/nominations")
class CampaignNominations(MethodView):
    @blp.response(200, NominationSchema(many=True))
    def get(self, campaign_id):
        with runtime().db.read() as conn:
            rows = conn.execute(select(nominations).where(
                nominations.c.campaign_id == campaign_id,
                nominations.c.province.in_(auth.provinces_visible())).order_by(nominations.c.name)
            ).mappings().all()
        return [_nomination_view(r) for r in rows]


@blp.route("/campaigns/<campaign_id>/quotas")
class CampaignQuotas(MethodView):
    @blp.response(200, QuotaSchema(many=True))
    def get(self, campaign_id):
        """Chỉ tiêu khen thưởng của phong trào và số đã quyết định (quotas and their use)."""
        with runtime().db.read() as conn:
            row = conn.execute(select(campaigns).where(
                campaigns.c.id == campaign_id,
                campaigns.c.province.in_(auth.provinces_visible()))).mappings().first()
            if row is None:
                raise NotFound(f"Khen thưởng chưa nhận được phong trào {campaign_id}")
            out = []
            for plan in json.loads(row["award_plan"]):
                query = select(func.count()).select_from(history).where(
                    history.c.campaign_id == campaign_id, history.c.award == plan["award"],
                    history.c.status == "valid")
                if plan.get("applies_to", "both") != "both":
                    query = query.where(history.c.participant_kind == plan["applies_to"])
                out.append({**plan, "applies_to": plan.get("applies_to", "both"),
                            "used": conn.execute(query).scalar_one()})
        return out


@blp.route("/campaigns/<campaign_id>/participants")
class CampaignParticipants(MethodView):
    @blp.response(200, ParticipantSchema(many=True))
    def get(self, campaign_id):
        """Người và tập thể tham gia phong trào, với kết quả bình xét."""
        with runtime().db.read() as conn:
            return conn.execute(select(participants).where(
                participants.c.campaign_id == campaign_id,
                participants.c.province.in_(auth.provinces_visible()))
                .order_by(participants.c.name)).mappings().all()


@blp.route("/history/<participant_id>")
class History(MethodView):
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, HistorySchema(many=True))
    def get(self, query, participant_id):
        """Tra cứu khen thưởng: mọi danh hiệu, hình thức đã nhận, theo quyết định nào, ngày nào
        (an award revoked is left out unless ``include_revoked=true``)."""
        with runtime().db.read() as conn:
            # as it is now: a successor province also sees what its predecessors awarded
            provinces = {p for visible in auth.provinces_visible() for p in lineage(visible)}
            found = select(history).where(history.c.participant_id == participant_id,
                                          history.c.province.in_(provinces))
            if not query["include_revoked"]:
                found = found.where(history.c.status == "valid")
            return conn.execute(found.order_by(history.c.decision_date, history.c.award)).mappings().all()


PUBLIC_LOOKUP_LIMIT = 100


@blp.route("/public/<province>/awards")
class PublicAwards(MethodView):
    @blp.arguments(PublicAwardQuerySchema, location="query")
    @blp.response(200, PublicAwardSchema(many=True))
    def get(self, query, province):
        """Tra cứu khen thưởng công khai (no token needed): the valid awards of the province — and of the
        provinces it succeeded — whose name has every word typed (marks and case aside), or of one
        participant; the newest decision first, at most 100."""
        found = select(history, nominations.c.unit).select_from(
            history.outerjoin(nominations, nominations.c.id == history.c.id)).where(
            history.c.province.in_(lineage(province)), history.c.status == "valid")
        if query["participant_id"]:
            found = found.where(history.c.participant_id == query["participant_id"])
        for word in search_key(query["name"] or "").split():
            found = found.where(history.c.name_key.contains(word, autoescape=True))
        if query["kind"]:
            found = found.where(history.c.participant_kind == query["kind"])
        with runtime().db.read() as conn:
            return conn.execute(found.order_by(history.c.decision_date.desc(), history.c.name)
                                .limit(PUBLIC_LOOKUP_LIMIT)).mappings().all()


@blp.route("/history")
class PastAwards(MethodView):
    @blp.arguments(PastAwardSchema)
    @blp.response(201, HistorySchema)
    def post(self, body):
        """Nhập khen thưởng đã có (the import path): a decision made before or outside the platform, stored
        as issued (issuer, level, number, date), marked imported — for chains and look-ups."""
        principal = auth.require_role(*IMPORTERS)
        province = auth.province_for(None)
        cmd = domain.RecordPastAward(record_id=str(uuid.uuid4()), province=province,
                                     imported_by=principal.subject, imported_on=today(), **body)
        _run(cmd, province, f"record-{cmd.record_id}")
        with runtime().db.read() as conn:
            return conn.execute(select(history).where(history.c.id == cmd.record_id)).mappings().first()


@blp.route("/holds")
class Holds(MethodView):
    @blp.arguments(HoldSchema)
    @blp.response(201, HoldViewSchema)
    def post(self, body):
        """Tạm hoãn xét khen thưởng khi đang xem xét kỷ luật, điều tra, thanh tra, khiếu nại."""
        principal = auth.require_role(*RULE_MAKERS)
        province = auth.province_for(None)
        cmd = domain.PlaceHold(hold_id=str(uuid.uuid4()), province=province, participant_id=body["participant_id"],
                               kind=body["kind"], reason=body["reason"], placed_on=today(),
                               placed_by=principal.subject)
        _run(cmd, province, f"hold-{cmd.hold_id}")
        return _hold(cmd.hold_id)


@blp.route("/holds/<hold_id>/lifting")
class HoldLifting(MethodView):
    @blp.arguments(LiftSchema)
    @blp.response(201, HoldViewSchema)
    def post(self, body, hold_id):
        auth.require_role(*RULE_MAKERS)
        province = auth.province_for(_hold(hold_id)["province"])
        _run(domain.LiftHold(hold_id, province, body["reason"], today()), province, f"hold-{hold_id}")
        return _hold(hold_id)


@blp.route("/rules")
class Rules(MethodView):
    @blp.arguments(DefineRuleSchema)
    @blp.response(201, DefineRuleSchema)
    def post(self, body):
        """Thêm hoặc sửa một quy định của tỉnh (a province's award or authority rule, dated, with its source)."""
        auth.require_role(*RULE_MAKERS)
        province = auth.province_for(body.pop("province"))
        given = {k: v for k, v in body.items() if v is not None}
        if len(given) != 1:
            raise Invalid("Nêu đúng một quy định: award, authority hoặc cap",
                          errors={"award": ["give exactly one of award, authority, cap"]})
        [(section, rule)] = given.items()
        _run(domain.DefineRule(str(uuid.uuid4()), province, section, rule), province, "rules")
        return {section: rule}

    def get(self):
        """Bộ quy định đang áp dụng cho tỉnh: quy định quốc gia và quy định riêng của tỉnh."""
        province = auth.province_for(None)
        with runtime().db.read() as conn:
            book = handlers.rulebook(conn, province)
        return {"national": national(), "province": {"awards": book.province_awards,
                                                     "authorities": book.province_authorities,
                                                     "caps": book.province_caps}}


@blp.route("/awards/<award_id>/revocation")
class Revocation(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(201, HistorySchema)
    def post(self, body, award_id):
        """Thu hồi khen thưởng (Luật TĐKT Điều 93): by the level that decided it or one above, with the reason
        and the revoking decision's number; the award leaves history, chains and its quota place."""
        principal = auth.require_role(*DECIDERS)
        province = auth.province_for(None)
        level = deciding_level(principal, None)
        cmd = domain.RevokeAward(award_id, province, body["reason"], body["decision_number"], today(), level,
                                 issuer_of(principal, level, province))
        _run(cmd, province, _award_correlation(award_id), own_story=True)
        with runtime().db.read() as conn:
            return conn.execute(select(history).where(history.c.id == award_id)).mappings().first()


@blp.route("/national/awards")
class NationalAwards(MethodView):
    @blp.response(200, NationalAwardsSchema(many=True))
    def get(self):
        """Số liệu toàn quốc (ministry only): per province, nominations and valid awards, per title or form."""
        auth.require_national()
        with runtime().db.read() as conn:
            proposed = conn.execute(select(nominations.c.province, nominations.c.award, func.count())
                                    .where(nominations.c.kind != "ad_hoc")
                                    .group_by(nominations.c.province, nominations.c.award)).all()
            given = conn.execute(select(history.c.province, history.c.award, func.count())
                                 .where(history.c.status == "valid")
                                 .group_by(history.c.province, history.c.award)).all()
        return national_roll_up(proposed, given)


def national_roll_up(proposed, given) -> list[dict]:
    """Rows of (province, award, count) into one entry per province, each title or form named with its
    category (danh hiệu or hình thức) from the national rulebook."""
    about = {a["code"]: a for a in national()["awards"]}
    provinces: dict[str, dict] = {}
    for field, rows in (("nominations", proposed), ("awards", given)):
        for province, award, count in rows:
            entry = provinces.setdefault(province, {"province": province, "nominations": 0, "awards": 0,
                                                    "by_award": {}})
            line = entry["by_award"].setdefault(award, {
                "award": award, "name": about.get(award, {}).get("name", award),
                "category": about.get(award, {}).get("category"), "nominations": 0, "awards": 0})
            line[field] += count
            entry[field] += count
    return [{**e, "by_award": sorted(e["by_award"].values(), key=lambda x: x["award"])}
            for _, e in sorted(provinces.items())]


def _campaign_province(campaign_id: str) -> str | None:
    with runtime().db.read() as conn:
        return conn.execute(select(campaigns.c.province).where(campaigns.c.id == campaign_id)).scalar()


def _award_correlation(award_id: str) -> str:
    """A revocation continues the story of the award it revokes."""
    rt = runtime()
    with rt.db.read() as conn:
        row = conn.execute(select(history.c.province).where(history.c.id == award_id,
                                                            history.c.province.in_(auth.provinces_visible()))).first()
        if row is None:
            raise NotFound(f"Không có khen thưởng {award_id}")
        for stream in (f"nomination-{award_id}", f"record-{award_id}"):
            events = rt.store.load(conn, stream)
            if events:
                return events[0].correlationid
    return f"award-{award_id}"


def _correlation(nomination_id: str) -> str:
    """The story a nomination belongs to: the correlation id of its first event."""
    _nomination(nomination_id)
    rt = runtime()
    with rt.db.read() as conn:
        first = rt.store.load(conn, f"nomination-{nomination_id}")[0]
    return first.correlationid


def _nomination(nomination_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(nominations).where(
            nominations.c.id == nomination_id,
            nominations.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không có đề nghị khen thưởng {nomination_id}")
    return _nomination_view(row)


def _nomination_view(row) -> dict:
    return {**row, "dossier": json.loads(row["dossier"])}


def _hold(hold_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(holds).where(holds.c.id == hold_id,
                                               holds.c.province.in_(auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không có tạm hoãn {hold_id}")
    return dict(row)
