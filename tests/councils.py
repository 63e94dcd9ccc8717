"""A council's world, written once for the council tests and the scenarios that hold a ballot.

A Sở with two schools; the teacher stands in school A. The Sở's council has ten members: the
teacher herself, a colleague in a subject group (tổ) under school A, a member of school B who
may declare an interest, and seven others (of the Sở and of school B).
"""
from __future__ import annotations

from dataclasses import dataclass

from tests.driver import Driver, Reply
from tests.scenarios import criteria_set, evaluate, individual, launch, nominate, ok, register, uid

CA_MAU = "96"  # a province no other test uses: keeping councils there changes no other test's rules
CSTDCS = "chien_si_thi_dua_co_so"  # secret ballot, at least 80 % (Decree 98/2023 Art 30(7))
CRITERIA = [{"code": "xep_loai", "label": "Xếp loại", "kind": "quantitative", "metric": "rating",
             "comparison": "in", "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]},
            {"code": "sang_kien", "label": "Sáng kiến", "kind": "quantitative", "metric": "initiatives",
             "comparison": ">=", "threshold": 1}]
EVIDENCE = {"xep_loai": "hoan_thanh_xuat_sac", "sang_kien": 1}


@dataclass
class World:
    province: str
    so: str
    school_a: str
    school_b: str
    campaign_id: str
    registration_id: str
    teacher: str  # her person id: the participant id, and her token's subject
    council_id: str
    colleague: str
    declarer: str
    others: list[str]


def secretary(province: str, **claims) -> dict:
    return {"role": "council", "province": province, "subject": "thu-ky", **claims}


def member(province: str, person_id: str) -> dict:
    return {"role": "council", "province": province, "subject": person_id}


def unit(d: Driver, province: str, unit_id: str, name: str, kind: str, parent: str | None = None) -> str:
    ok(d.post("registration", "/units", {"id": unit_id, "name": name, "kind": kind, "parent_id": parent},
              province=province))
    return unit_id


def world(d: Driver, province: str) -> World:
    """A teacher registered, evaluated as passing, and the Sở's council of ten formed."""
    so = unit(d, province, uid("so"), "Sở GD&ĐT", "department")
    school_a = unit(d, province, uid("thpt-a"), "Trường THPT A", "school", so)
    group = unit(d, province, uid("to-toan"), "Tổ Toán, Trường THPT A", "other", school_a)
    school_b = unit(d, province, uid("thpt-b"), "Trường THPT B", "school", so)
    cid = launch(d, province, title="Phong trào thi đua năm học 2024", issuer="Sở GD&ĐT")["id"]
    who = individual("teacher", "Nguyễn Thị Hạnh", unit="Trường THPT A", unit_id=school_a)
    rid = ok(register(d, province, cid, who, on="2024-03-01", unit=school_a))["id"]
    d.settle()
    set_id = uid("tc")
    criteria_set(d, province, set_id, "Giáo viên", ["teacher"], CRITERIA, "Kế hoạch thi đua")
    assert ok(evaluate(d, province, rid, set_id, EVIDENCE, on="2024-11-20"))["passed"]
    council_id = uid("hd")
    ok(d.post("evaluation", "/councils", {"id": council_id, "name": "Hội đồng TĐKT ngành", "unit_id": so,
                                          "term": "2024-2025"}, **secretary(province)))
    colleague, declarer = uid("gv-a"), uid("gv-b")
    others = [uid("tv") for _ in range(7)]
    people = [(who["participant_id"], "Nguyễn Thị Hạnh", school_a), (colleague, "Lê Văn Toán", group),
              (declarer, "Phạm Thị Bình", school_b)] + \
             [(p, f"Thành viên {i}", so if i % 2 else school_b) for i, p in enumerate(others)]
    for person_id, name, unit_id in people:
        ok(d.post("evaluation", f"/councils/{council_id}/members",
                  {"person_id": person_id, "name": name, "unit_id": unit_id}, **secretary(province)))
    return World(province, so, school_a, school_b, cid, rid, who["participant_id"], council_id, colleague, declarer,
                 others)


def declare(d: Driver, w: World, person_id: str) -> dict:
    return ok(d.post("evaluation", f"/councils/{w.council_id}/interests",
                     {"participant_id": w.teacher, "reason": "Là vợ/chồng của người được xét"},
                     **member(w.province, person_id)))


def open_ballot(d: Driver, w: World, award: str = CSTDCS, secret: bool = True) -> dict:
    return ok(d.post("evaluation", "/ballots", {"council_id": w.council_id, "registration_id": w.registration_id,
                                                "award": award, "secret": secret}, **secretary(w.province)))


def close(d: Driver, w: World, ballot: dict, votes_for: int | None = None, votes_against: int | None = None,
          voters: list[str] | None = None) -> Reply:
    """The secretary closes: with the ballot box's counts (a secret ballot), or the open vote's tally."""
    body = {} if votes_for is None else {"votes_for": votes_for, "votes_against": votes_against, "voters": voters}
    return d.post("evaluation", f"/ballots/{ballot['id']}/result", body, **secretary(w.province))


def vote(d: Driver, w: World, ballot: dict, person_id: str, choice: str = "for") -> Reply:
    return d.post("evaluation", f"/ballots/{ballot['id']}/votes", {"choice": choice}, **member(w.province, person_id))


def nominate_cstdcs(d: Driver, w: World, minutes: dict | None = None) -> Reply:
    d.settle()
    return nominate(d, w.province, w.campaign_id, w.registration_id, CSTDCS, "2024-12-01",
                    submitted_to="department", minutes=minutes)


def reasons(ballot: dict) -> dict[str, str]:
    return {r["person_id"]: r["reason"] for r in ballot["recusals"]}


def council_vote(d: Driver, province: str = CA_MAU) -> dict:
    """A council at work: a declared interest, a secret ballot that passes over the seven entitled, an
    open vote whose early vote a later declaration strikes out, and the nomination the ballot carries."""
    w = world(d, province)
    declare(d, w, w.declarer)
    ballot = open_ballot(d, w)
    ok(close(d, w, ballot, 6, 1, voters=w.others))
    show = open_ballot(d, w, award="giay_khen", secret=False)
    ok(vote(d, w, show, w.others[0]))
    ok(d.post("evaluation", f"/councils/{w.council_id}/interests",
              {"participant_id": w.teacher, "reason": "Cùng nhóm nghiên cứu sáng kiến"},
              **member(province, w.others[0])))
    return {"world": w, "ballot": ballot, "nomination": ok(nominate_cstdcs(d, w))}
