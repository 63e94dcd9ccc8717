"""A person's erasure in awards' projection — participants, nominations, the award history (tra
cứu) — the event being registration's (see :mod:`shared.privacy.erasure`)."""
from shared.privacy import erasure
from shared.privacy.erasure import PERSON_ERASED, Erasable, by, mentioning

from services.awards.exemplars import reviewed
from services.awards.projections import history, nominations, participants

ERASABLE = [
    Erasable(participants, by("participant_id"), names=("name",)),
    Erasable(nominations, by("participant_id"), names=("name",), texts=("dossier", "last_reason")),
    Erasable(history, by("participant_id"), names=("name",), texts=("revocation_reason",)),
    Erasable(reviewed, mentioning("summary"), json=("summary",)),
]

FOLLOWED_EVENTS = {PERSON_ERASED: erasure.handler(ERASABLE)}
