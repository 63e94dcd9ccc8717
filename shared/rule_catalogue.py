"""The catalogue of the platform's rules: each code a refusal names -> its Vietnamese name and source.

A refusal's ``rule`` is a machine code (``registration.deadline``); a person needs to read
which rule it is and what it rests on (an article of the law, a section of the province's
plan, or the platform's own safeguard). The catalogue is data (``rule_catalogue.json``), read
once; :func:`cite` is what :meth:`shared.errors.ApiError.body` adds to every refusal, so the
services and the web page cite the same text. A source the raising code already gave in
``details["source"]`` (the rulebook's own source for one award, one cap, one authority) is more
precise than the catalogue's and wins.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from marshmallow import fields
from flask_smorest.error_handler import ErrorSchema

CATALOGUE = Path(__file__).with_name("rule_catalogue.json")


@functools.cache
def rules() -> dict[str, dict[str, str]]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))["rules"]


def cite(rule: str | None, details: dict[str, Any] | None = None) -> dict[str, str]:
    """``{"rule_name": ..., "source": ...}`` for ``rule``; empty for a code the catalogue lacks
    (a newer service's code seen by an older web page: the refusal is still shown, uncited)."""
    entry = rules().get(rule) if rule else None
    given = (details or {}).get("source")
    cited = {"rule_name": entry["name"], "source": entry["source"]} if entry else {}
    if isinstance(given, str) and given:
        cited["source"] = given
    return cited


class RefusalSchema(ErrorSchema):
    """The body of every refusal, as the OpenAPI documents describe it (``components.schemas.Refusal``,
    every operation's default response)."""
    rule = fields.String(metadata={"description": "mã quy định đã từ chối (the refusing rule's code), "
                                                  "e.g. registration.deadline"})
    rule_name = fields.String(metadata={"description": "tên quy định, tiếng Việt (the rule's name)"})
    source = fields.String(metadata={"description": "căn cứ của quy định: điều, khoản của luật, nghị định, "
                                                    "thông tư; mục của kế hoạch; hay quy định của hệ thống "
                                                    "(the rule's source)"})
    details = fields.Dict(metadata={"description": "what the rule weighed (deadline, quota, cap...)"})
    retryable = fields.Boolean(metadata={"description": "true when the answer waits for an event still "
                                                        "in flight: retry the same request"})
