"""Conflict of interest as data, at the bus level: a council's members, their recusals from a
candidate (each an event naming its reason), and a ballot whose share counts only the members
entitled to vote — as awards then checks it. The world (a Sở, two schools, a council of ten)
is tests/councils.py's.
"""
from __future__ import annotations

import pytest

from tests.councils import (CSTDCS, close, declare, member, nominate_cstdcs, open_ballot, reasons, secretary, vote,
                            world)
from tests.driver import InProcess
from tests.scenarios import collective, ok, register, uid
from tests.unit.conftest import SECRET, module_system

P = "86"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "council-recusal")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


# == recusal, for each of the three reasons =========================================================
def test_the_candidate_her_units_member_and_a_declared_interest_are_recused_when_the_ballot_opens(d):
    w = world(d, P)
    declare(d, w, w.declarer)
    ballot = open_ballot(d, w)
    assert reasons(ballot) == {w.teacher: "is_candidate", w.colleague: "candidate_unit",
                               w.declarer: "declared_interest"}
    assert (ballot["members_total"], ballot["recused"], ballot["entitled"]) == (10, 3, 7)
    explained = {r["person_id"]: r["explanation"] for r in ballot["recusals"]}
    assert "là người được xét" in explained[w.teacher]
    assert "thuộc đơn vị của người được xét" in explained[w.colleague]
    assert "xung đột lợi ích" in explained[w.declarer]


def test_an_interest_declared_while_the_ballot_is_open_recuses_at_once_and_strikes_the_vote_cast(d):
    w = world(d, P)
    ballot = open_ballot(d, w, secret=False)
    assert w.declarer not in reasons(ballot)
    assert ok(vote(d, w, ballot, w.declarer))["votes_cast"] == 1
    assert declare(d, w, w.declarer)["recused_from"] == [ballot["id"]]
    after = ok(d.get("evaluation", f"/ballots/{ballot['id']}", province=P), 200)
    assert reasons(after)[w.declarer] == "declared_interest"
    assert (after["votes_cast"], after["entitled"]) == (0, 7)


def test_in_a_schools_own_council_belonging_to_the_school_is_no_conflict(d):
    w = world(d, P)
    council_id = uid("hd-truong")
    ok(d.post("evaluation", "/councils", {"id": council_id, "name": "Hội đồng TĐKT Trường THPT A",
                                          "unit_id": w.school_a, "term": "2024-2025"}, **secretary(P)))
    for person_id in (w.colleague, *w.others[:4]):
        ok(d.post("evaluation", f"/councils/{council_id}/members",
                  {"person_id": person_id, "name": "Giáo viên Trường THPT A", "unit_id": w.school_a}, **secretary(P)))
    ballot = ok(d.post("evaluation", "/ballots", {"council_id": council_id, "registration_id": w.registration_id,
                                                  "award": CSTDCS}, **secretary(P)))
    assert ballot["recusals"] == [] and ballot["entitled"] == 5


def test_for_a_school_standing_as_a_collective_its_own_members_on_the_council_are_recused(d):
    w = world(d, P)
    school = collective("Trường THPT B", unit_id=w.school_b)
    rid = ok(register(d, P, w.campaign_id, school, on="2024-03-01", unit=w.school_b))["id"]
    d.settle()
    ballot = ok(d.post("evaluation", "/ballots", {"council_id": w.council_id, "registration_id": rid,
                                                  "award": "tap_the_lao_dong_xuat_sac"}, **secretary(P)))
    in_school_b = {w.declarer, *(p for i, p in enumerate(w.others) if i % 2 == 0)}  # the world's members of B
    assert reasons(ballot) == {p: "candidate_unit" for p in in_school_b}
    assert ballot["entitled"] == 10 - len(in_school_b)


def test_a_member_added_after_the_ballot_opened_does_not_vote_in_it(d):
    w = world(d, P)
    ballot = open_ballot(d, w, secret=False)
    late = uid("tv-moi")
    ok(d.post("evaluation", f"/councils/{w.council_id}/members",
              {"person_id": late, "name": "Thành viên mới", "unit_id": w.so}, **secretary(P)))
    r = vote(d, w, ballot, late)
    assert r.status == 403 and r.body["rule"] == "ballot.member", r


