"""Who reads an inbox: its recipient, the head of the recipient's unit (or of a unit above it),
for a role's mailbox that role of the province — and nobody else, with the same refusal whether
the inbox exists or not. The other reads of notifications ask the same question."""
import pytest

from tests import scenarios as s
from tests.driver import InProcess
from tests.unit.conftest import SECRET

P = "83"


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


@pytest.fixture
def chart(d):
    """Sở > Phòng GD&ĐT > two schools; a teacher registered in the first school, a staff member
    added to it; each has been told of their registration."""
    ids = {k: s.uid(k) for k in ("so", "phong", "school", "other")}
    s.ok(d.post("registration", "/units", {"id": ids["so"], "name": "Sở GD&ĐT", "kind": "department"}))
    s.ok(d.post("registration", "/units", {"id": ids["phong"], "name": "Phòng GD&ĐT Châu Thành", "kind": "office",
                                           "parent_id": ids["so"]}))
    for key in ("school", "other"):
        s.ok(d.post("registration", "/units", {"id": ids[key], "name": f"Trường {key}", "kind": "school",
                                               "parent_id": ids["phong"]}))
    campaign = s.launch(d, P, title="Thi đua dạy tốt", issuer="Sở GD&ĐT", registration_deadline="2099-04-30")
    teacher = s.individual("teacher", "Nguyễn Thị Lan", unit_id=ids["school"])
    staff = s.individual("staff", "Trần Văn Ba")  # registered without a unit: the unit knows him as a member
    s.ok(d.post("registration", f"/units/{ids['school']}/members",
                {"person_id": staff["participant_id"], "name": staff["name"], "individual_kind": "staff"}))
    for who in (teacher, staff):
        s.ok(s.register(d, P, campaign["id"], who, on="2024-04-01"))
    d.settle()
    return {**ids, "teacher": teacher["participant_id"], "staff": staff["participant_id"]}


def inbox(d, recipient, role="participant", **claims):
    return d.get("notifications", f"/inbox/{recipient}", role=role, province=P, **claims)


def refused(reply) -> bool:
    return reply.status == 403 and reply.body["rule"] == "notifications.inbox_reader"


def test_the_recipient_reads_their_own_inbox_by_its_name_or_as_their_own(d, chart):
    mine = s.ok(inbox(d, chart["teacher"], subject=chart["teacher"]), 200)
    assert [m["title"] for m in mine] == ["Đăng ký thi đua đã được ghi nhận"]
    assert s.ok(d.get("notifications", "/inbox", role="participant", subject=chart["teacher"]), 200) == mine


def test_another_person_is_refused_and_cannot_tell_whether_the_inbox_exists(d, chart):
    stranger = inbox(d, chart["teacher"], subject=chart["staff"])
    assert refused(stranger), stranger
    nobody = inbox(d, "khong-co-ai", subject=chart["staff"])
    assert refused(nobody) and stranger.body == {**nobody.body, "message": nobody.body["message"].replace(
        "khong-co-ai", chart["teacher"])}
    assert refused(inbox(d, chart["teacher"], role="department"))  # nor the department, nor an operator
    assert refused(inbox(d, chart["teacher"], role="operator"))


def test_the_head_of_the_recipients_unit_and_of_the_units_above_reads_it(d, chart):
    for head in ("school", "phong", "so"):
        assert len(s.ok(inbox(d, chart["teacher"], role="unit_head", unit=chart[head]), 200)) == 1, head
    assert len(s.ok(inbox(d, chart["staff"], role="unit_head", unit=chart["school"]), 200)) == 1  # a member


def test_the_head_of_another_unit_or_a_head_without_a_unit_is_refused(d, chart):
    assert refused(inbox(d, chart["teacher"], role="unit_head", unit=chart["other"]))
    assert refused(inbox(d, chart["teacher"], role="unit_head"))
    assert refused(inbox(d, chart["teacher"], role="participant", unit=chart["school"]))  # a colleague
    assert refused(d.get("notifications", f"/inbox/{chart['teacher']}", role="unit_head", province="52",
                         unit=chart["school"]))  # the same unit id in another province is another unit


def test_a_units_inbox_is_read_by_its_head_and_the_heads_above_it(d, chart):
    assert s.ok(inbox(d, chart["school"], role="unit_head", unit=chart["school"]), 200) == []
    assert s.ok(inbox(d, chart["school"], role="unit_head", unit=chart["phong"]), 200) == []
    assert refused(inbox(d, chart["school"], role="unit_head", unit=chart["other"]))


@pytest.mark.parametrize("mailbox,reader,allowed", [
    ("council:83", dict(role="council"), True),
    ("council:83", dict(role="council", unit="truong-a"), False),  # a school's council is not the province's
    ("council:83", dict(role="department"), False),
    ("council:83", dict(role="council", province="52"), False),
    ("province:83", dict(role="department"), True),
    ("province:83", dict(role="council"), False),
    ("province:83", dict(role="department", province="52"), False),
    ("authority:province:83", dict(role="authority", authority="province"), True),
    ("authority:province:83", dict(role="authority", authority="department"), False),
    ("authority:province:83", dict(role="council", authority="province"), False),
    ("authority:province:83", dict(role="participant", subject="authority:province:83"), False),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_roles_mailbox_is_read_by_that_role_of_its_province_only(d, mailbox, reader, allowed):
    reply = d.get("notifications", f"/inbox/{mailbox}", **{"province": P, **reader})
    assert (reply.status == 200) if allowed else refused(reply), reply


def test_only_the_department_and_operators_see_the_provinces_e_mails(d):
    for role in ("unit_head", "council", "participant", "authority"):
        reply = d.get("notifications", "/deliveries", role=role)
        assert reply.status == 403, (role, reply)
    assert s.ok(d.get("notifications", "/deliveries", role="operator"), 200) == []
    retry = d.post("notifications", "/deliveries/khong-co/retry", {}, role="unit_head")
    assert retry.status == 403


def test_an_e_mail_address_is_set_by_who_may_read_the_inbox(d, chart):
    body = {"id": chart["teacher"], "name": "Nguyễn Thị Lan", "email": "lan@truong.edu.vn"}
    stolen = d.post("notifications", "/recipients", {**body, "email": "ke-la@example.com"},
                    role="participant", subject=chart["staff"])
    assert refused(stolen), stolen
    assert d.post("notifications", "/recipients", body, role="department").status == 403
    s.ok(d.post("notifications", "/recipients", body, role="participant", subject=chart["teacher"]))
    s.ok(d.post("notifications", "/recipients", body, role="unit_head", unit=chart["school"]))
    s.ok(d.post("notifications", "/recipients", body, role="service"))  # a directory kept elsewhere


def test_reminder_days_are_set_for_the_province_not_by_a_units_council(d):
    reply = d.post("notifications", "/reminder-settings", {"days_before": [5, 2]}, role="council", unit="truong-a")
    assert reply.status == 403 and reply.body["rule"] == "reminders.province_council", reply
    s.ok(d.post("notifications", "/reminder-settings", {"days_before": [5, 2]}, role="council"))
