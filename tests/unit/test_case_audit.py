"""The audit of a case on the in-process system: a registration's whole story, gathered from the
four services' ``/cases/<correlation id>/audit`` answers and verified; and what it names when a
store was tampered with, an event is missing, or a client tried to re-home the story."""
from sqlalchemy import delete, select, update

from shared.eventstore import events, outbox
from tests import scenarios
from tests.driver import InProcess
from tests.unit.conftest import SECRET


def _database(system, service):
    return system.apps[service].extensions["runtime"].db


def test_a_case_is_one_story_from_registration_to_notification_each_event_caused_by_the_one_before(system):
    scenarios.case_from_registration_to_notification(InProcess(system, SECRET))


def test_an_edited_event_of_the_case_is_named_with_its_service(system):
    d = InProcess(system, SECRET)
    found = scenarios.case_from_registration_to_notification(d)
    decided = next(e for e in found["case"].events if e["type"] == "awards.award.decided")
    with _database(system, "awards").write() as conn:
        body = conn.execute(select(events.c.body).where(events.c.event_id == decided["id"])).scalar_one()
        conn.execute(update(events).where(events.c.event_id == decided["id"])
                     .values(body=body.replace("2024/QĐ-UBND", "2025/QĐ-UBND")))
    case = scenarios.case_audit(d, found["correlation_id"], scenarios.HUNG_YEN)
    assert not case.verified
    assert any(p.startswith("[awards]") and "(edited)" in p for p in case.problems), case.problems
    # taking each service's verdict on its own chains (its key is this system's, b""): the same findings
    assert scenarios.case_audit(d, found["correlation_id"], scenarios.HUNG_YEN, None).problems == case.problems


def test_a_removed_evaluation_is_named_where_it_was_consumed_and_as_a_missing_cause(system):
    d = InProcess(system, SECRET)
    found = scenarios.case_from_registration_to_notification(d)
    evaluated = next(e for e in found["case"].events if e["type"] == "evaluation.registration.evaluated")
    with _database(system, "evaluation").write() as conn:  # its outbox row first, which refers to it
        position = select(events.c.position).where(events.c.event_id == evaluated["id"]).scalar_subquery()
        conn.execute(delete(outbox).where(outbox.c.position == position))
        conn.execute(delete(events).where(events.c.event_id == evaluated["id"]))
    case = scenarios.case_audit(d, found["correlation_id"], scenarios.HUNG_YEN)
    assert any(p.startswith("[awards]") and evaluated["id"] in p and "(removed)" in p for p in case.problems)
    assert any("cause not in the trail" in p and evaluated["id"] in p for p in case.problems), case.problems


def test_a_client_header_cannot_move_a_case_into_another_story(system):
    d = InProcess(system, SECRET)
    p = scenarios.HUNG_YEN
    cid = scenarios.launch(d, p, title="Phong trào thi đua năm 2024", target_groups=["teacher"])["id"]
    d.at("2024-04-20")
    teacher = scenarios.individual("teacher", "Trần Văn Đầu")
    r = system.client("registration").post(
        f"/campaigns/{cid}/registrations",
        json={"participant": teacher,
              "pledges": [{"content": "Hoàn thành xuất sắc nhiệm vụ", "start": "2024-01-02", "end": "2024-12-30"}]},
        headers={**d.token("unit_head", p, unit=teacher.get("unit_id") or scenarios.head_unit(p),
                                  unit_level="school"),
                 "X-Correlation-ID": "exemplar-someone-else"})
    assert r.status_code == 201, r.get_json()
    with _database(system, "registration").read() as conn:
        stored = conn.execute(select(events.c.correlation_id).where(
            events.c.stream_id == f"registration-{r.get_json()['id']}")).scalars().all()
    assert stored == [f"registration-{r.get_json()['id']}"]


def test_another_provinces_operator_gets_nothing_of_the_case(system):
    d = InProcess(system, SECRET)
    found = scenarios.case_from_registration_to_notification(d)
    for service in ("registration", "evaluation", "awards", "notifications"):
        answer = scenarios.ok(d.get(service, f"/cases/{found['correlation_id']}/audit", role="operator",
                                    province=scenarios.GIA_LAI), 200)
        assert (answer["events"], answer["streams"], answer["seen"], answer["notified"]) == ([], {}, [], []), service
    case = scenarios.case_audit(d, found["correlation_id"], scenarios.GIA_LAI)
    assert not case.verified and "(registration not found)" in case.problems[0]