def test_a_schools_council_does_not_vote_on_another_schools_teacher(d):
    w = world(d, P)
    council_id = uid("hd-truong-b")
    ok(d.post("evaluation", "/councils", {"id": council_id, "name": "Hội đồng TĐKT Trường THPT B",
                                          "unit_id": w.school_b, "term": "2024-2025"}, **secretary(P)))
    ok(d.post("evaluation", f"/councils/{council_id}/members",
              {"person_id": w.others[0], "name": "Giáo viên Trường THPT B", "unit_id": w.school_b}, **secretary(P)))
    r = d.post("evaluation", "/ballots", {"council_id": council_id, "registration_id": w.registration_id,
                                          "award": CSTDCS}, **secretary(P))
    assert r.status == 403 and r.body["rule"] == "ballot.council_scope", r


# == votes and shares ===============================================================================
def test_a_recused_members_vote_is_refused_naming_the_rule(d):
    w = world(d, P)
    ballot = open_ballot(d, w, secret=False)  # an open vote: each member votes here
    for person_id in (w.teacher, w.colleague):
        r = vote(d, w, ballot, person_id)
        assert r.status == 409 and r.body["rule"] == "ballot.recused", r
        assert "không được bỏ phiếu" in r.body["message"]
    r = vote(d, w, ballot, "nguoi-ngoai")
    assert r.status == 403 and r.body["rule"] == "ballot.member", r
    assert ok(d.get("evaluation", f"/ballots/{ballot['id']}", province=P), 200)["votes_cast"] == 0


def test_in_a_secret_ballot_the_secretary_counts_and_a_recused_members_ballot_is_refused(d):
    w = world(d, P)
    ballot = open_ballot(d, w)
    r = vote(d, w, ballot, w.others[0])
    assert r.status == 409 and r.body["rule"] == "ballot.secret", r  # no named votes in a secret ballot
    r = close(d, w, ballot, 7, 0, voters=[w.colleague, *w.others[:6]])
    assert r.status == 409 and r.body["rule"] == "ballot.recused" and r.body["details"]["person_id"] == w.colleague, r
    assert "không được nhận" in r.body["message"]
    r = close(d, w, ballot, 7, 0, voters=w.others[:6])
    assert r.status == 422 and "votes_for" in r.body["errors"], r  # more ballots than voters
    r = d.post("evaluation", f"/ballots/{ballot['id']}/result", {"votes_for": 6, "votes_against": 0},
               **secretary(P, subject=w.colleague))
    assert r.status == 409 and r.body["rule"] == "ballot.recused", r  # nor does a recused member count them
    assert ok(d.get("evaluation", f"/ballots/{ballot['id']}", province=P), 200)["status"] == "open"


def test_a_share_that_passes_only_because_the_recused_are_not_counted(d):
    """Six of the seven entitled (85.7 %) is enough for 80 %; six of all ten (60 %) would not be."""
    w = world(d, P)
    declare(d, w, w.declarer)
    ballot = open_ballot(d, w)
    closed = ok(close(d, w, ballot, 6, 1, voters=w.others))
    assert (closed["votes_for"], closed["entitled"], closed["share_for_pct"]) == (6, 7, 85.71)
    assert 100 * 6 / closed["members_total"] < 80
    n = ok(nominate_cstdcs(d, w))
    assert n["dossier"]["council_minutes"] is None


def test_a_share_short_of_the_rule_over_the_entitled_is_refused(d):
    w = world(d, P)
    ballot = open_ballot(d, w)  # three recused: the candidate, her colleague, and none declared
    assert ballot["entitled"] == 8
    ok(close(d, w, ballot, votes_for=6, votes_against=2))  # 75 % of the eight entitled
    r = nominate_cstdcs(d, w, minutes={"members_total": 10, "votes_for": 10})  # typed minutes do not count
    assert r.status == 409 and r.body["rule"] == "award.secret_ballot", r
    assert "6/8" in r.body["message"] and "rút lui" in r.body["message"]


def test_the_secretary_may_not_record_more_votes_than_members_entitled(d):
    w = world(d, P)
    ballot = open_ballot(d, w)
    r = close(d, w, ballot, votes_for=9, votes_against=0)
    assert r.status == 422 and "votes_for" in r.body["errors"] and r.body["rule"] == "ballot.entitled", r
    assert ok(d.get("evaluation", f"/ballots/{ballot['id']}", province=P), 200)["status"] == "open"


