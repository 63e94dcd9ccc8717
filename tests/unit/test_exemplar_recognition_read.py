"""Step 5 read back: ``GET /exemplars/<id>/recognition`` of awards answers how an exemplar was
recognised (commended at once, or proposed upward) and where that nomination is, by province like
awards' other reads, and 404 until step 5 is recorded — so a page offers step 5 only while it is to do.
"""
from __future__ import annotations

import pytest

from tests import scenarios as s
from tests.driver import InProcess
from tests.scenarios import launch, ok
from tests.unit.conftest import SECRET, module_system
from tests.unit.test_award_rules import refused
from tests.unit.test_award_trust import commend, exemplar_reviewed
from tools import demo

P = "86"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "recognition-read")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


def recognition(d, exemplar_id, province=P):
    return d.get("awards", f"/exemplars/{exemplar_id}/recognition", role="unit_head", province=province)


def test_a_commended_exemplar_reads_back_its_decision_and_is_not_found_before_or_elsewhere(d):
    d.at("2024-04-20")
    cid = launch(d, P, title="Nhân rộng điển hình", issuer="Sở GD&ĐT", period_end="2025-10-31",
                 registration_deadline="2024-05-01")["id"]
    exemplar_id, _ = exemplar_reviewed(d, cid)
    before = refused(recognition(d, exemplar_id), None, "chưa được khen thưởng", status=404)
    assert before["code"] == 404
    made = ok(commend(d, exemplar_id))
    got = ok(recognition(d, exemplar_id), 200)
    assert got["exemplar_id"] == exemplar_id and got["outcome"] == "commended"
    assert got["nomination_id"] == made["nomination_id"]
    assert (got["award"], got["status"], got["decision_date"]) == ("giay_khen", "decided", "2024-10-01")
    assert got["decision_number"].startswith("QĐ") and got["award_name"]
    refused(recognition(d, exemplar_id, province="83"), None, status=404)  # another province: as if none


def test_an_exemplar_proposed_upward_reads_back_its_nomination_awaiting_appraisal(d):
    setup = s.exemplar_setup(d, P)
    exemplar_id = s.reviewed_exemplar(d, P, setup)
    _, service, path, role, body = demo.step_requests(exemplar_id, setup)[4]
    made = ok(d.post(service, path, body, role=role, province=P, **demo.claims(role, body, setup)))
    got = ok(recognition(d, exemplar_id), 200)
    assert (got["outcome"], got["nomination_id"], got["status"]) == ("nominated", made["nomination_id"], "submitted")
    assert got["decision_number"] is None and got["decision_date"] is None
