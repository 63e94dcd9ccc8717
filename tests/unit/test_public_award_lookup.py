"""Tra cứu khen thưởng công khai: the awards' look-up by name, without a token — marks and case
aside, every word typed, only valid awards, a province's own (and its predecessors')."""
from __future__ import annotations

import pytest

from tests.unit.conftest import module_system, token
from tests.web.seed import P, SCHOOL, TEACHER, seed


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "public-lookup")


@pytest.fixture(scope="module")
def seeded(system):
    return seed(system)


def lookup(system, query: str, province: str = P):
    r = system.client("awards").get(f"/public/{province}/awards?{query}")
    return r.status_code, r.get_json()


@pytest.mark.parametrize("typed", ["tran thi bich", "TRẦN THỊ BÍCH", "bích  trần", "Thi Bich"])
def test_a_name_is_found_whatever_its_marks_case_and_word_order(system, seeded, typed):
    status, found = lookup(system, f"name={typed}")
    assert status == 200 and [(a["name"], a["unit"], a["decision_number"]) for a in found] == \
        [(TEACHER, SCHOOL, "100/QĐ-UBND")]


def test_a_unit_is_found_by_name_and_kind_and_an_individual_is_not(system, seeded):
    status, found = lookup(system, "name=nguyen dinh chieu&kind=collective")
    assert status == 200 and [a["name"] for a in found] == [SCHOOL]
    assert all(a["participant_kind"] == "collective" for a in found)


def test_one_participants_awards_by_id_and_nothing_personal_beyond_the_decision(system, seeded):
    _, by_name = lookup(system, "name=tran thi bich")
    status, found = lookup(system, f"participant_id={by_name[0]['participant_id']}")
    assert status == 200 and found == by_name
    assert set(found[0]) == {"participant_id", "participant_kind", "name", "unit", "award", "award_name", "year",
                             "campaign_id", "decision_number", "decision_date", "issuer", "level"}


def test_a_revoked_award_is_not_public_and_another_province_sees_nothing(system, seeded):
    _, found = lookup(system, "name=nguyen van duc")
    assert len(found) == 1
    r = system.client("awards").post(f"/awards/{_award_id(system, found[0])}/revocation",
                                     json={"decision_number": "5/QĐ-SGDĐT", "reason": "Khen thưởng nhầm đối tượng"},
                                     headers=token("authority", (P,), authority="department"))
    assert r.status_code == 201, r.get_json()
    system.drain()
    assert lookup(system, "name=nguyen van duc") == (200, [])
    assert lookup(system, "name=tran thi bich", province="83") == (200, [])


def test_a_look_up_with_no_name_or_too_short_a_name_is_refused_naming_the_field(system):
    for query in ("", "name=a"):
        status, body = lookup(system, query)
        assert status == 422 and "name" in body["errors"]["query"]


def _award_id(system, award: dict) -> str:
    r = system.client("awards").get(f"/history/{award['participant_id']}", headers=token("department", (P,)))
    return next(h["id"] for h in r.get_json() if h["decision_number"] == award["decision_number"])
