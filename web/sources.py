"""What a campaign's reports are made of, read from the services as the caller.

Every read goes through the :class:`~web.client.ServiceClient` port with the caller's
token; a service that refuses (401, 403, 404) stops the report with :class:`Refused`,
carrying its answer, so the caller sees exactly what the service said.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web.client import ServiceClient


class Refused(Exception):
    """A service answered something other than 200 to a read the report needs."""

    def __init__(self, service: str, path: str, status: int, body: Any):
        message = body.get("message") if isinstance(body, dict) else None
        super().__init__(f"{service} GET {path}: {status} {message or ''}")
        self.service, self.path, self.status, self.body, self.message = service, path, status, body, message


@dataclass(frozen=True)
class CampaignData:
    campaign: dict[str, Any]
    registrations: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    nominations: list[dict[str, Any]]
    quotas: list[dict[str, Any]]
    exemplar_progress: list[dict[str, Any]]
    award_rules: dict[str, dict[str, Any]]   # award code -> its rule (the province's first, then national)
    authorities: dict[str, dict[str, Any]]   # level -> who decides there
    evaluations: dict[str, list[dict[str, Any]]]  # registration id -> its rounds, oldest first

    def award_name(self, code: str) -> str:
        return (self.award_rules.get(code) or {}).get("name") or code


class Reader:
    def __init__(self, client: ServiceClient, authorization: str | None):
        self.client, self.authorization = client, authorization

    def get(self, service: str, path: str, missing_ok: bool = False) -> Any:
        reply = self.client.get(service, path, self.authorization)
        if reply.status == 200:
            return reply.body
        if missing_ok and reply.status == 404:
            return None
        raise Refused(service, path, reply.status, reply.body)


def gather(client: ServiceClient, campaign_id: str, authorization: str | None,
           with_evaluations: bool = False) -> CampaignData:
    """Read everything a report of ``campaign_id`` needs; the campaign first, so a campaign the
    caller may not see is refused by the service that owns it. ``with_evaluations`` also reads the
    evaluation rounds of every nominated registration (the minutes need their votes)."""
    r = Reader(client, authorization)
    campaign = r.get("registration", f"/campaigns/{campaign_id}")
    nominations = r.get("awards", f"/campaigns/{campaign_id}/nominations")
    rules = r.get("awards", "/rules")
    evaluations = {}
    if with_evaluations:
        for rid in sorted({n["registration_id"] for n in nominations if n.get("registration_id")}):
            evaluations[rid] = r.get("evaluation", f"/evaluations/{rid}", missing_ok=True) or []
    return CampaignData(
        campaign=campaign,
        registrations=r.get("registration", f"/campaigns/{campaign_id}/registrations"),
        candidates=r.get("evaluation", f"/campaigns/{campaign_id}/candidates"),
        nominations=nominations,
        quotas=r.get("awards", f"/campaigns/{campaign_id}/quotas"),
        exemplar_progress=r.get("registration", f"/campaigns/{campaign_id}/exemplar-progress"),
        award_rules=_by_key(rules["province"]["awards"] + rules["national"]["awards"], "code"),
        authorities=_by_key(rules["province"]["authorities"] + rules["national"]["authorities"], "level"),
        evaluations=evaluations)


def _by_key(rules: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """The first rule of each key wins: the province's own rules come before the national ones."""
    out: dict[str, dict[str, Any]] = {}
    for rule in rules:
        out.setdefault(rule[key], rule)
    return out
