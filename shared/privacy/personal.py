"""Which fields of which events are a person's data, and whose.

One table for the whole platform, keyed by event type: the store seals these fields on write
and opens them on read (:mod:`shared.privacy.protector`). The payload schemas mark the same
fields with ``metadata={"personal": True}``; until this table is derived from them it is kept
here, as plain data that is easy to replace.

**The person.** Every person of the platform has one id in every service: a registration's
``participant.participant_id``, a unit member's ``person_id``, a recipient's ``recipient_id``
(the directory's subject, e.g. ``lan.ht``). Ids are pseudonyms, kept in clear: they key the
streams, the audit and the person's key. A *collective* (a school, an office) is no person:
its name, address and phone are an organisation's, published by design, and stay in clear.

Paths are dotted keys into ``data``; a path that is absent (or ``None``) is skipped, so one
spec serves every version of a payload that has or lacks a field.
"""
from __future__ import annotations

from dataclasses import dataclass

ERASED = "(đã xóa theo yêu cầu)"  # what every read path shows in place of an erased person's data
# Codes (a gender, a phone, an e-mail address, a date) read as absent once erased: the marker is no
# valid value of theirs, and would not fit their columns (a gender is VARCHAR(10)).
_ABSENT_WHEN_ERASED = frozenset({"gender", "phone", "email", "date_of_birth"})


def erased_value(path: str):
    """What the field at ``path`` reads as once its person is erased."""
    return None if path.rsplit(".", 1)[-1] in _ABSENT_WHEN_ERASED else ERASED


@dataclass(frozen=True)
class Personal:
    person: str  # path of the person's id
    fields: tuple[str, ...]  # paths of that person's data
    kind: str | None = None  # path of the participant's kind: "collective" is no person
    each: str | None = None  # path of a list: the spec holds for each of its items (paths inside one)

    def applies(self, data: dict) -> bool:
        return self.kind is None or get(data, self.kind) not in ("collective", None)

    def people(self, data: dict):
        """(person's id, [paths of their fields], whether they are a person) for each one this spec
        finds in ``data``: one, or one per item of the list ``each`` (the paths then name the item:
        ``members.2.name``). Not a person: a collective, whose fields are never sealed."""
        if self.each is None:
            yield get(data, self.person), list(self.fields), self.applies(data)
            return
        items = get(data, self.each)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict):
                yield get(item, self.person), [f"{self.each}.{i}.{f}" for f in self.fields], self.applies(item)


_PEOPLE_FIELDS = ("name", "gender", "address", "phone", "email", "date_of_birth")
_PARTICIPANT = Personal("participant.participant_id", tuple(f"participant.{f}" for f in _PEOPLE_FIELDS),
                        kind="participant.kind")
_AWARDED = Personal("participant.participant_id", ("participant.name",), kind="participant.participant_kind")
# An exemplar's summary travels through every step: its name is the person's for an individual.
_EXEMPLAR = Personal("participant_id", ("name",), kind="kind")

PERSONAL: dict[str, tuple[Personal, ...]] = {
    # registration
    "registration.participant.registered": (_PARTICIPANT,),
    "registration.unit.member_added": (Personal("person_id", _PEOPLE_FIELDS),),
    "registration.exemplar.registered": (Personal("participant_id", ("name", "details.name", "details.phone",
                                                                     "details.email"), kind="kind"),),
    "registration.exemplar.selected": (_EXEMPLAR,),
    "registration.exemplar.learning_organised": (_EXEMPLAR,),
    # evaluation
    "evaluation.registration.evaluated": (Personal("participant_id", ("name", "gender"), kind="participant_kind"),),
    "evaluation.exemplar.reviewed": (_EXEMPLAR,),
    # awards: every event of a nomination and of an award carries its holder
    **{f"awards.{t}": (_AWARDED,) for t in ("nomination.submitted", "nomination.escalated",
                                            "nomination.appraised", "nomination.resubmitted",
                                            "award.decided", "award.recorded", "award.revoked")},
    "awards.exemplar.recognised": (_EXEMPLAR,),
    "evaluation.council.member_added": (Personal("person_id", ("name",)),),
    "evaluation.council.interest_declared": (Personal("person_id", ("member_name",)),),
    "evaluation.ballot.opened": (Personal("participant_id", ("name",), kind="participant_kind"),
                                 Personal("person_id", ("name",), each="members")),
    "evaluation.ballot.member_recused": (Personal("person_id", ("member_name",)),),
    # notifications
    "notifications.recipient.registered": (Personal("recipient_id", ("name", "email", "phone")),),
    "notifications.exemplar.publicised": (_EXEMPLAR,),
}


_SPLIT: dict[str, tuple[str, ...]] = {}


def get(data: dict, path: str):
    keys = _SPLIT.get(path)
    if keys is None:
        keys = _SPLIT[path] = tuple(path.split("."))
    for key in keys:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def replaced(data: dict, values: dict[str, object]) -> dict:
    """A copy of ``data`` with the value at each path replaced: only the dicts on the way are
    copied (the rest is shared with ``data``, which stays as it was)."""
    out = dict(data)
    for path, value in values.items():
        *parents, last = path.split(".")
        node = out
        for key in parents:
            index = int(key) if isinstance(node, list) else key
            node[index] = list(node[index]) if isinstance(node[index], list) else dict(node[index])
            node = node[index]
        node[int(last) if isinstance(node, list) else last] = value
    return out
