"""The rulebook: awards, authorities and the escalation chain as dated data.

National rules ship in ``rulebook.json``; a province adds or corrects a rule with
``POST /rules`` (an event of its own store). For a given province and date the
province's rule of a code wins over the national one. Every rule carries its
source, so every refusal can cite it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

RULEBOOK = Path(__file__).with_name("rulebook.json")


@cache
def national() -> dict[str, Any]:
    return json.loads(RULEBOOK.read_text(encoding="utf-8"))


def in_force(rule: dict[str, Any], on: date) -> bool:
    start = date.fromisoformat(rule["valid_from"]) if rule.get("valid_from") else date.min
    end = date.fromisoformat(rule["valid_to"]) if rule.get("valid_to") else date.max
    return start <= on <= end


@dataclass
class Rulebook:
    """The rules one province works under: national ones plus its own."""
    province_awards: list[dict[str, Any]] = field(default_factory=list)
    province_authorities: list[dict[str, Any]] = field(default_factory=list)
    province_caps: list[dict[str, Any]] = field(default_factory=list)

    def award(self, code: str, on: date) -> dict[str, Any] | None:
        for source in (self.province_awards, national()["awards"]):
            matches = [r for r in source if r["code"] == code and in_force(r, on)]
            if matches:
                return matches[-1]
        return None

    def authorities(self, on: date) -> list[dict[str, Any]]:
        own = [a for a in self.province_authorities if in_force(a, on)]
        levels = {a["level"] for a in own}
        return own + [a for a in national()["authorities"] if a["level"] not in levels and in_force(a, on)]

    def authority(self, level: str, on: date) -> dict[str, Any] | None:
        return next((a for a in self.authorities(on) if a["level"] == level), None)

    def confers(self, level: str, code: str, on: date) -> bool:
        authority = self.authority(level, on)
        return authority is not None and code in authority["confers"]

    def competent(self, code: str, on: date) -> list[str]:
        return [a["level"] for a in self.authorities(on) if code in a["confers"]]

    def caps(self, on: date) -> list[dict[str, Any]]:
        """The percentage caps in force: the province's own, and the national ones it did not replace
        (a province cap of the same code wins)."""
        own = [c for c in self.province_caps if in_force(c, on)]
        codes = {c["code"] for c in own}
        return own + [c for c in national()["caps"]["rules"] if c["code"] not in codes and in_force(c, on)]

    def authority_name(self, level: str, on: date) -> str | None:
        authority = self.authority(level, on)
        return authority["name"] if authority else None

    def levels_above(self, level: str, on: date) -> list[str]:
        """The levels a proposal from ``level`` climbs through, nearest first (the escalation chain)."""
        above, current = [], level
        while (current := self.next_level(current, on)) is not None and current not in above:
            above.append(current)
        return above

    def next_level(self, level: str, on: date) -> str | None:
        return next((e["to"] for e in national()["escalation"] if e["from"] == level and in_force(e, on)),
                    None)

    def escalation_path(self, level: str, code: str, on: date) -> list[str] | None:
        """The levels a proposal climbs from ``level`` until one may confer ``code`` (trình cấp trên)."""
        path, current = [], level
        while not self.confers(current, code, on):
            current = self.next_level(current, on)
            if current is None or current in path:
                return None
            path.append(current)
        return path


def lineage(province: str) -> list[str]:
    """The province and every province merged into it, at any depth (closed codes are never reused,
    so a code always means the same province)."""
    found, frontier = [province], [province]
    while frontier:
        merged = [m["from"] for m in national()["succession"]["merges"] if m["into"] in frontier
                  and m["from"] not in found]
        found += merged
        frontier = merged
    return found


def source_of(section: str) -> str:
    return national()[section]["source"]


def chain_excluded_kinds() -> tuple[str, ...]:
    """Kinds of award that never count toward a merit chain (ad-hoc, thematic)."""
    return tuple(national()["chains_exclude_kinds"]["kinds"])


def hold_kinds() -> tuple[str, ...]:
    return tuple(national()["holds"]["kinds"])
