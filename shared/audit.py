"""The audit trail of a story: each service's own part, and the story gathered from all four.

A story is an exemplar's (correlation id ``exemplar-<id>``) or a case's (a registration's,
``registration-<id>``, see :mod:`shared.cases`). Every service answers, with the same code,
its own events of the story (found by correlation id), the full hash chains of the streams
they belong to, and what it consumed of the story from the others:

* ``GET /exemplars/<id>/audit``: the step events it consumed (``exemplar_steps``);
* ``GET /cases/<correlation id>/audit``: every event of the story it consumed
  (``processed_events``), and, where the service tells people, whom each one notified.

:func:`gather` (an exemplar) and :func:`gather_case` merge the four answers, verify every
chain, and check that each event's cause is in the trail and came before it, and that
nothing consumed somewhere is missing where it was made; :func:`gather` also checks the
five steps' order. Each answer also carries the service's own verdict on its chains, checked
with its own ``CHAIN_KEY`` (``chains``): a gatherer that must not hold the key (the web
gateway) passes ``chain_key=None`` and takes that verdict, checking the rest itself.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask.views import MethodView
from sqlalchemy import Connection, select

from shared import auth, cases
from shared.blueprint import Blueprint
from shared.eventstore import events, processed_events, verify_rows
from shared.progression import BY_TYPE, REGISTERED, STEPS, correlation, exemplar_steps


def blueprint(service: str, notified: Callable[[Connection, list[str], list[str]], list[dict]] | None = None
              ) -> Blueprint:
    """The audit routes of ``service``; ``notified(conn, event ids, provinces)``, when the service
    tells people of events, says whom (each item: event_id, recipient, title, at)."""
    blp = Blueprint(f"{service}-audit", __name__, description="Dấu vết kiểm toán (audit trail)")

    @blp.route("/exemplars/<exemplar_id>/audit")
    class Audit(MethodView):
        def get(self, exemplar_id):
            """Các sự kiện của dịch vụ này về một điển hình, với chuỗi băm của từng luồng sự kiện."""
            from shared.service import runtime
            provinces = auth.provinces_visible()
            rt = runtime()
            with rt.db.read() as conn:
                answer = own_part(conn, service, correlation(exemplar_id), provinces, rt.settings.chain_key)
                seen = conn.execute(select(exemplar_steps).where(exemplar_steps.c.exemplar_id == exemplar_id,
                                                                 exemplar_steps.c.province.in_(provinces))
                                    ).mappings().all()
            return {**answer, "exemplar_id": exemplar_id,
                    "seen": [{"event_id": s["event_id"], "type": s["event_type"], "step": s["step"]} for s in seen]}

    @blp.route("/cases/<correlation_id>/audit")
    class CaseAudit(MethodView):
        def get(self, correlation_id):
            """Các sự kiện của dịch vụ này trong một hồ sơ (một đăng ký thi đua, theo mã tương quan), với chuỗi
            băm của từng luồng, những sự kiện của hồ sơ mà dịch vụ đã nhận, và những ai đã được thông báo."""
            from shared.service import runtime
            provinces = auth.provinces_visible()
            rt = runtime()
            with rt.db.read() as conn:
                answer = own_part(conn, service, correlation_id, provinces, rt.settings.chain_key)
                seen = conn.execute(select(processed_events).where(
                    processed_events.c.correlation_id == correlation_id,
                    processed_events.c.province.in_(provinces)).order_by(processed_events.c.occurred_at)
                ).mappings().all()
                told = [e["id"] for e in answer["events"]] + [s["event_id"] for s in seen]
                notices = notified(conn, told, provinces) if notified is not None and told else []
            return {**answer, "correlation_id": correlation_id,
                    "seen": [{"event_id": s["event_id"], "type": s["event_type"], "outcome": s["outcome"],
                              "consumer": s["consumer"], "processed_at": s["processed_at"].isoformat()}
                             for s in seen],
                    "notified": notices}

    return blp


def own_part(conn: Connection, service: str, correlation_id: str, provinces: list[str],
             chain_key: bytes = b"") -> dict[str, Any]:
    """The service's own events of a story (in the provinces visible) and the full chain of each
    stream they are in, so that the chains can be verified wherever the answers are gathered, by
    whoever holds ``CHAIN_KEY``; and the service's own verdict on those chains (``chains``), checked
    with its key, for a gatherer that must not hold it (the web gateway: the key forges chains)."""
    own = conn.execute(select(events).where(events.c.correlation_id == correlation_id,
                                            events.c.province.in_(provinces))
                       .order_by(events.c.position)).mappings().all()
    streams = {}
    for stream_id in dict.fromkeys(r["stream_id"] for r in own):
        rows = conn.execute(select(events).where(events.c.stream_id == stream_id)
                            .order_by(events.c.position)).mappings().all()
        streams[stream_id] = [{k: r[k] for k in ("event_id", "version", "position", "body", "prev_hash", "hash")}
                              for r in rows]
    problems = [p for stream_id, rows in streams.items() for p in verify_rows(stream_id, rows, chain_key)]
    return {"service": service, "events": [_describe(json.loads(r["body"]), r) for r in own], "streams": streams,
            "chains": {"verified": not problems, "problems": problems}}


def _describe(body: dict[str, Any], row) -> dict[str, Any]:
    return {"id": body["id"], "type": body["type"], "time": body["time"], "actor": body["actor"]["id"],
            "role": body["actor"]["role"], "province": body["province"], "correlationid": body["correlationid"],
            "causationid": body["causationid"], "stream": body["subject"], "version": row["version"],
            "source": body["source"], "data": body["data"]}


class _Checked:
    problems: list[str]

    @property
    def verified(self) -> bool:
        return not self.problems


@dataclass
class Story(_Checked):
    exemplar_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"exemplar_id": self.exemplar_id, "verified": self.verified, "problems": self.problems,
                "steps_done": sorted({BY_TYPE[e["type"]].number for e in self.events if e["type"] in BY_TYPE}),
                "events": self.events}


def gather(exemplar_id: str, answers: list[dict[str, Any]], chain_key: bytes | None = b"") -> Story:
    """One ordered, verified story from the four services' audit answers; ``chain_key=None``: each
    service's own verdict on its chains is taken (see :func:`_merge`)."""
    story = Story(exemplar_id)
    by_id = _merge(story, answers, chain_key, lambda seen: f"bước {seen['step']} ")
    _check_causes(story, by_id)
    return story


