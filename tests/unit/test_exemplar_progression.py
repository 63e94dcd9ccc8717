"""The five-step exemplar progression at the bus level: order, audit, tamper evidence, provinces."""
import pytest
from sqlalchemy import select, text

from shared.eventstore import events
from tests import scenarios as s
from tests.driver import InProcess
from tests.unit.conftest import SECRET


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


def db(system, service):
    return system.apps[service].extensions["runtime"].db


def test_the_ben_tre_progression_runs_all_five_steps_each_caused_by_the_one_before(d):
    outcome = s.ben_tre_exemplar(d)
    assert outcome["story"].as_json()["steps_done"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("step", [2, 3, 4, 5])
def test_a_step_out_of_order_is_refused_naming_the_missing_step_and_stores_nothing(d, system, step):
    setup = s.exemplar_setup(d)
    exemplar_id = s.register_exemplar(d, s.VINH_LONG, setup)
    d.settle()
    for done in range(1, step - 1):  # every step before the missing one
        s.ok(s.STEP_CALLS[done](d, s.VINH_LONG, exemplar_id, setup))
        d.settle()
    service = {2: "notifications", 3: "registration", 4: "evaluation", 5: "awards"}[step]
    with db(system, service).read() as conn:
        before = conn.execute(select(events.c.event_id)).scalars().all()
    refused = s.STEP_CALLS[step](d, s.VINH_LONG, exemplar_id, setup)
    assert refused.status == 409 and refused.body["rule"] == "exemplar.step_order", refused
    assert refused.body["details"]["missing_step"] == step - 1 and refused.body["retryable"] is True
    assert f"bước {step - 1}" in refused.body["message"]
    with db(system, service).read() as conn:
        assert conn.execute(select(events.c.event_id)).scalars().all() == before


def test_a_head_selects_only_within_the_head_scope_which_the_token_names(d):
    setup = s.exemplar_setup(d)
    exemplar_id = s.register_exemplar(d, s.VINH_LONG, setup)
    refused = d.post("registration", f"/exemplars/{exemplar_id}/selection", {"commendation": "Biểu dương"},
                     role="unit_head", province=s.VINH_LONG, unit=setup["learner"])
    assert refused.status == 409 and refused.body["rule"] == "exemplar.head_scope"
    claimed = d.post("registration", f"/exemplars/{exemplar_id}/selection", {
        "scope_unit_id": setup["root"], "commendation": "Biểu dương"}, role="unit_head", province=s.VINH_LONG,
        unit=setup["learner"])
    assert claimed.status == 403 and claimed.body["rule"] == "auth.claims"
    assert "scope_unit_id" in claimed.body["errors"]
    assert s.ok(d.post("registration", f"/exemplars/{exemplar_id}/selection", {"commendation": "Biểu dương"},
                       role="unit_head", province=s.VINH_LONG, unit=setup["root"]))["status"] == "selected"


def test_the_registration_form_of_each_kind_is_required(d):
    setup = s.exemplar_setup(d)
    r = d.post("registration", "/exemplars", {"campaign_id": setup["campaign_id"], "phase": "2024–2025",
                                              "kind": "individual", "participant_id": "gv-1",
                                              "achievements": "Giáo viên dạy giỏi cấp tỉnh"},
               role="unit_head", province=s.VINH_LONG)
    assert r.status == 422 and "individual" in r.body["errors"]["json"]


def test_the_progress_report_shows_how_far_each_phase_is_from_its_target(d):
    setup = s.exemplar_setup(d)
    exemplar_id = s.register_exemplar(d, s.VINH_LONG, setup)
    s.ok(s.STEP_CALLS[1](d, s.VINH_LONG, exemplar_id, setup))
    progress = s.ok(d.get("registration", f"/campaigns/{setup['campaign_id']}/exemplar-progress",
                          province=s.VINH_LONG), 200)
    assert [(p["kind"], p["target"], p["selected"], p["remaining"]) for p in progress] == [
        ("collective", 2, 1, 1), ("individual", 2, 0, 2)]


def test_publicity_reaches_every_unit_of_the_province_and_the_public_page(d, system):
    outcome = s.ben_tre_exemplar(d)
    learner = outcome["setup"]["learner"]
    inbox = s.ok(d.get("notifications", f"/inbox/{learner}", role="unit_head", province=s.VINH_LONG, unit=learner),
                 200)
    assert "Tuyên truyền, nhân rộng điển hình tiên tiến" in [m["title"] for m in inbox]
    public = system.client("notifications").get(f"/public/{s.VINH_LONG}/exemplars").get_json()
    assert [p["exemplar_id"] for p in public] == [outcome["exemplar_id"]]


def _tamper(system, service, sql, **params):
    with db(system, service).write() as conn:
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text(sql), params)


