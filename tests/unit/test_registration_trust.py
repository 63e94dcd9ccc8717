"""Registration believes the token and the server's clock, not the request body; a province's
ids are its own; the ministry reads the national roll-up and writes nothing."""
import pytest
from sqlalchemy import select

from shared.aggregate import CommandContext, record
from shared.envelope import Actor
from shared.eventstore import events
from services.registration import domain
from services.registration.projections import OWN_EVENTS
from tests import scenarios as s
from tests.driver import InProcess
from tests.unit.conftest import SECRET

P = "83"
DEPARTMENT = {"name": "Sở GD&ĐT Bến Tre", "unit_level": "department"}
CAMPAIGN = {"title": "Phong trào thi đua dạy tốt, học tốt", "kind": "yearly", "period_start": "2024-01-01",
            "period_end": "2025-10-31", "registration_deadline": "2024-05-01"}
PLEDGES = [{"content": "Hoàn thành xuất sắc nhiệm vụ", "start": "2024-01-15", "end": "2024-12-31"}]


@pytest.fixture
def d(system):
    system.clock.set("2024-04-20")  # before the campaigns' deadline, unless a test moves it
    return InProcess(system, SECRET)


def launch(d, province=P, **over) -> str:
    return s.ok(d.post("registration", "/campaigns", {**CAMPAIGN, **over}, province=province, **DEPARTMENT))["id"]


def teacher(unit_id=None) -> dict:
    """A teacher whose unit is ``unit_id``, or none named (the registering head's, then)."""
    person = {k: v for k, v in s.individual("teacher", "Lê Văn Minh", unit="Trường THCS An Hội").items()
              if k != "unit_id"}
    return {**person, **({"unit_id": unit_id} if unit_id else {})}


def register(d, cid, participant=None, province=P, **claims):
    return d.post("registration", f"/campaigns/{cid}/registrations",
                  {"participant": participant or teacher(), "pledges": PLEDGES}, province=province,
                  **({"role": "unit_head"} | claims))


def units(d, province=P, *tree):
    """Register units (id, parent) as the department of ``province``."""
    for unit_id, parent in tree:
        s.ok(d.post("registration", "/units", {"id": unit_id, "name": f"Đơn vị {unit_id}", "kind": "school",
                                               "parent_id": parent}, province=province))


def stored(system, service="registration"):
    with system.apps[service].extensions["runtime"].db.read() as conn:
        return conn.execute(select(events.c.stream_id, events.c.type)).all()


# -- who launches: the token's unit and level ---------------------------------------------------
def test_the_issuer_and_its_level_are_the_callers_own(d):
    campaign = s.ok(d.get("registration", f"/campaigns/{launch(d)}"), 200)
    assert (campaign["issuer"], campaign["issuer_level"]) == ("Sở GD&ĐT Bến Tre", "department")
    office = s.ok(d.post("registration", "/campaigns", CAMPAIGN, name="Phòng GD&ĐT Mỹ Hòa", unit_level="district"))
    assert office["issuer_level"] == "office"
    council = s.ok(d.post("registration", "/campaigns", CAMPAIGN, role="council", name="Hội đồng TĐKT ngành",
                          unit_level="department"))
    assert council["issuer_level"] == "council"


def test_a_launch_is_named_after_the_callers_unit_as_registered(d):
    units(d, P, ("so-bt", None))
    campaign = s.ok(d.post("registration", "/campaigns", CAMPAIGN, unit="so-bt", unit_level="department"))
    assert campaign["issuer"] == "Đơn vị so-bt"


@pytest.mark.parametrize("field,value", [("issuer_level", "province"), ("issuer", "UBND tỉnh Bến Tre")])
def test_a_body_that_names_another_issuer_or_level_than_the_token_is_refused(d, system, field, value):
    r = d.post("registration", "/campaigns", {**CAMPAIGN, field: value}, **DEPARTMENT)
    assert r.status == 403 and r.body["rule"] == "auth.claims" and field in r.body["errors"], r
    assert stored(system) == []
    same = {"issuer_level": "department", "issuer": "Sở GD&ĐT Bến Tre"}[field]
    assert s.ok(d.post("registration", "/campaigns", {**CAMPAIGN, field: same}, **DEPARTMENT))[field] == same


