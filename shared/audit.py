"""The audit trail of an exemplar: each service's own part, and the story gathered from all four.

``GET /exemplars/<id>/audit`` (every service, the same code) answers the service's own
events about that exemplar (those whose correlation id is ``exemplar-<id>``), the
full hash chains of the streams they belong to, and the step events it consumed
from other services. :func:`gather` merges the four answers, verifies every chain,
checks that each step was caused by the one before it and that no step is missing,
out of order, or known elsewhere but absent at its source.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from shared import auth
from shared.blueprint import Blueprint
from shared.eventstore import EXEMPLAR_CORRELATION, events, verify_rows
from shared.progression import BY_TYPE, REGISTERED, STEPS, correlation, exemplar_steps


def blueprint(service: str) -> Blueprint:
    blp = Blueprint(f"{service}-audit", __name__, description="Dấu vết kiểm toán (audit trail)")

    @blp.route("/exemplars/<exemplar_id>/audit")
    class Audit(MethodView):
        def get(self, exemplar_id):
            """Các sự kiện của dịch vụ này về một điển hình, với chuỗi băm của từng luồng sự kiện."""
            from shared.service import runtime
            provinces = auth.provinces_visible()
            with runtime().db.read() as conn:
                own = conn.execute(select(events).where(events.c.correlation_id == correlation(exemplar_id),
                                                        EXEMPLAR_CORRELATION, events.c.province.in_(provinces))
                                   .order_by(events.c.position)).mappings().all()
                streams = {}
                for stream_id in dict.fromkeys(r["stream_id"] for r in own):
                    rows = conn.execute(select(events).where(events.c.stream_id == stream_id)
                                        .order_by(events.c.position)).mappings().all()
                    streams[stream_id] = [{k: r[k] for k in ("event_id", "version", "position", "body",
                                                             "prev_hash", "hash")} for r in rows]
                seen = conn.execute(select(exemplar_steps).where(exemplar_steps.c.exemplar_id == exemplar_id,
                                                                 exemplar_steps.c.province.in_(provinces))
                                    ).mappings().all()
            return {"service": service, "exemplar_id": exemplar_id,
                    "events": [_describe(json.loads(r["body"]), r) for r in own],
                    "streams": streams,
                    "seen": [{"event_id": s["event_id"], "type": s["event_type"], "step": s["step"]} for s in seen]}

    return blp


def _describe(body: dict[str, Any], row) -> dict[str, Any]:
    return {"id": body["id"], "type": body["type"], "time": body["time"], "actor": body["actor"]["id"],
            "role": body["actor"]["role"], "province": body["province"], "correlationid": body["correlationid"],
            "causationid": body["causationid"], "stream": body["subject"], "version": row["version"],
            "source": body["source"], "data": body["data"]}


@dataclass
class Story:
    exemplar_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"exemplar_id": self.exemplar_id, "verified": self.verified, "problems": self.problems,
                "steps_done": sorted({BY_TYPE[e["type"]].number for e in self.events if e["type"] in BY_TYPE}),
                "events": self.events}


def gather(exemplar_id: str, answers: list[dict[str, Any]], chain_key: bytes = b"") -> Story:
    """One ordered, verified story from the four services' audit answers."""
    story = Story(exemplar_id)
    for answer in answers:
        for stream_id, rows in answer["streams"].items():
            for problem in verify_rows(stream_id, rows, chain_key):
                story.problems.append(f"[{answer['service']}] {problem}")
        story.events.extend(answer["events"])
    story.events.sort(key=lambda e: (e["time"], e["version"]))
    by_id = {e["id"]: e for e in story.events}
    for answer in answers:  # an event another service applied must still exist where it was made
        for seen in answer["seen"]:
            if seen["event_id"] not in by_id:
                story.problems.append(
                    f"[{answer['service']}] đã nhận bước {seen['step']} ({seen['type']}, sự kiện {seen['event_id']}) "
                    "nhưng dịch vụ tạo ra nó không còn giữ sự kiện này — đã bị xóa (removed)")
    _check_causes(story, by_id)
    return story


def _check_causes(story: Story, by_id: dict[str, dict[str, Any]]) -> None:
    registered = [e for e in story.events if e["type"] == REGISTERED]
    if not registered:
        story.problems.append("không tìm thấy việc đăng ký điển hình (registration.exemplar.registered) "
                              "trong tỉnh này")
    reached = 0
    for event in story.events:
        step = BY_TYPE.get(event["type"])
        if step is None:
            continue
        if step.number > reached + 1:
            story.problems.append(f"sự kiện {event['id']} ({event['type']}) là bước {step.number} nhưng thiếu "
                                  f"bước {reached + 1} «{STEPS[reached].name}» trước nó (step missing)")
        cause = by_id.get(event["causationid"])
        expected = {REGISTERED} if step.number == 1 else {STEPS[step.number - 2].event_type}
        if cause is None:
            story.problems.append(f"sự kiện {event['id']} ({event['type']}) nêu nguyên nhân "
                                  f"{event['causationid']} không có trong dấu vết (cause not in the trail)")
        elif cause["type"] not in expected:
            story.problems.append(f"sự kiện {event['id']} ({event['type']}) do {cause['type']} gây ra, "
                                  f"không phải do {' hoặc '.join(sorted(expected))} (wrong cause)")
        elif cause["time"] > event["time"]:
            story.problems.append(f"sự kiện {event['id']} ({event['type']}) xảy ra trước nguyên nhân của nó "
                                  f"{cause['id']} (out of order)")
        reached = max(reached, step.number)


def narrate(story: Story) -> str:
    """The story in Vietnamese, one line per event."""
    lines = [f"Điển hình {story.exemplar_id}: "
             + ("dấu vết đầy đủ, đã kiểm tra chuỗi băm và quan hệ nhân quả." if story.verified
                else "PHÁT HIỆN SAI LỆCH.")]
    for e in story.events:
        step = BY_TYPE.get(e["type"])
        what = f"Bước {step.number} – {step.name}" if step else _OTHER.get(e["type"], e["type"])
        lines.append(f"  {e['time']}  [{e['source']}]  {what}  — bởi {e['actor']} ({e['role']}), tỉnh {e['province']}"
                     f"; sự kiện {e['id']}, do {e['causationid']}")
    for p in story.problems:
        lines.append(f"  ✗ {p}")
    return "\n".join(lines)


_OTHER = {REGISTERED: "Đăng ký điển hình", "awards.nomination.submitted": "Đề nghị khen thưởng cấp trên",
          "awards.nomination.escalated": "Trình cấp trên", "awards.nomination.appraised": "Thẩm định",
          "awards.award.decided": "Quyết định khen thưởng"}
