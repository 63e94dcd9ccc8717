"""A person's erasure in evaluation's projection (the event is registration's; see
:mod:`shared.privacy.erasure`)."""
from shared.privacy import erasure
from shared.privacy.erasure import PERSON_ERASED, Erasable, by, mentioning

from services.evaluation.exemplars import learning
from services.evaluation.projections import candidates

ERASABLE = [
    Erasable(candidates, by("participant_id"), names=("name",)),
    Erasable(learning, mentioning("summary"), json=("summary",)),
]

FOLLOWED_EVENTS = {PERSON_ERASED: erasure.handler(ERASABLE)}
