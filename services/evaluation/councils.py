"""Councils (Hội đồng Thi đua – Khen thưởng), their members and their ballots: plain Python.

A council belongs to a unit of a province and has members (a person id, a name, the unit
the person belongs to). A candidate comes before the council as a **ballot** (one
candidate, one award); when the ballot opens, every member who has a conflict of
interest with that candidate is recused, each recusal an event naming its reason:

* ``is_candidate`` — the member is the candidate;
* ``candidate_unit`` — the member belongs to the candidate's unit or a unit under it (the
  organisation chart), unless that unit is the council's own unit or one above it: in a
  school's council every member belongs to the school, and that is not a conflict;
* ``declared_interest`` — the member declared an interest in the candidate (before the
  ballot opened, or while it is open: then the recusal comes at once and a vote already
  cast is struck out).

The ballot's shares are over the members **entitled** to vote: the members when it opened,
less the recused. A recused member's vote is refused, naming the rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import Forbidden, Invalid, RuleViolation

COUNCIL_FORMED = "evaluation.council.formed"
MEMBER_ADDED = "evaluation.council.member_added"
INTEREST_DECLARED = "evaluation.council.interest_declared"
BALLOT_OPENED = "evaluation.ballot.opened"
MEMBER_RECUSED = "evaluation.ballot.member_recused"
VOTE_CAST = "evaluation.ballot.vote_cast"
BALLOT_CLOSED = "evaluation.ballot.closed"

RECUSAL_REASONS = {
    "is_candidate": "thành viên là người được xét",
    "candidate_unit": "thành viên thuộc đơn vị của người được xét",
    "declared_interest": "thành viên đã khai báo có xung đột lợi ích với người được xét",
}
CHOICES = ("for", "against", "abstain")


# -- commands ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FormCouncil:
    council_id: str
    province: str
    name: str
    unit_id: str
    term: str  # e.g. the school year "2024-2025": a school's council is formed each year


@dataclass(frozen=True)
class AddMember:
    council_id: str
    province: str
    person_id: str
    name: str
    unit_id: str
    position: str  # chair, vice_chair, secretary, member


@dataclass(frozen=True)
class DeclareInterest:
    council_id: str
    province: str
    person_id: str  # the member themself (the token's subject)
    participant_id: str
    reason: str


@dataclass(frozen=True)
class OpenBallot:
    ballot_id: str
    province: str
    council_id: str
    registration_id: str
    award: str
    secret: bool = True


@dataclass(frozen=True)
class CastVote:
    ballot_id: str
    province: str
    person_id: str  # the token's subject
    choice: str


@dataclass(frozen=True)
class CloseBallot:
    """The secretary closes the ballot. A secret ballot (bỏ phiếu kín) is counted from the ballot box
    (and the written votes of absent members): the secretary records ``votes_for``, ``votes_against``
    and, as the minutes do, who handed in a ballot (``voters``), never who voted what. An open vote
    is the tally of the votes the members cast here."""
    ballot_id: str
    province: str
    closed_by: str
    votes_for: int | None = None
    votes_against: int | None = None
    voters: tuple[str, ...] | None = None


# -- aggregates ------------------------------------------------------------------------------
@dataclass
class Council:
    id: str
    version: int = 0
    province: str = ""
    name: str = ""
    unit_id: str = ""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    interests: dict[str, set[str]] = field(default_factory=dict)  # participant id -> member person ids

    def form(self, cmd: FormCouncil) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Hội đồng {self.id} đã được thành lập", rule="council.once")
        return {"council_id": self.id, "name": cmd.name, "unit_id": cmd.unit_id, "term": cmd.term}

    def add_member(self, cmd: AddMember) -> dict[str, Any]:
        self.exists(cmd.province)
        if cmd.person_id in self.members:
            raise RuleViolation(f"{cmd.name} đã là thành viên hội đồng «{self.name}»", rule="council.member_once")
        return {"council_id": self.id, "person_id": cmd.person_id, "name": cmd.name, "unit_id": cmd.unit_id,
                "position": cmd.position}

    def declare_interest(self, cmd: DeclareInterest) -> dict[str, Any]:
        member = self.member(cmd.province, cmd.person_id)
        if cmd.person_id in self.interests.get(cmd.participant_id, ()):
            raise RuleViolation("Thành viên đã khai báo xung đột lợi ích với người này", rule="council.interest_once")
        return {"council_id": self.id, "person_id": cmd.person_id, "member_name": member["name"],
                "participant_id": cmd.participant_id, "reason": cmd.reason}

    def exists(self, province: str) -> None:
        if not self.version or self.province != province:
            raise RuleViolation(f"Không có hội đồng {self.id} trong tỉnh này", rule="council.exists")

    def member(self, province: str, person_id: str) -> dict[str, Any]:
        self.exists(province)
        if person_id not in self.members:
            raise Forbidden(f"Người gọi ({person_id}) không là thành viên hội đồng «{self.name}»",
                            rule="council.member")
        return self.members[person_id]

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == COUNCIL_FORMED:
            self.province, self.name, self.unit_id = province, data["name"], data["unit_id"]
        elif type_ == MEMBER_ADDED:
            self.members[data["person_id"]] = {k: data[k] for k in ("person_id", "name", "unit_id", "position")}
        elif type_ == INTEREST_DECLARED:
            self.interests.setdefault(data["participant_id"], set()).add(data["person_id"])
        self.version += 1


def recusals(council: Council, candidate: dict[str, Any], in_candidate_unit: set[str],
             council_in_candidate_unit: bool) -> list[tuple[str, str]]:
    """(person id, reason) of every member with a conflict of interest with ``candidate``.
    ``in_candidate_unit``: the members whose unit is the candidate's or under it;
    ``council_in_candidate_unit``: the council's own unit is the candidate's or under it, so
    that belonging to the candidate's unit is no conflict (every member does)."""
    found = []
    declared = council.interests.get(candidate["participant_id"], set())
    for person_id in council.members:
        if person_id == candidate["participant_id"]:
            found.append((person_id, "is_candidate"))
        elif person_id in in_candidate_unit and not council_in_candidate_unit:
            found.append((person_id, "candidate_unit"))
        elif person_id in declared:
            found.append((person_id, "declared_interest"))
    return found