def test_a_token_that_names_no_level_cannot_launch(d):
    r = d.post("registration", "/campaigns", CAMPAIGN, name="Sở GD&ĐT Bến Tre")
    assert r.status == 403 and "issuer_level" in r.body["errors"]


# -- unit heads act for their unit and the units under it -----------------------------------------
def test_a_unit_heads_registration_is_for_the_heads_unit_by_default(d):
    cid = launch(d)
    r = s.ok(register(d, cid, unit="thcs-an-hoi"))
    assert r["unit_id"] == "thcs-an-hoi"


def test_a_unit_head_registers_a_sub_unit_but_not_a_unit_outside_their_own(d, system):
    units(d, P, ("phong-a", None), ("thcs-a", "phong-a"), ("thcs-b", None))
    cid = launch(d)
    assert s.ok(register(d, cid, teacher("thcs-a"), unit="phong-a"))["unit_id"] == "thcs-a"
    outside = register(d, cid, teacher("thcs-b"), unit="phong-a")
    assert outside.status == 403 and outside.body["rule"] == "auth.unit_scope", outside
    assert "participant.unit_id" in outside.body["errors"] and "phong-a" in outside.body["message"]
    upward = register(d, cid, teacher("phong-a"), unit="thcs-a")
    assert upward.status == 403


def test_a_unit_head_whose_token_names_no_unit_is_refused(d):
    r = register(d, launch(d))
    assert r.status == 403 and r.body["rule"] == "auth.unit_scope"


def test_a_unit_head_withdraws_only_their_units_registrations(d):
    units(d, P, ("thcs-a", None), ("thcs-b", None))
    rid = s.ok(register(d, launch(d), unit="thcs-a"))["id"]
    path = f"/registrations/{rid}/withdrawal"
    refused = d.post("registration", path, {"reason": "Chuyển công tác"}, role="unit_head", unit="thcs-b")
    assert refused.status == 403 and refused.body["rule"] == "auth.unit_scope"
    assert s.ok(d.post("registration", path, {"reason": "Chuyển công tác"}, role="unit_head",
                       unit="thcs-a"))["status"] == "withdrawn"


def test_a_unit_head_registers_units_only_under_their_own(d):
    units(d, P, ("phong-a", None), ("phong-b", None))
    head = {"role": "unit_head", "unit": "phong-a"}
    body = {"name": "Trường mới", "kind": "school"}
    assert s.ok(d.post("registration", "/units", {**body, "id": "moi-1", "parent_id": "phong-a"}, **head))
    elsewhere = d.post("registration", "/units", {**body, "id": "moi-2", "parent_id": "phong-b"}, **head)
    assert elsewhere.status == 403 and "parent_id" in elsewhere.body["errors"]
    at_the_top = d.post("registration", "/units", {**body, "id": "moi-3"}, **head)
    assert at_the_top.status == 403 and "parent_id" in at_the_top.body["errors"]
    assert s.ok(d.post("registration", "/units", {**body, "id": "moi-4", "parent_id": "phong-b"}, role="operator"))


# -- dates the server decides ---------------------------------------------------------------------
def test_a_body_cannot_name_its_registration_date(d, system):
    cid = launch(d)
    system.clock.set("2024-05-02")
    r = d.post("registration", f"/campaigns/{cid}/registrations",
               {"participant": teacher(), "pledges": PLEDGES, "registered_on": "2024-04-01"}, unit="thcs-a",
               role="unit_head")
    assert r.status == 422 and r.body["errors"]["json"]["registered_on"] == ["Trường không được hỗ trợ."]
    assert [t for _, t in stored(system)] == [domain.CAMPAIGN_LAUNCHED]


def test_the_deadline_is_met_or_missed_by_the_servers_clock(d, system):
    cid = launch(d)
    system.clock.set("2024-05-02")
    late = register(d, cid, unit="thcs-a")
    assert late.status == 409 and late.body["rule"] == "registration.deadline"
    system.clock.set("2024-05-01T16:30:00Z")  # 23:30 in Vietnam, still the deadline day there
    on_time = s.ok(register(d, cid, unit="thcs-a"))
    assert on_time["registered_on"] == "2024-05-01" and on_time["late"] is False


