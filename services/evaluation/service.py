"""The evaluation service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.evaluation import projections


def _blueprints():
    from services.evaluation.api import blp
    return [blp]


SPEC = ServiceSpec(
    name="evaluation",
    title="Bình xét thi đua (evaluation)",
    metadata=projections.metadata,
    follows=("registration",),
    handlers=projections.FOLLOWED_EVENTS,
    own_events=projections.OWN_EVENTS,
    blueprints=_blueprints,
)