@dataclass
class Ballot:
    id: str
    version: int = 0
    province: str = ""
    council_id: str = ""
    candidate: dict[str, Any] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # person id -> name, when it opened
    recused: dict[str, str] = field(default_factory=dict)  # person id -> reason
    votes: dict[str, str] = field(default_factory=dict)
    secret: bool = True
    closed: bool = False

    def open(self, cmd: OpenBallot, council: Council, candidate: dict[str, Any], in_council_unit: bool,
             conflicts: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
        """``in_council_unit``: the candidate's unit is the council's unit or under it."""
        if self.version:
            raise RuleViolation(f"Cuộc bỏ phiếu {self.id} đã được mở", rule="ballot.once")
        council.exists(cmd.province)
        if not in_council_unit:
            raise Forbidden(f"{candidate['name']} không thuộc đơn vị {council.unit_id} hay đơn vị trực thuộc: hội đồng "
                            f"«{council.name}» chỉ xét trong đơn vị mình", rule="ballot.council_scope")
        if not council.members:
            raise RuleViolation(f"Hội đồng «{council.name}» chưa có thành viên", rule="ballot.members")
        if candidate["status"] == "withdrawn":
            raise RuleViolation("Đăng ký thi đua đã được rút: không bỏ phiếu", rule="ballot.withdrawn")
        opened = {"ballot_id": self.id, "council_id": council.id, "council_name": council.name,
                  "registration_id": cmd.registration_id, "campaign_id": candidate["campaign_id"],
                  "participant_id": candidate["participant_id"], "participant_kind": candidate["participant_kind"],
                  "name": candidate["name"], "unit_id": candidate["unit_id"], "award": cmd.award,
                  "secret": cmd.secret,
                  "members": [{"person_id": p, "name": m["name"]} for p, m in council.members.items()]}
        events = [(BALLOT_OPENED, opened)]
        for person_id, reason in conflicts:
            events.append((MEMBER_RECUSED, self.recusal(person_id, council.members[person_id]["name"], reason,
                                                        opened)))
        return events

    def recusal(self, person_id: str, name: str, reason: str, opened: dict[str, Any] | None = None) -> dict[str, Any]:
        about = opened or {"council_id": self.council_id, **self.candidate}
        return {"ballot_id": self.id, "council_id": about["council_id"], "registration_id": about["registration_id"],
                "participant_id": about["participant_id"], "award": about["award"], "person_id": person_id,
                "member_name": name, "reason": reason, "reason_text": RECUSAL_REASONS[reason],
                "vote_struck": person_id in self.votes}

    def recuse_declared(self, person_id: str) -> dict[str, Any] | None:
        """A member who declares an interest while the ballot is open is recused at once."""
        if self.closed or person_id not in self.members or person_id in self.recused:
            return None
        return self.recusal(person_id, self.members[person_id], "declared_interest")

    def cast(self, cmd: CastVote) -> dict[str, Any]:
        self._open(cmd.province)
        if self.secret:
            raise RuleViolation("Bỏ phiếu kín: phiếu không ghi tên người bỏ; thư ký hội đồng ghi kết quả kiểm phiếu "
                                "(POST /ballots/<id>/result)", rule="ballot.secret")
        if cmd.person_id not in self.members:
            raise Forbidden(f"Người gọi ({cmd.person_id}) không là thành viên hội đồng khi cuộc bỏ phiếu được mở",
                            rule="ballot.member")
        if cmd.person_id in self.recused:
            reason = self.recused[cmd.person_id]
            raise RuleViolation(
                f"{self.members[cmd.person_id]} đã rút khỏi việc xét {self.candidate['name']} "
                f"({RECUSAL_REASONS[reason]}): không được bỏ phiếu", rule="ballot.recused",
                details={"reason": reason})
        if cmd.person_id in self.votes:
            raise RuleViolation("Thành viên đã bỏ phiếu trong cuộc bỏ phiếu này", rule="ballot.vote_once")
        return {"ballot_id": self.id, "person_id": cmd.person_id, "choice": cmd.choice}

    def close(self, cmd: CloseBallot) -> dict[str, Any]:
        self._open(cmd.province)
        if cmd.closed_by in self.recused:
            raise RuleViolation(f"{self.members[cmd.closed_by]} đã rút khỏi việc xét {self.candidate['name']}: "
                                "không ghi kết quả bỏ phiếu", rule="ballot.recused")
        entitled = [p for p in self.members if p not in self.recused]
        if cmd.votes_for is None:
            if self.secret:
                raise Invalid("Bỏ phiếu kín: thư ký ghi số phiếu tán thành và không tán thành",
                              errors={"votes_for": ["bắt buộc với bỏ phiếu kín (required for a secret ballot)"]},
                              rule="ballot.secret")
            votes_for = sum(1 for c in self.votes.values() if c == "for")
            votes_against = sum(1 for c in self.votes.values() if c == "against")
            voters, counted_by = len(self.votes), "members"
        else:
            votes_for, votes_against, counted_by = cmd.votes_for, cmd.votes_against or 0, "secretary"
            voters = self._check_voters(cmd.voters, votes_for + votes_against)
            if votes_for + votes_against > len(entitled):
                raise Invalid(f"Số phiếu ({votes_for + votes_against}) nhiều hơn số thành viên có quyền biểu quyết "
                              f"({len(entitled)}, đã trừ {len(self.recused)} thành viên rút lui)",
                              errors={"votes_for": ["nhiều hơn số thành viên có quyền biểu quyết "
                                                    "(more votes than members entitled to vote)"]},
                              rule="ballot.entitled")
        share = round(100.0 * votes_for / len(entitled), 2) if entitled else 0.0
        return {"ballot_id": self.id, "council_id": self.council_id, **{k: self.candidate[k] for k in (
                    "registration_id", "participant_id", "award")},
                "members_total": len(self.members), "recused": len(self.recused), "entitled": len(entitled),
                "votes_for": votes_for, "votes_against": votes_against, "share_for_pct": share,
                "voters": voters, "secret": self.secret, "counted_by": counted_by, "closed_by": cmd.closed_by}

    def _check_voters(self, voters: tuple[str, ...] | None, ballots_counted: int) -> int | None:
        """Who handed in a ballot, as the minutes list them: members only, none recused, each once."""
        if voters is None:
            return None
        strangers = {f"voters.{i}": ["không là thành viên khi cuộc bỏ phiếu được mở (not a member when it opened)"]
                     for i, p in enumerate(voters) if p not in self.members}
        if strangers or len(set(voters)) != len(voters):
            raise Invalid("Danh sách người bỏ phiếu có người không là thành viên, hoặc có tên lặp lại",
                          errors=strangers or {"voters": ["có tên lặp lại (a name is repeated)"]})
        recused = [p for p in voters if p in self.recused]
        if recused:
            p = recused[0]
            raise RuleViolation(
                f"{self.members[p]} đã rút khỏi việc xét {self.candidate['name']} "
                f"({RECUSAL_REASONS[self.recused[p]]}): phiếu của thành viên này không được nhận",
                rule="ballot.recused", errors={"voters": [f"{p}: phải rút lui (recused)"]},
                details={"reason": self.recused[p], "person_id": p})
        if ballots_counted > len(voters):
            raise Invalid(f"Số phiếu ({ballots_counted}) nhiều hơn số người bỏ phiếu ({len(voters)})",
                          errors={"votes_for": ["nhiều hơn số người bỏ phiếu (more votes than voters)"]})
        return len(voters)

    def _open(self, province: str) -> None:
        if not self.version or self.province != province:
            raise RuleViolation(f"Không có cuộc bỏ phiếu {self.id}", rule="ballot.exists")
        if self.closed:
            raise RuleViolation("Cuộc bỏ phiếu đã kết thúc", rule="ballot.closed")

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == BALLOT_OPENED:
            self.province, self.council_id = province, data["council_id"]
            self.candidate = {k: data[k] for k in ("registration_id", "participant_id", "award", "name")}
            self.members = {m["person_id"]: m["name"] for m in data["members"]}
            self.secret = data["secret"]
        elif type_ == MEMBER_RECUSED:
            self.recused[data["person_id"]] = data["reason"]
            self.votes.pop(data["person_id"], None)  # a vote cast before the recusal does not count
        elif type_ == VOTE_CAST:
            self.votes[data["person_id"]] = data["choice"]
        elif type_ == BALLOT_CLOSED:
            self.closed = True
        self.version += 1