def test_a_covenant_is_signed_on_the_day_it_is_recorded(d, system):
    cid = launch(d)
    units(d, P, ("a", None), ("b", None))
    s.ok(d.post("registration", "/clusters", {"id": "khoi", "name": "Khối THCS", "kind": "block",
                                              "member_unit_ids": ["a", "b"]}))
    body = {"campaign_id": cid, "content": "Giao ước thi đua", "signed_by": ["a", "b"]}
    back_dated = d.post("registration", "/clusters/khoi/covenants", {**body, "signed_on": "2024-01-01"})
    assert back_dated.status == 422 and "signed_on" in back_dated.body["errors"]["json"]
    system.clock.set("2024-02-20")
    stranger = d.post("registration", "/clusters/khoi/covenants", body, role="unit_head", unit="c")
    assert stranger.status == 403
    assert s.ok(d.post("registration", "/clusters/khoi/covenants", body, role="unit_head",
                       unit="a"))["signed_on"] == "2024-02-20"


def test_an_exemplar_is_commended_on_the_servers_date_not_the_bodys(d, system):
    setup = s.exemplar_setup(d)
    exemplar_id = s.register_exemplar(d, s.VINH_LONG, setup)
    path = f"/exemplars/{exemplar_id}/selection"
    r = d.post("registration", path, {"commendation": "Biểu dương", "commended_on": "2024-01-01"},
               province=s.VINH_LONG, role="unit_head", unit=setup["school"])
    assert r.status == 422 and "commended_on" in r.body["errors"]["json"]


def test_a_unit_head_registers_exemplars_of_their_units_only(d):
    setup = s.exemplar_setup(d)
    _, _, _, body = s.demo.setup_requests(setup["campaign_id"], setup)[-1]
    r = d.post("registration", "/exemplars", body, role="unit_head", province=s.VINH_LONG, unit=setup["learner"])
    assert r.status == 403 and r.body["rule"] == "auth.unit_scope" and "unit_id" in r.body["errors"]


# -- the import path for historical records --------------------------------------------------------
def imported(d, cid, on="2024-03-20", role="department", **over):
    return d.post("registration", "/imports/registrations", {"campaign_id": cid, "participant": teacher(),
                                                              "pledges": PLEDGES, "registered_on": on, **over},
                  role=role, subject="nhap-lieu-1")


def test_a_historical_registration_is_imported_on_its_own_date_and_shown_as_imported(d, system):
    cid = launch(d)
    system.clock.set("2025-01-10")
    r = s.ok(imported(d, cid, on="2024-05-20"))
    assert (r["registered_on"], r["imported"], r["late"]) == ("2024-05-20", True, True)
    shown = s.ok(d.get("registration", f"/registrations/{r['id']}"), 200)
    assert shown["imported"] is True and shown["registered_on"] == "2024-05-20"
    rt = system.apps["registration"].extensions["runtime"]
    with rt.db.read() as conn:
        [event] = rt.store.load(conn, f"registration-{r['id']}")
    assert event.data["imported"] is True and event.actor.id == "nhap-lieu-1"  # the importer did it


def test_only_the_operator_and_the_department_import(d):
    cid = launch(d)
    for role in ("operator", "department"):
        s.ok(imported(d, cid, role=role))
    for role in ("unit_head", "council", "authority", "ministry"):
        assert imported(d, cid, role=role).status == 403, role


def test_an_import_cannot_come_from_the_future(d, system):
    cid = launch(d)
    system.clock.set("2024-05-10")
    r = imported(d, cid, on="2024-05-11")
    assert r.status == 422 and "registered_on" in r.body["errors"]


def test_the_ordinary_path_refuses_a_late_registration_that_claims_an_earlier_date(d, system):
    cid = launch(d)
    system.clock.set("2024-06-01")
    r = d.post("registration", f"/campaigns/{cid}/registrations",
               {"participant": teacher(), "pledges": PLEDGES, "registered_on": "2024-04-01"},
               role="unit_head", unit="thcs-a")
    assert r.status == 422 and "registered_on" in r.body["errors"]["json"]
    assert register(d, cid, unit="thcs-a").status == 409


