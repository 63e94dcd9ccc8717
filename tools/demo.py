"""``make demo``: a fresh exemplar walked through the five steps on the running system.

Run it while ``make run`` is running. It speaks to the four services over HTTP as
their users would, one role per step, then prints the exemplar's verified audit
(the same check as ``thidua audit``) and exits 0 — or 1 if anything is wrong.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from shared import audit, auth
from shared.stack import DEFAULT_PORTS, SERVICES

PROVINCE = "86"  # Vĩnh Long, which Bến Tre became part of on 01/07/2025


def step_requests(exemplar_id: str, units: dict[str, str]) -> list[tuple[int, str, str, str, dict[str, Any]]]:
    """(step, service, path, role, body) of the five steps, as the Bến Tre plan describes them."""
    x = exemplar_id
    return [
        (1, "registration", f"/exemplars/{x}/selection", "department",
         {"commendation": "Biểu dương điển hình tiên tiến trong cao điểm thi đua"}),
        (2, "notifications", f"/exemplars/{x}/publicity", "department",
         {"message": "Tuyên truyền cách làm hay về chuyển đổi số của Trường THPT Chuyên Bến Tre"}),
        (3, "registration", f"/exemplars/{x}/learning", "unit_head",
         {"unit_id": units["learner"], "held_on": "2024-09-15", "participants": 42, "form": "Hội thảo chuyên đề"}),
        (4, "evaluation", f"/exemplars/{x}/review", "council",
         {"assessment": "Trường THCS Ba Tri đã học tập và làm theo, bắt kịp điển hình",
          "outcomes": [{"unit_id": units["learner"], "outcome": "caught_up"}],
          "council": {"members_total": 9, "votes_for": 8}}),
        (5, "awards", f"/exemplars/{x}/recognition", "authority",
         {"influence": "Mô hình được 12 trường trong tỉnh áp dụng", "spread_units": 12, "outcome": "nominated",
          "award": "bang_khen_chu_tich_tinh",
          "dossier": {"submission_letter": "Tờ trình 45/TTr-SGDĐT", "achievement_report": "Báo cáo thành tích"}}),
    ]


# The provincial chair, who decides the Bằng khen step 5 proposes.
DECIDER = {"authority": "province", "name": "Chủ tịch UBND tỉnh"}


def setup_requests(campaign_id: str | None, units: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    if campaign_id is None:
        return [("registration", "/campaigns", "department", {
            "title": "Cao điểm thi đua «Đồng Khởi mới» 2024–2025", "kind": "peak",
            "period_start": "2024-01-01", "period_end": "2025-10-31",
            "registration_deadline": "2024-05-01",
            "exemplar_targets": [{"phase": "2024–2025", "kind": "collective", "min": 2},
                                 {"phase": "2024–2025", "kind": "individual", "min": 2}]})]
    return [
        ("registration", "/units", "department", {"id": units["root"], "name": "Sở GD&ĐT", "kind": "department"}),
        ("registration", "/units", "department", {"id": units["school"], "name": "Trường THPT Chuyên Bến Tre",
                                                  "kind": "school", "parent_id": units["root"]}),
        ("registration", "/units", "department", {"id": units["learner"], "name": "Trường THCS Ba Tri",
                                                  "kind": "school", "parent_id": units["root"]}),
        ("registration", "/exemplars", "unit_head", {
            "campaign_id": campaign_id, "phase": "2024–2025", "kind": "collective", "participant_id": units["school"],
            "unit_id": units["school"], "achievements": "Dẫn đầu phong trào chuyển đổi số trong dạy học",
            "collective": {"school": "Trường THPT Chuyên Bến Tre", "address": "Phường 6, TP Bến Tre",
                           "phone": "0275 3822 123"}}),
    ]


def claims(role: str, body: dict[str, Any], units: dict[str, str]) -> dict[str, str]:
    """Who the demo's user of ``role`` is (their token's claims): the department's officer is of
    the Sở; a unit head heads the unit the request is about (the exemplar school by default)."""
    if role == "department":
        return {"unit": units["root"], "unit_level": "department", "name": "Sở GD&ĐT Bến Tre"}
    if role == "unit_head":
        return {"unit": body.get("unit_id") or units["school"], "unit_level": "school"}
    if role == "authority":  # step 5: the department's director, whose own authority the proposal starts at
        return {"authority": "department", "name": "Giám đốc Sở GD&ĐT"}
    return {}


def new_units() -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    return {"root": f"so-{tag}", "school": f"thpt-chuyen-{tag}", "learner": f"thcs-ba-tri-{tag}"}


class Client:
    def __init__(self, urls: dict[str, str], secret: str, province: str = PROVINCE):
        self.urls, self.secret, self.province = urls, secret, province
        self.session = requests.Session()

    def call(self, method: str, service: str, path: str, role: str, body=None, retry_s: float = 30.0,
             claims: dict[str, str] | None = None):
        """One request; a step whose previous step is still in flight (409 retryable) is retried.
        ``claims``: who the caller is, in the token."""
        token = auth.mint(self.secret, f"demo-{role}", role, [self.province], **(claims or {}))
        deadline = time.monotonic() + retry_s
        while True:
            r = self.session.request(method, self.urls[service] + path, json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
            if r.status_code == 409 and r.json().get("retryable") and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            if r.status_code >= 400:
                raise RuntimeError(f"{method} {service}{path} -> {r.status_code}: {r.text}")
            return r.json()


def run(client: Client, say: Callable[[str], None] = print, key: bytes = b"") -> audit.Story:
    units = new_units()
    [(service, path, role, body)] = setup_requests(None, units)
    campaign = client.call("POST", service, path, role, body, claims=claims(role, body, units))
    say(f"Phát động: «{campaign['title']}»")
    for service, path, role, body in setup_requests(campaign["id"], units):
        made = client.call("POST", service, path, role, body, claims=claims(role, body, units))
    exemplar_id = made["id"]
    say(f"Đăng ký điển hình: {made['name']} ({exemplar_id})")
    for step, service, path, role, body in step_requests(exemplar_id, units):
        client.call("POST", service, path, role, body, claims=claims(role, body, units))
        say(f"Bước {step} xong ({service}, vai trò {role})")
    nomination = next(e["data"]["nomination_id"] for e in _story(client, exemplar_id, key).events
                      if e["type"] == "awards.exemplar.recognised")
    client.call("POST", "awards", f"/nominations/{nomination}/appraisal", "council",
                {"outcome": "approved", "reason": "Hồ sơ đầy đủ, điển hình có sức lan tỏa"})
    client.call("POST", "awards", f"/nominations/{nomination}/decision", "authority",
                {"decision_number": "321/QĐ-UBND"}, claims=DECIDER)
    say("Thẩm định đạt; Chủ tịch UBND tỉnh quyết định tặng Bằng khen (321/QĐ-UBND)")
    deadline = time.monotonic() + 30
    while True:  # the decision's event reaches notifications asynchronously; wait until it is there
        story = _story(client, exemplar_id, key)
        if any(e["type"] == "awards.award.decided" for e in story.events) or time.monotonic() > deadline:
            return story


def _story(client: Client, exemplar_id: str, key: bytes) -> audit.Story:
    token = auth.mint(client.secret, "demo-audit", "operator", [client.province])
    answers = [client.session.get(f"{client.urls[s]}/exemplars/{exemplar_id}/audit", timeout=30,
                                  headers={"Authorization": f"Bearer {token}"}).json() for s in SERVICES]
    return audit.gather(exemplar_id, answers, key)


def main() -> None:
    data = Path(os.environ.get("DATA_DIR", "data"))
    if not (data / "jwt_secret").exists():
        sys.exit("Chưa thấy hệ thống đang chạy: hãy chạy `make run` ở một cửa sổ khác trước.")
    urls = {s: f"http://127.0.0.1:{p}" for s, p in DEFAULT_PORTS.items()}
    client = Client(urls, (data / "jwt_secret").read_text().strip())
    key = (data / "chain_key").read_text().strip().encode() if (data / "chain_key").exists() else b""
    try:
        story = run(client, key=key)
    except (requests.RequestException, RuntimeError) as exc:
        sys.exit(f"Demo dừng: {exc}")
    print()
    print(audit.narrate(story))
    print(f"\nKiểm tra lại bất cứ lúc nào: .venv/bin/thidua audit {story.exemplar_id} --province {PROVINCE}")
    sys.exit(0 if story.verified else 1)


if __name__ == "__main__":
    main()
