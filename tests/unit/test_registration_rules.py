"""Registration's rules, at the bus level: what is refused, and why, and what is stored."""
import pytest

from tests.unit.conftest import token

# Who launches is the token's: the department of Bến Tre.
DEPARTMENT = {"name": "Sở GD&ĐT Bến Tre", "unit_level": "department"}
CAMPAIGN = {"title": "Phong trào thi đua dạy tốt, học tốt", "kind": "yearly", "period_start": "2024-01-01",
            "period_end": "2025-10-31", "registration_deadline": "2024-05-01"}
TEACHER = {"participant_id": "gv-1", "kind": "individual", "individual_kind": "teacher",
           "name": "Lê Văn Minh", "unit": "Trường THCS An Hội"}
PLEDGE = {"content": "Hoàn thành xuất sắc nhiệm vụ", "start": "2024-01-15", "end": "2024-12-31"}


def launch(system, headers=None, **over):
    r = system.client("registration").post("/campaigns", json={**CAMPAIGN, **over},
                                           headers=headers or token(**DEPARTMENT))
    assert r.status_code == 201, r.json
    return r.json["id"]


def register(system, cid, on="2024-04-30", headers=None, **over):
    """Registered on ``on`` by the server's clock (the body never says when)."""
    system.clock.set(on)
    body = {"participant": TEACHER, "pledges": [PLEDGE], **over}
    return system.client("registration").post(f"/campaigns/{cid}/registrations", json=body,
                                              headers=headers or token())


def events(system):
    return [r for r in system.bus.records("thidua.registration")]


def test_a_registration_before_the_deadline_is_stored_and_published(system):
    cid = launch(system)
    r = register(system, cid)
    assert r.status_code == 201 and r.json["late"] is False
    system.drain()
    assert len(events(system)) == 2


def test_a_late_registration_is_refused_with_the_deadline_named(system):
    cid = launch(system)
    system.drain()
    r = register(system, cid, on="2024-05-02")
    assert r.status_code == 409
    assert r.json["rule"] == "registration.deadline" and "01/05/2024" in r.json["message"]
    system.drain()
    assert len(events(system)) == 1  # only the campaign: nothing stored for the refusal


def test_a_campaign_that_allows_late_registration_marks_it_late(system):
    cid = launch(system, allow_late_registration=True)
    r = register(system, cid, on="2024-06-10")
    assert r.status_code == 201 and r.json["late"] is True


def test_bad_input_names_every_wrong_field(system):
    cid = launch(system)
    r = register(system, cid, participant={**TEACHER, "individual_kind": None, "kind": "robot"},
                 pledges=[{"content": "x", "start": "not a date"}])
    assert r.status_code == 422
    errors = r.json["errors"]["json"]
    assert "kind" in errors["participant"]
    assert set(errors["pledges"]["0"]) == {"content", "start", "end"}


def test_an_individual_must_say_which_kind_of_individual(system):
    cid = launch(system)
    r = register(system, cid, participant={k: v for k, v in TEACHER.items() if k != "individual_kind"})
    assert r.status_code == 422 and "individual_kind" in r.json["errors"]["json"]["participant"]


def test_a_pledge_that_ends_before_it_starts_is_refused(system):
    cid = launch(system)
    r = register(system, cid, pledges=[{**PLEDGE, "start": "2024-12-31", "end": "2024-01-01"}])
    assert r.status_code == 409 and r.json["rule"] == "registration.pledge_dates"


def test_a_campaign_period_must_end_after_it_starts(system):
    r = system.client("registration").post(
        "/campaigns", json={**CAMPAIGN, "period_end": "2023-12-31"}, headers=token(**DEPARTMENT))
    assert r.status_code == 409 and r.json["rule"] == "campaign.period_order"


@pytest.mark.parametrize("headers,status", [({}, 401), ({"Authorization": "Bearer nonsense"}, 401),
                                            (token(role="participant"), 403)])
def test_launching_needs_a_valid_token_of_a_launching_role(system, headers, status):
    r = system.client("registration").post("/campaigns", json=CAMPAIGN, headers=headers)
    assert r.status_code == status and r.json["message"]


def test_a_province_cannot_launch_for_another(system):
    r = system.client("registration").post("/campaigns", json={**CAMPAIGN, "province": "52"},
                                           headers=token(provinces=("83",), **DEPARTMENT))
    assert r.status_code == 403


def test_another_province_neither_sees_nor_registers_to_a_campaign(system):
    cid = launch(system)
    other = token(provinces=("52",))
    assert system.client("registration").get(f"/campaigns/{cid}", headers=other).status_code == 404
    assert register(system, cid, headers=other).status_code == 404
    assert system.client("registration").get("/campaigns", headers=other).json == []


def test_the_other_services_project_the_registration_once_even_if_delivered_twice(system):
    cid = launch(system)
    rid = register(system, cid).json["id"]
    system.drain()
    from shared.relay import mark_unsent
    mark_unsent(system.apps["registration"].extensions["runtime"].db)  # publish everything again
    system.drain()
    h = token()
    assert system.client("evaluation").get(f"/candidates/{rid}", headers=h).json["status"] == \
        "awaiting_evaluation"
    assert len(system.client("awards").get(f"/campaigns/{cid}/participants", headers=h).json) == 1
    inbox = system.client("notifications").get("/inbox/gv-1", headers=token("participant", subject="gv-1")).json
    assert [m["event_type"] for m in inbox] == ["registration.participant.registered"]


def test_validation_errors_are_in_vietnamese_and_name_the_field(system):
    cid = launch(system)
    r = system.client("registration").post(f"/campaigns/{cid}/registrations", headers=token(),
                                           json={"pledges": [{"content": "ab", "start": "2024-13-01"}]})
    assert r.status_code == 422 and r.json["message"].startswith("Dữ liệu gửi lên không hợp lệ")
    errors = r.json["errors"]["json"]
    assert errors["participant"] == ["Thiếu trường bắt buộc."]
    assert errors["pledges"]["0"] == {"content": ["Độ dài phải từ 3 đến 2000."],
                                      "start": ["Không phải ngày hợp lệ (YYYY-MM-DD)."],
                                      "end": ["Thiếu trường bắt buộc."]}


def test_a_body_that_is_not_json_is_a_clear_400(system):
    r = system.client("registration").post("/campaigns", data="{not json", headers={
        **token(**DEPARTMENT), "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json["message"]
