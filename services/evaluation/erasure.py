"""A person's erasure in evaluation's projection (the event is registration's; see
:mod:`shared.privacy.erasure`)."""
from shared.privacy import erasure
from shared.privacy.erasure import PERSON_ERASED, Erasable, by, mentioning

from services.evaluation.exemplars import learning
from services.evaluation.projections import ballot_recusals, ballots, candidates, council_members

ERASABLE = [
    Erasable(candidates, by("participant_id"), names=("name",)),
    Erasable(ballots, by("participant_id"), names=("name",)),
    Erasable(council_members, by("person_id"), names=("name",)),
    Erasable(ballot_recusals, by("person_id"), names=("member_name",), texts=("explanation",)),
    Erasable(learning, mentioning("summary"), json=("summary",)),
]

FOLLOWED_EVENTS = {PERSON_ERASED: erasure.handler(ERASABLE)}