def _merge(story, answers: list[dict[str, Any]], chain_key: bytes | None, what: Callable[[dict], str]) -> dict:
    """The answers' events into ``story``, ordered, with every chain verified and every consumed
    event looked for where it was made; returns the events by id.

    The chains are verified here with ``chain_key``; with None (a gatherer that holds no key)
    each service's verdict on its own chains is taken, and an answer without one is a problem.
    What needs no key (causes, order, consumed events, notices) is checked here either way."""
    for answer in answers:
        if chain_key is None:
            verdict = answer.get("chains")
            found = list(verdict.get("problems") or []) if isinstance(verdict, dict) else []
            if not found and not (isinstance(verdict, dict) and verdict.get("verified") is True):
                found = ["dịch vụ không cho biết chuỗi băm của mình nguyên vẹn (no chain verdict)"]
        else:
            found = [p for stream_id, rows in answer["streams"].items() for p in verify_rows(stream_id, rows, chain_key)]
        story.problems.extend(f"[{answer['service']}] {problem}" for problem in found)
        story.events.extend(answer["events"])
    story.events.sort(key=lambda e: (e["time"], e["version"]))
    by_id = {e["id"]: e for e in story.events}
    for answer in answers:  # an event another service applied must still exist where it was made
        for seen in answer["seen"]:
            if seen["event_id"] not in by_id:
                story.problems.append(
                    f"[{answer['service']}] đã nhận {what(seen)}({seen['type']}, sự kiện {seen['event_id']}) "
                    "nhưng dịch vụ tạo ra nó không còn giữ sự kiện này — đã bị xóa (removed)")
    return by_id


@dataclass
class Case(_Checked):
    """A case's story: its events in every service, whom they notified, and what is wrong."""
    correlation_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    notified: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"correlation_id": self.correlation_id, "verified": self.verified, "problems": self.problems,
                "events": self.events, "notified": self.notified}


def gather_case(correlation_id: str, answers: list[dict[str, Any]], chain_key: bytes | None = b"") -> Case:
    """One ordered, verified case from the four services' answers to ``/cases/<id>/audit``;
    ``chain_key=None``: each service's own verdict on its chains is taken (see :func:`_merge`)."""
    case = Case(correlation_id)
    by_id = _merge(case, answers, chain_key, lambda seen: "")
    for answer in answers:
        case.notified.extend({**n, "service": answer["service"]} for n in answer.get("notified", ()))
    case.notified.sort(key=lambda n: n["at"])
    if not any(e["type"] == cases.BEGINS for e in case.events):
        case.problems.append(f"không tìm thấy việc đăng ký thi đua ({cases.BEGINS}) của hồ sơ {correlation_id} "
                             "trong tỉnh này (registration not found)")
    for i, event in enumerate(case.events):
        cause = by_id.get(event["causationid"])
        if cause is None:
            if i > 0:  # only what begins the case is caused by a command, outside the trail
                case.problems.append(f"sự kiện {event['id']} ({event['type']}) nêu nguyên nhân "
                                     f"{event['causationid']} không có trong dấu vết (cause not in the trail)")
        elif cause["time"] > event["time"]:
            case.problems.append(f"sự kiện {event['id']} ({event['type']}) xảy ra trước nguyên nhân của nó "
                                 f"{cause['id']} (out of order)")
    for notice in case.notified:
        if notice["event_id"] not in by_id:
            case.problems.append(f"[{notice['service']}] đã thông báo cho {notice['recipient']} về sự kiện "
                                 f"{notice['event_id']} không có trong dấu vết (notice of an event not in the trail)")
    return case


def narrate_case(case: Case) -> str:
    """The case in Vietnamese, one line per event and per notice."""
    lines = [f"Hồ sơ {case.correlation_id}: " + ("dấu vết đầy đủ, đã kiểm tra chuỗi băm và quan hệ nhân quả."
                                                if case.verified else "PHÁT HIỆN SAI LỆCH.")]
    for e in case.events:
        lines.append(f"  {e['time']}  [{e['source']}]  {cases.STEPS.get(e['type'], e['type'])}  — bởi {e['actor']} "
                     f"({e['role']}), tỉnh {e['province']}; sự kiện {e['id']}, do {e['causationid']}")
    for n in case.notified:
        lines.append(f"  {n['at']}  [{n['service']}]  Thông báo (notified) {n['recipient']}: «{n['title']}»"
                     f" — về sự kiện {n['event_id']}")
    lines += [f"  ✗ {p}" for p in case.problems]
    return "\n".join(lines)


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