def test_an_open_vote_does_not_stand_for_the_secret_ballot_a_title_needs(d):
    w = world(d, P)
    ballot = open_ballot(d, w, secret=False)
    for person_id in w.others:
        ok(vote(d, w, ballot, person_id))
    assert ok(close(d, w, ballot))["share_for_pct"] == 87.5  # 7 of the 8 entitled: enough, were it secret
    r = nominate_cstdcs(d, w)
    assert r.status == 409 and r.body["rule"] == "award.secret_ballot" and "bỏ phiếu kín" in r.body["message"], r


def test_typed_minutes_no_longer_count_where_the_province_keeps_its_councils(d):
    w = world(d, P)
    r = nominate_cstdcs(d, w, minutes={"members_total": 10, "votes_for": 10})
    assert r.status == 409 and r.body["rule"] == "award.secret_ballot", r
    assert "dossier.council_minutes" in r.body["errors"]


# == appraisal ======================================================================================
def test_a_recused_member_may_not_appraise_the_candidate_and_an_entitled_one_may(d):
    w = world(d, P)
    ballot = open_ballot(d, w)
    ok(close(d, w, ballot, votes_for=8, votes_against=0))
    n = ok(nominate_cstdcs(d, w))
    for person_id, reason in ((w.colleague, "candidate_unit"), (w.teacher, "is_candidate")):
        r = d.post("awards", f"/nominations/{n['id']}/appraisal", {"outcome": "approved", "reason": "Đủ tiêu chuẩn"},
                   **member(P, person_id))
        assert r.status == 403 and r.body["rule"] == "appraisal.recused", r
        assert r.body["details"]["reason"] == reason
    assert ok(d.post("awards", f"/nominations/{n['id']}/appraisal", {"outcome": "approved", "reason": "Đủ tiêu chuẩn"},
                     **member(P, w.others[0])))["status"] == "approved"


# == the audit ======================================================================================
def test_each_recusal_is_an_event_of_the_store_naming_its_reason_caused_by_the_opening(d, system):
    w = world(d, P)
    declare(d, w, w.declarer)
    ballot = open_ballot(d, w)
    rt = system.apps["evaluation"].extensions["runtime"]
    with rt.db.read() as conn:
        events = rt.store.load(conn, f"ballot-{P}:{ballot['id']}")
    opened, *recused = events
    assert opened.type == "evaluation.ballot.opened"
    assert {e.type for e in recused} == {"evaluation.ballot.member_recused"}
    assert {e.data["person_id"]: e.data["reason"] for e in recused} == reasons(ballot)
    assert all(e.causationid == opened.id and e.correlationid == f"registration-{w.registration_id}"
               for e in recused)
    assert {r["event_id"] for r in ballot["recusals"]} == {e.id for e in recused}


# == edges: roles, scope, fields ====================================================================
def test_who_may_run_a_council_and_what_a_bad_request_is_told(d):
    w = world(d, P)
    body = {"council_id": w.council_id, "registration_id": w.registration_id, "award": CSTDCS}
    r = d.post("evaluation", "/ballots", body, role="participant", province=P)
    assert r.status == 403, r
    r = d.post("evaluation", "/ballots", body, **secretary(P, unit=w.school_b))
    assert r.status == 403 and r.body["rule"] == "auth.unit_scope", r
    r = d.post("evaluation", "/ballots", {"council_id": w.council_id}, **secretary(P))
    assert r.status == 422 and r.body["errors"]["json"]["award"] == ["Thiếu trường bắt buộc."], r
    r = d.post("evaluation", f"/councils/{w.council_id}/interests",
               {"participant_id": w.teacher, "reason": "Người thân", "person_id": w.others[0]}, **member(P, w.declarer))
    assert r.status == 403 and r.body["rule"] == "auth.claims", r
    r = d.post("evaluation", f"/councils/{w.council_id}/members",
               {"person_id": w.others[0], "name": "Lặp lại", "unit_id": w.so}, **secretary(P))
    assert r.status == 409 and r.body["rule"] == "council.member_once", r