# -- provinces are namespaces ------------------------------------------------------------------
def test_two_provinces_each_have_their_own_unit_so_and_neither_sees_the_others(d, system):
    s.ok(d.post("registration", "/units", {"id": "so", "name": "Sở GD&ĐT Bến Tre", "kind": "department"},
                province="83"))
    s.ok(d.post("registration", "/units", {"id": "so", "name": "Sở GD&ĐT Gia Lai", "kind": "department"},
                province="64"))
    assert s.ok(d.get("registration", "/units/so", province="83"), 200)["name"] == "Sở GD&ĐT Bến Tre"
    assert s.ok(d.get("registration", "/units/so", province="64"), 200)["name"] == "Sở GD&ĐT Gia Lai"
    s.ok(d.post("registration", "/units/so/members", {"person_id": "gv-1", "name": "Giáo viên Bến Tre",
                                                      "individual_kind": "teacher"}, province="83"))
    assert s.ok(d.get("registration", "/units/so", province="64"), 200)["members"] == []
    assert {stream for stream, _ in stored(system)} == {"unit-83:so", "unit-64:so"}


def test_another_provinces_unit_answers_exactly_like_a_missing_one(d):
    s.ok(d.post("registration", "/units", {"id": "rieng", "name": "Trường riêng", "kind": "school"}, province="83"))
    theirs = d.get("registration", "/units/rieng", province="64")
    missing = d.get("registration", "/units/khong-co", province="64")
    assert theirs.status == missing.status == 404
    assert theirs.body["message"].replace("rieng", "?") == missing.body["message"].replace("khong-co", "?")
    assert d.post("registration", "/units/rieng/members", {"person_id": "x", "name": "Người lạ",
                                                           "individual_kind": "staff"}, province="64").status == 404
    parent_elsewhere = d.post("registration", "/units", {"id": "con", "name": "Trường con", "kind": "school",
                                                         "parent_id": "rieng"}, province="64")
    assert parent_elsewhere.status == 409 and parent_elsewhere.body["rule"] == "unit.parent_exists"


def test_two_provinces_each_have_their_own_cluster_of_one_id(d):
    for province in ("83", "64"):
        units(d, province, ("a", None), ("b", None))
        s.ok(d.post("registration", "/clusters", {"id": "khoi-1", "name": f"Khối {province}", "kind": "block",
                                                  "member_unit_ids": ["a", "b"]}, province=province))
    assert s.ok(d.get("registration", "/clusters/khoi-1", province="64"), 200)["name"] == "Khối 64"


def legacy_unit(system, unit_id: str, province: str) -> None:
    """A unit registered before ids were a province's own: in the stream ``unit-<id>``."""
    rt = system.apps["registration"].extensions["runtime"]
    ctx = CommandContext(source="registration", province=province, actor=Actor("cu", "department"),
                         correlation_id=f"unit-{unit_id}", causation_id="command:cu")
    with rt.db.write() as conn:
        record(rt.store, conn, f"unit-{unit_id}", domain.Unit(unit_id), domain.UNIT_REGISTERED,
               {"unit_id": unit_id, "name": "Trường cũ", "kind": "school", "parent_id": None, "address": None,
                "phone": None}, ctx, project=OWN_EVENTS)


def test_a_unit_registered_before_still_works_in_its_province_and_only_there(d, system):
    legacy_unit(system, "cu", "83")
    again = d.post("registration", "/units", {"id": "cu", "name": "Trường cũ lần hai", "kind": "school"},
                   province="83")
    assert again.status == 409 and again.body["rule"] == "unit.once"
    s.ok(d.post("registration", "/units/cu/members", {"person_id": "gv-1", "name": "Giáo viên cũ",
                                                      "individual_kind": "teacher"}, province="83"))
    assert [m["person_id"] for m in s.ok(d.get("registration", "/units/cu", province="83"), 200)["members"]] == [
        "gv-1"]
    s.ok(d.post("registration", "/units", {"id": "cu", "name": "Trường khác", "kind": "school"}, province="64"))
    assert sorted(stored(system)) == sorted([("unit-cu", domain.UNIT_REGISTERED), ("unit-cu", domain.MEMBER_ADDED),
                                             ("unit-64:cu", domain.UNIT_REGISTERED)])


