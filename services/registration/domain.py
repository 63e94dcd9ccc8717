"""Campaigns and registrations: plain Python aggregates that check rules and record events.

State changes only in ``apply``, which also rebuilds an aggregate from its history.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.errors import RuleViolation

CAMPAIGN_LAUNCHED = "registration.campaign.launched"
PARTICIPANT_REGISTERED = "registration.participant.registered"


# -- commands -------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchCampaign:
    campaign_id: str
    province: str
    title: str
    kind: str
    issuer: str
    issuer_level: str
    period_start: date
    period_end: date
    registration_deadline: date
    allow_late_registration: bool = False


@dataclass(frozen=True)
class RegisterParticipant:
    registration_id: str
    campaign_id: str
    province: str
    participant: dict[str, Any]
    pledges: tuple[dict[str, Any], ...]
    registered_on: date


# -- aggregates -------------------------------------------------------------------
@dataclass
class Campaign:
    id: str
    version: int = 0
    province: str = ""
    title: str = ""
    registration_deadline: date | None = None
    allow_late_registration: bool = False

    @property
    def exists(self) -> bool:
        return self.version > 0

    def launch(self, cmd: LaunchCampaign) -> dict[str, Any]:
        if self.exists:
            raise RuleViolation(f"Phong trào thi đua {self.id} đã được phát động",
                                rule="campaign.launch_once")
        if cmd.period_end < cmd.period_start:
            raise RuleViolation("Thời gian kết thúc phong trào phải sau thời gian bắt đầu",
                                rule="campaign.period_order")
        return {"campaign_id": cmd.campaign_id, "title": cmd.title, "kind": cmd.kind,
                "issuer": cmd.issuer, "issuer_level": cmd.issuer_level,
                "period_start": cmd.period_start.isoformat(), "period_end": cmd.period_end.isoformat(),
                "registration_deadline": cmd.registration_deadline.isoformat(),
                "allow_late_registration": cmd.allow_late_registration}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == CAMPAIGN_LAUNCHED:
            self.province = province
            self.title = data["title"]
            self.registration_deadline = date.fromisoformat(data["registration_deadline"])
            self.allow_late_registration = data.get("allow_late_registration", False)
        self.version += 1


@dataclass
class Registration:
    id: str
    version: int = 0
    pledges: list[dict[str, Any]] = field(default_factory=list)

    def register(self, campaign: Campaign, cmd: RegisterParticipant) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Đăng ký {self.id} đã tồn tại", rule="registration.once")
        if not campaign.exists or campaign.province != cmd.province:
            raise RuleViolation(f"Không có phong trào thi đua {cmd.campaign_id} trong tỉnh này",
                                rule="registration.campaign_exists")
        late = cmd.registered_on > campaign.registration_deadline
        if late and not campaign.allow_late_registration:
            raise RuleViolation(
                f"Đã quá hạn đăng ký thi đua ({campaign.registration_deadline:%d/%m/%Y}) "
                f"của phong trào «{campaign.title}»", rule="registration.deadline",
                details={"deadline": campaign.registration_deadline.isoformat()})
        for i, pledge in enumerate(cmd.pledges):
            if pledge["end"] < pledge["start"]:
                raise RuleViolation(f"Nội dung thi đua thứ {i + 1}: ngày kết thúc trước ngày bắt đầu",
                                    rule="registration.pledge_dates")
        return {"registration_id": cmd.registration_id, "campaign_id": cmd.campaign_id,
                "campaign_title": campaign.title, "participant": cmd.participant, "late": late,
                "registered_on": cmd.registered_on.isoformat(),
                "pledges": [{**p, "start": p["start"].isoformat(), "end": p["end"].isoformat()}
                            for p in cmd.pledges]}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == PARTICIPANT_REGISTERED:
            self.pledges = data["pledges"]
        self.version += 1
