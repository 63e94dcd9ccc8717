"""The campaign quota holds under concurrent decisions on PostgreSQL: the decision's transaction locks
the campaign's row (SELECT ... FOR UPDATE) before it counts, so forty decisions fired at once against
a quota of fifteen end with exactly fifteen awards (issue 11)."""
from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import config
from tests import scenarios as s
from tests.driver import InProcess
from tests.unit.conftest import SECRET, build_system, close_system

pytestmark = pytest.mark.postgres

QUOTA, DECISIONS, P = 15, 40, "33"
CRITERIA = [{"code": "sang_kien", "label": "Có sáng kiến", "kind": "quantitative", "metric": "initiatives",
             "comparison": ">=", "threshold": 1}]


@pytest.fixture
def system(tmp_path, fresh_pg_database):
    """The four services in process; awards on a fresh PostgreSQL database, the others on SQLite."""
    awards_url = fresh_pg_database("awards_quota")

    def settings_for(name):
        env = {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)}
        return config.load(name, {**env, "DATABASE_URL": awards_url} if name == "awards" else env)

    system = build_system(settings_for=settings_for)
    assert system.apps["awards"].extensions["runtime"].db.is_sqlite is False
    yield system
    close_system(system)


def approved_nominations(d, n: int, province: str = P, quota: int = QUOTA) -> tuple[str, list[str]]:
    """A campaign with a quota of ``quota`` Giấy khen (registration closing on 30/04/2024) and ``n``
    nominations appraised and waiting."""
    cid = s.launch(d, province, title=f"Phong trào có chỉ tiêu {quota} Giấy khen", issuer="Sở GD&ĐT",
                   award_plan=[{"award": "giay_khen", "max": quota}])["id"]
    s.criteria_set(d, province, "gv-quota", "Giáo viên", ["teacher"], CRITERIA, "Kế hoạch thi đua")
    rids = [s.ok(s.register(d, province, cid, s.individual("teacher", f"Giáo viên số {i}"), on="2024-03-01"))["id"]
            for i in range(n)]
    d.settle()
    for rid in rids:
        s.ok(s.evaluate(d, province, rid, "gv-quota", {"sang_kien": 1}, on="2024-11-20"))
    d.settle()
    ids = [s.ok(s.nominate(d, province, cid, rid, "giay_khen", on="2024-12-01", submitted_to="department"))["id"]
           for rid in rids]
    for nomination_id in ids:
        s.ok(s.appraise(d, province, nomination_id))
    return cid, ids


def test_forty_concurrent_decisions_against_a_quota_of_fifteen_end_with_exactly_fifteen(system):
    d = InProcess(system, SECRET)
    cid, ids = approved_nominations(d, DECISIONS)
    d.at("2024-12-10")
    headers = d.token("authority", P, authority="department", name="Giám đốc Sở GD&ĐT")
    start = threading.Barrier(DECISIONS)

    def decide(i_and_id):
        i, nomination_id = i_and_id
        client = system.client("awards")
        start.wait()
        r = client.post(f"/nominations/{nomination_id}/decision", json={"decision_number": f"{i}/QĐ-SGDĐT"},
                        headers=headers)
        return r.status_code, r.get_json()

    # threads switch often, as under gunicorn's threads: without the lock two decisions then count together
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    try:
        with ThreadPoolExecutor(DECISIONS) as pool:
            replies = list(pool.map(decide, enumerate(ids)))
    finally:
        sys.setswitchinterval(switch)

    decided = [body for status, body in replies if status == 201]
    refused = [body for status, body in replies if status != 201]
    assert len(decided) == QUOTA, [b.get("rule") for b in refused]
    assert len(refused) == DECISIONS - QUOTA
    assert {(b["code"], b["rule"]) for b in refused} == {(409, "decision.quota")}
    quotas = s.ok(d.get("awards", f"/campaigns/{cid}/quotas", province=P), 200)
    assert [(q["award"], q["max"], q["used"]) for q in quotas] == [("giay_khen", QUOTA, QUOTA)]
    statuses = [n["status"] for n in s.ok(d.get("awards", f"/campaigns/{cid}/nominations", province=P), 200)]
    assert sorted(statuses) == ["approved"] * (DECISIONS - QUOTA) + ["decided"] * QUOTA