@pytest.mark.parametrize("how", ["edited", "deleted", "reordered", "inserted"])
def test_tampering_with_a_stored_event_is_detected_and_named(d, system, how):
    outcome = s.ben_tre_exemplar(d)
    exemplar_id = outcome["exemplar_id"]
    stream = f"exemplar-{exemplar_id}"
    with db(system, "registration").read() as conn:
        rows = conn.execute(select(events).where(events.c.stream_id == stream).order_by(events.c.version)).all()
    victim = rows[1]  # the selection (step 1)
    if how == "edited":
        _tamper(system, "registration", "UPDATE events SET body = replace(body, 'Biểu dương', 'Khen ngợi') "
                "WHERE event_id = :id", id=victim.event_id)
    elif how == "deleted":
        _tamper(system, "registration", "DELETE FROM outbox WHERE position = :p", p=victim.position)
        _tamper(system, "registration", "DELETE FROM events WHERE event_id = :id", id=victim.event_id)
    elif how == "reordered":
        a, b = rows[1], rows[2]
        _tamper(system, "registration", "UPDATE events SET version = -1 WHERE event_id = :id", id=a.event_id)
        _tamper(system, "registration", "UPDATE events SET version = :v WHERE event_id = :id", v=a.version, id=b.event_id)
        _tamper(system, "registration", "UPDATE events SET version = :v WHERE event_id = :id", v=b.version, id=a.event_id)
    else:
        _tamper(system, "registration", "UPDATE events SET version = -version WHERE stream_id = :s AND version >= 2",
                s=stream)
        _tamper(system, "registration", "UPDATE events SET version = 1 - version WHERE stream_id = :s AND version < 0",
                s=stream)
        _tamper(system, "registration", "INSERT INTO events (event_id, stream_id, version, type, province, "
                "correlation_id, recorded_at, body, prev_hash, hash) VALUES ('11111111-1111-4111-8111-111111111111', "
                ":s, 2, 'registration.exemplar.selected', :p, :c, '2024-06-01', :body, :prev, :hash)",
                s=stream, p=s.VINH_LONG, c=f"exemplar-{exemplar_id}", body=victim.body.replace(victim.event_id,
                "11111111-1111-4111-8111-111111111111"), prev=rows[0].hash, hash="f" * 64)
    story = s.audit(d, exemplar_id, s.VINH_LONG)
    assert not story.verified
    named = "11111111-1111-4111-8111-111111111111" if how == "inserted" else rows[1].event_id if how != "reordered" \
        else rows[2].event_id
    assert any(named in p for p in story.problems), story.problems
    # each service's own verdict on its chains (its key is this system's, b""): the same findings
    assert s.audit(d, exemplar_id, s.VINH_LONG, None).problems == story.problems


def test_two_provinces_progressing_at_once_each_audit_shows_only_its_own(d):
    a = s.ben_tre_exemplar(d, province=s.VINH_LONG)
    b = s.ben_tre_exemplar(d, province=s.GIA_LAI)
    mine = s.audit(d, a["exemplar_id"], s.VINH_LONG)
    assert mine.verified and {e["province"] for e in mine.events} == {s.VINH_LONG}
    theirs = s.audit(d, a["exemplar_id"], s.GIA_LAI)
    assert theirs.events == []
    assert {e["province"] for e in s.audit(d, b["exemplar_id"], s.GIA_LAI).events} == {s.GIA_LAI}
