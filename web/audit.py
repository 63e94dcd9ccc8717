"""A case's story for people: ``GET /cases/<correlation id>/audit`` (JSON) and the page
``/ho-so/<registration id>/dau-vet`` ("Dấu vết hồ sơ").

Each service's ``/cases/<id>/audit`` is read as the caller (their token), so each service
decides what this caller may see; the answers are gathered by :func:`shared.audit.gather_case`
without a key: the gateway does not hold ``CHAIN_KEY`` (whoever holds it can forge a chain),
so each service's verdict on its own chains is taken, and what needs no key — every cause in
the trail and before what it caused, every consumed event still where it was made, every
notice about an event of the trail — is checked here.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from shared import audit, cases
from shared.errors import NotFound, Unauthorized
from web import ui
from web.client import Reply, ServiceUnavailable
from web.reports import Unavailable, passed_through
from web.settings import SERVICES
from web.sources import Refused

blp = Blueprint("audit", __name__)


def gathered(correlation_id: str, authorization: str | None) -> audit.Case:
    """The case as the caller may see it; a service's refusal raises :class:`web.sources.Refused`."""
    client, path, answers = ui.client(), f"/cases/{correlation_id}/audit", []
    for service in SERVICES:
        reply: Reply = client.get(service, path, authorization)
        if reply.status != 200:
            raise Refused(service, path, reply.status, reply.body)
        answers.append(reply.body)
    return audit.gather_case(correlation_id, answers, chain_key=None)


def _nothing(correlation_id: str) -> NotFound:
    return NotFound(f"Không tìm thấy hồ sơ {correlation_id} trong (các) tỉnh bạn được xem (case not found)",
                    rule="case.audit.visible")


@blp.get("/cases/<correlation_id>/audit")
def case_json(correlation_id: str):
    authorization = request.headers.get("Authorization") or ui.bearer()
    if not authorization:
        raise Unauthorized("Cần đăng nhập để xem dấu vết hồ sơ (sign in to see a case's audit)")
    try:
        case = gathered(correlation_id, authorization)
    except Refused as refused:
        raise passed_through(refused, "dấu vết hồ sơ") from refused
    except ServiceUnavailable as exc:
        raise Unavailable(f"Dịch vụ {ui.SERVICE_NAMES.get(exc.service, exc.service)} không trả lời; hãy thử lại sau",
                          details={"service": exc.service, "retryable": True}) from exc
    if not case.events:
        raise _nothing(correlation_id)
    return jsonify(case.as_json())


@blp.get("/ho-so/<registration_id>/dau-vet")
@ui.signed_in()
def case_page(registration_id: str):
    correlation_id = cases.correlation(registration_id)
    try:
        case = gathered(correlation_id, ui.bearer())
    except Refused as refused:
        raise ui.Refused(ui.Refusal.of(refused.service, Reply(refused.status, refused.body))) from refused
    except ServiceUnavailable as exc:
        raise ui.Refused(ui.unavailable(exc)) from exc
    if not case.events:
        raise ui.Refused(ui.Refusal(404, _nothing(correlation_id).message, rule="case.audit.visible"))
    return ui.render("cases/audit.html", case=case, registration_id=registration_id, steps=steps(case))


def steps(case: audit.Case) -> list[dict]:
    """Each event of the case as the page tells it: what, who, when, caused by which step, whom it
    notified, and whether a problem names it."""
    by_id = {e["id"]: e for e in case.events}
    told: dict[str, list[dict]] = {}
    for notice in case.notified:
        told.setdefault(notice["event_id"], []).append(notice)
    return [{"event": e, "what": cases.STEPS.get(e["type"], e["type"]),
             "role": ui.ROLE_NAMES.get(e["role"], e["role"]),
             "service": ui.SERVICE_NAMES.get(e["source"], e["source"]),
             "cause": by_id.get(e["causationid"]),
             "cause_what": cases.STEPS.get(by_id[e["causationid"]]["type"]) if e["causationid"] in by_id else None,
             "notified": told.get(e["id"], []),
             "problems": [p for p in case.problems if e["id"] in p]} for e in case.events]