# -- a campaign names only existing criteria sets ---------------------------------------------------
def define(d, set_id, province=P):
    s.criteria_set(d, province, set_id, "Tiêu chí giáo viên", ["teacher"], [
        {"code": "sang_kien", "label": "Có sáng kiến", "kind": "quantitative", "metric": "initiatives",
         "comparison": ">=", "threshold": 1}], "Kế hoạch của Sở")


def test_a_campaign_naming_an_unknown_criteria_set_is_refused_until_its_definition_arrives(d, system):
    define(d, "gv-2024")
    early = d.post("registration", "/campaigns", {**CAMPAIGN, "criteria_set_ids": ["gv-2024", "khong-co"]},
                   **DEPARTMENT)
    assert early.status == 409 and early.body["rule"] == "campaign.criteria_sets_exist", early
    assert early.body["retryable"] is True and early.body["details"]["missing"] == ["gv-2024", "khong-co"]
    d.settle()  # the definition reaches registration
    later = d.post("registration", "/campaigns", {**CAMPAIGN, "criteria_set_ids": ["gv-2024", "khong-co"]},
                   **DEPARTMENT)
    assert later.status == 409 and later.body["details"]["missing"] == ["khong-co"]
    assert s.ok(d.post("registration", "/campaigns", {**CAMPAIGN, "criteria_set_ids": ["gv-2024"]},
                       **DEPARTMENT))["criteria_set_ids"] == ["gv-2024"]


def test_another_provinces_criteria_set_does_not_count(d):
    define(d, "gl-2024", province="64")
    d.settle()
    r = d.post("registration", "/campaigns", {**CAMPAIGN, "criteria_set_ids": ["gl-2024"]}, **DEPARTMENT)
    assert r.status == 409 and r.body["details"]["missing"] == ["gl-2024"]


# -- the ministry reads the national roll-up and writes nothing ----------------------------------------
def test_the_ministry_sees_campaigns_and_registrations_per_province_and_kind(d, system):
    a, b = launch(d, "83"), launch(d, "83", kind="thematic")
    c = launch(d, "64")
    system.clock.set("2024-04-01")
    rids = [s.ok(register(d, a, unit="t-83"))["id"] for _ in range(3)]
    s.ok(register(d, b, unit="t-83"))
    s.ok(register(d, c, province="64", unit="t-64"))
    s.ok(d.post("registration", f"/registrations/{rids[0]}/withdrawal", {"reason": "Chuyển công tác"}))
    rollup = s.ok(d.get("registration", "/national/campaigns", role="ministry", province="00"), 200)
    assert rollup == [
        {"province": "64", "campaigns": 1, "registrations": 1,
         "by_kind": [{"kind": "yearly", "campaigns": 1, "registrations": 1}]},
        {"province": "83", "campaigns": 2, "registrations": 3,
         "by_kind": [{"kind": "thematic", "campaigns": 1, "registrations": 1},
                     {"kind": "yearly", "campaigns": 1, "registrations": 2}]}]


@pytest.mark.parametrize("role", ["department", "unit_head", "council", "authority", "operator", "participant",
                                  "service"])
def test_no_one_but_the_ministry_reads_the_national_roll_up(d, role):
    r = d.get("registration", "/national/campaigns", role=role)
    assert r.status == 403 and r.body["rule"] == "auth.national"


def test_a_ministry_token_writes_nothing(d, system):
    cid = launch(d)
    ministry = {"role": "ministry", "province": P, "name": "Bộ GD&ĐT", "unit_level": "ministry"}
    assert d.post("registration", "/campaigns", CAMPAIGN, **ministry).status == 403
    assert register(d, cid, **ministry).status == 403
    assert d.post("registration", "/units", {"id": "bo", "name": "Bộ", "kind": "other"}, **ministry).status == 403
    assert imported(d, cid, role="ministry").status == 403
    assert len(stored(system)) == 1
