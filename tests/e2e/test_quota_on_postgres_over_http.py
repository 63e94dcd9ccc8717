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
from tests.contract.test_award_quota_on_postgres import DECISIONS, QUOTA, approved_nominations
from tests.driver import OverHttp
from tests.e2e.test_sign_in_on_the_stack import sign_in

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
    cid, ids = approved_nominations(d, DECISIONS, P)
    d.at("2024-12-10")
    signed_in = sign_in(stack, "son.vt", "son.vt-86")
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
