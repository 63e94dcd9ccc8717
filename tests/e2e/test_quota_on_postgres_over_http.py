"""The campaign quota over HTTP on the real stack, awards on PostgreSQL: forty decisions fired at once
by the signed-in director of the Sở (son.vt, department authority) against a quota of fifteen end
with exactly fifteen awards (issue 11). Gunicorn's workers and threads decide in parallel; the
decision's transaction locks the campaign's row before it counts."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from identity import demo
from shared.stack import Stack
from tests import scenarios as s
from tests.contract.test_award_quota_on_postgres import CRITERIA, DECISIONS, QUOTA
from tests.driver import OverHttp

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]
P = demo.PROVINCE


@pytest.fixture(scope="module")
def stack(tmp_path_factory, pg_databases):
    st = Stack.on_free_ports(tmp_path_factory.mktemp("quota"), test_clock=True,
                             database_urls={"awards": pg_databases.create("awards_http")})
    st.start()
    st.seed_demo()
    yield st
    st.stop()


def test_forty_decisions_at_once_over_http_end_with_exactly_fifteen(stack):
    d = OverHttp(stack)
    cid = s.launch(d, P, title="Phong trào có chỉ tiêu 15 Giấy khen", issuer="Sở GD&ĐT",
                   award_plan=[{"award": "giay_khen", "max": QUOTA}])["id"]
    s.criteria_set(d, P, "gv-quota", "Giáo viên", ["teacher"], CRITERIA, "Kế hoạch thi đua")
    rids = [s.ok(s.register(d, P, cid, s.individual("teacher", f"Giáo viên số {i}"), on="2024-03-01"))["id"]
            for i in range(DECISIONS)]
    d.settle()
    for rid in rids:
        s.ok(s.evaluate(d, P, rid, "gv-quota", {"sang_kien": 1}, on="2024-11-20"))
    d.settle()
    ids = [s.ok(s.nominate(d, P, cid, rid, "giay_khen", on="2024-12-01", submitted_to="department"))["id"]
           for rid in rids]
    for nomination_id in ids:
        s.ok(s.appraise(d, P, nomination_id))
    d.at("2024-12-10")
    signed_in = requests.post(f"{stack.identity_url}/oauth/token", timeout=10, data={
        "grant_type": "password", "client_id": demo.SIGN_IN_CLIENT, "username": "son.vt", "password": "son.vt-86"})
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    def decide(i_and_id):
        i, nomination_id = i_and_id
        r = requests.post(f"{stack.url('awards')}/nominations/{nomination_id}/decision", headers=headers,
                          json={"decision_number": f"{i}/QĐ-SGDĐT"}, timeout=60)
        return r.status_code, r.json()

    with ThreadPoolExecutor(DECISIONS) as pool:
        replies = list(pool.map(decide, enumerate(ids)))
    decided = [b for code, b in replies if code == 201]
    refused = [b for code, b in replies if code != 201]
    assert len(decided) == QUOTA, [b.get("rule") for b in refused]
    assert {(b["code"], b["rule"]) for b in refused} == {(409, "decision.quota")}
    quotas = s.ok(d.get("awards", f"/campaigns/{cid}/quotas", province=P), 200)
    assert [(q["max"], q["used"]) for q in quotas] == [(QUOTA, QUOTA)]
