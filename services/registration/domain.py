"""Campaigns, registrations, units, clusters and covenants: plain Python aggregates.

Each aggregate checks its rules and returns the payload of the event it decides;
its state changes only in ``apply``, which also rebuilds it from its history.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.errors import NotYetSeen, RuleViolation

CAMPAIGN_LAUNCHED = "registration.campaign.launched"
PARTICIPANT_REGISTERED = "registration.participant.registered"
PARTICIPANT_WITHDRAWN = "registration.participant.withdrawn"
UNIT_REGISTERED = "registration.unit.registered"
MEMBER_ADDED = "registration.unit.member_added"
CLUSTER_FORMED = "registration.cluster.formed"
COVENANT_SIGNED = "registration.covenant.signed"

DEADLINE_NAMES = {"registration": "hạn đăng ký thi đua", "nominations": "hạn đề nghị khen thưởng",
                  "preliminary_report": "hạn báo cáo sơ kết", "final_report": "hạn báo cáo tổng kết"}


def vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


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
    deadlines: dict[str, date] = field(default_factory=dict)
    target_groups: tuple[str, ...] = ()
    content_areas: tuple[str, ...] = ()
    criteria_set_ids: tuple[str, ...] = ()
    award_plan: tuple[dict[str, Any], ...] = ()
    exemplar_targets: tuple[dict[str, Any], ...] = ()
    parent_campaign_id: str | None = None


@dataclass(frozen=True)
class RegisterParticipant:
    registration_id: str
    campaign_id: str
    province: str
    participant: dict[str, Any]
    pledges: tuple[dict[str, Any], ...]
    registered_on: date  # the server's today; the record's own date when imported
    imported: bool = False  # a historical record entered by an operator: the deadline is history


@dataclass(frozen=True)
class WithdrawRegistration:
    registration_id: str
    province: str
    reason: str


@dataclass(frozen=True)
class RegisterUnit:
    unit_id: str
    province: str
    name: str
    kind: str
    parent_id: str | None = None
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AddMember:
    unit_id: str
    province: str
    member: dict[str, Any]


@dataclass(frozen=True)
class FormCluster:
    cluster_id: str
    province: str
    name: str
    kind: str
    member_unit_ids: tuple[str, ...]


@dataclass(frozen=True)
class SignCovenant:
    covenant_id: str
    cluster_id: str
    province: str
    campaign_id: str
    content: str
    signed_by: tuple[str, ...]
    signed_on: date


# -- aggregates -------------------------------------------------------------------
@dataclass
class Campaign:
    id: str
    version: int = 0
    province: str = ""
    title: str = ""
    kind: str = ""
    period_start: date | None = None
    period_end: date | None = None
    registration_deadline: date | None = None
    allow_late_registration: bool = False
    target_groups: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        return self.version > 0

    def launch(self, cmd: LaunchCampaign, parent: "Campaign | None",
               known_criteria_sets: set[str]) -> dict[str, Any]:
        """``known_criteria_sets``: those of ``cmd.criteria_set_ids`` evaluation has defined in the
        province, as far as registration has seen."""
        if self.exists:
            raise RuleViolation(f"Phong trào thi đua {self.id} đã được phát động",
                                rule="campaign.launch_once")
        if cmd.period_end < cmd.period_start:
            raise RuleViolation("Thời gian kết thúc phong trào phải sau thời gian bắt đầu",
                                rule="campaign.period_order")
        if cmd.parent_campaign_id and (parent is None or not parent.exists
                                       or parent.province != cmd.province):
            raise RuleViolation(f"Không có phong trào cha {cmd.parent_campaign_id} trong tỉnh này",
                                rule="campaign.parent_exists")
        for plan in cmd.award_plan:
            if plan.get("max") is not None and plan.get("min") is not None and plan["min"] > plan["max"]:
                raise RuleViolation(f"Kế hoạch khen thưởng «{plan['award']}»: số tối thiểu lớn hơn tối đa",
                                    rule="campaign.award_plan")
        missing = [i for i in cmd.criteria_set_ids if i not in known_criteria_sets]
        if missing:  # perhaps defined a moment ago, its event still on its way: the caller may retry
            raise NotYetSeen(f"Chưa có bộ tiêu chí {', '.join(missing)} trong tỉnh này: hãy xây dựng bộ tiêu chí "
                             f"(bình xét) trước khi phát động phong trào", rule="campaign.criteria_sets_exist",
                             errors={"criteria_set_ids": [f"unknown criteria set {i!r}" for i in missing]},
                             details={"missing": missing})
        deadlines = {"registration": cmd.registration_deadline, **cmd.deadlines}
        return {"campaign_id": cmd.campaign_id, "title": cmd.title, "kind": cmd.kind,
                "issuer": cmd.issuer, "issuer_level": cmd.issuer_level,
                "period_start": cmd.period_start.isoformat(), "period_end": cmd.period_end.isoformat(),
                "registration_deadline": cmd.registration_deadline.isoformat(),
                "deadlines": {k: v.isoformat() for k, v in deadlines.items()},
                "allow_late_registration": cmd.allow_late_registration,
                "target_groups": list(cmd.target_groups), "content_areas": list(cmd.content_areas),
                "criteria_set_ids": list(cmd.criteria_set_ids),
                "award_plan": [dict(p) for p in cmd.award_plan],
                "exemplar_targets": [dict(t) for t in cmd.exemplar_targets],
                "parent_campaign_id": cmd.parent_campaign_id}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == CAMPAIGN_LAUNCHED:
            self.province = province
            self.title, self.kind = data["title"], data["kind"]
            self.period_start = date.fromisoformat(data["period_start"])
            self.period_end = date.fromisoformat(data["period_end"])
            self.registration_deadline = date.fromisoformat(data["registration_deadline"])
            self.allow_late_registration = data.get("allow_late_registration", False)
            self.target_groups = tuple(data.get("target_groups") or ())
        self.version += 1


def participant_group(participant: dict[str, Any]) -> str:
    return "collective" if participant["kind"] == "collective" else participant["individual_kind"]


@dataclass
class Registration:
    id: str
    version: int = 0
    province: str = ""
    campaign_id: str = ""
    participant_id: str = ""
    withdrawn: bool = False

    def register(self, campaign: Campaign, cmd: RegisterParticipant) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Đăng ký {self.id} đã tồn tại", rule="registration.once")
        if not campaign.exists or campaign.province != cmd.province:
            raise RuleViolation(f"Không có phong trào thi đua {cmd.campaign_id} trong tỉnh này",
                                rule="registration.campaign_exists")
        group = participant_group(cmd.participant)
        if campaign.target_groups and group not in campaign.target_groups:
            raise RuleViolation(
                f"Phong trào «{campaign.title}» không dành cho đối tượng «{group}»; đối tượng thi đua: "
                f"{', '.join(campaign.target_groups)}", rule="registration.target_group")
        late = cmd.registered_on > campaign.registration_deadline
        if late and not campaign.allow_late_registration and not cmd.imported:
            raise RuleViolation(
                f"Đã quá hạn đăng ký thi đua ({vn(campaign.registration_deadline)}) "
                f"của phong trào «{campaign.title}»", rule="registration.deadline",
                details={"deadline": campaign.registration_deadline.isoformat()})
        for i, pledge in enumerate(cmd.pledges, start=1):
            if pledge["end"] < pledge["start"]:
                raise RuleViolation(f"Nội dung thi đua thứ {i}: ngày kết thúc trước ngày bắt đầu",
                                    rule="registration.pledge_dates")
            if pledge["start"] < campaign.period_start or pledge["end"] > campaign.period_end:
                raise RuleViolation(
                    f"Nội dung thi đua thứ {i} phải nằm trong thời gian thi đua "
                    f"{vn(campaign.period_start)} – {vn(campaign.period_end)}",
                    rule="registration.pledge_in_period")
        return {"registration_id": cmd.registration_id, "campaign_id": cmd.campaign_id,
                "campaign_title": campaign.title, "campaign_kind": campaign.kind,
                "participant": cmd.participant, "late": late, "imported": cmd.imported,
                "registered_on": cmd.registered_on.isoformat(),
                "pledges": [{**p, "start": p["start"].isoformat(), "end": p["end"].isoformat()}
                            for p in cmd.pledges]}

    def withdraw(self, cmd: WithdrawRegistration) -> dict[str, Any]:
        if not self.version or self.province != cmd.province:
            raise RuleViolation(f"Không có đăng ký thi đua {self.id}", rule="registration.exists")
        if self.withdrawn:
            raise RuleViolation("Đăng ký thi đua này đã được rút", rule="registration.withdraw_once")
        return {"registration_id": self.id, "campaign_id": self.campaign_id,
                "participant_id": self.participant_id, "reason": cmd.reason}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == PARTICIPANT_REGISTERED:
            self.province, self.campaign_id = province, data["campaign_id"]
            self.participant_id = data["participant"]["participant_id"]
        elif type_ == PARTICIPANT_WITHDRAWN:
            self.withdrawn = True
        self.version += 1


@dataclass
class Unit:
    id: str
    version: int = 0
    province: str = ""
    member_ids: set[str] = field(default_factory=set)

    def register(self, cmd: RegisterUnit, parent: "Unit | None") -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Đơn vị {self.id} đã được đăng ký", rule="unit.once")
        if cmd.parent_id and (parent is None or not parent.version or parent.province != cmd.province):
            raise RuleViolation(f"Không có đơn vị cấp trên {cmd.parent_id} trong tỉnh này",
                                rule="unit.parent_exists")
        return {"unit_id": cmd.unit_id, "name": cmd.name, "kind": cmd.kind, "parent_id": cmd.parent_id,
                "address": cmd.address, "phone": cmd.phone}

    def add_member(self, cmd: AddMember) -> dict[str, Any]:
        if not self.version or self.province != cmd.province:
            raise RuleViolation(f"Không có đơn vị {self.id} trong tỉnh này", rule="unit.exists")
        if cmd.member["person_id"] in self.member_ids:
            raise RuleViolation(f"{cmd.member['name']} đã là thành viên của đơn vị", rule="unit.member_once")
        return {"unit_id": self.id, **cmd.member}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == UNIT_REGISTERED:
            self.province = province
        elif type_ == MEMBER_ADDED:
            self.member_ids.add(data["person_id"])
        self.version += 1


@dataclass
class Cluster:
    id: str
    version: int = 0
    province: str = ""
    name: str = ""
    member_unit_ids: tuple[str, ...] = ()
    covenants: set[str] = field(default_factory=set)

    def form(self, cmd: FormCluster, known_units: set[str]) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Cụm, khối thi đua {self.id} đã tồn tại", rule="cluster.once")
        unknown = sorted(set(cmd.member_unit_ids) - known_units)
        if unknown:
            raise RuleViolation(f"Các đơn vị chưa được đăng ký trong tỉnh: {', '.join(unknown)}",
                                rule="cluster.members_known")
        return {"cluster_id": cmd.cluster_id, "name": cmd.name, "kind": cmd.kind,
                "member_unit_ids": list(cmd.member_unit_ids)}

    def sign(self, cmd: SignCovenant, campaign: Campaign) -> dict[str, Any]:
        if not self.version or self.province != cmd.province:
            raise RuleViolation(f"Không có cụm, khối thi đua {self.id} trong tỉnh này", rule="cluster.exists")
        if not campaign.exists or campaign.province != cmd.province:
            raise RuleViolation(f"Không có phong trào thi đua {cmd.campaign_id} trong tỉnh này",
                                rule="covenant.campaign_exists")
        if cmd.campaign_id in self.covenants:
            raise RuleViolation(f"Cụm, khối «{self.name}» đã ký giao ước cho phong trào này",
                                rule="covenant.once_per_campaign")
        outsiders = sorted(set(cmd.signed_by) - set(self.member_unit_ids))
        if outsiders:
            raise RuleViolation(f"Không phải thành viên của cụm, khối «{self.name}»: {', '.join(outsiders)}",
                                rule="covenant.signers_are_members")
        missing = sorted(set(self.member_unit_ids) - set(cmd.signed_by))
        if missing:
            raise RuleViolation(f"Giao ước phải được mọi thành viên ký; còn thiếu: {', '.join(missing)}",
                                rule="covenant.all_members_sign")
        return {"covenant_id": cmd.covenant_id, "cluster_id": self.id, "cluster_name": self.name,
                "campaign_id": cmd.campaign_id, "content": cmd.content,
                "signed_by": list(cmd.signed_by), "signed_on": cmd.signed_on.isoformat()}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == CLUSTER_FORMED:
            self.province, self.name = province, data["name"]
            self.member_unit_ids = tuple(data["member_unit_ids"])
        elif type_ == COVENANT_SIGNED:
            self.covenants.add(data["campaign_id"])
        self.version += 1
