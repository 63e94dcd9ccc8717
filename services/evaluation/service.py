"""The evaluation service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.evaluation import erasure, exemplars, projections


def _blueprints():
    from services.evaluation.api import blp
    return [blp, exemplars.blp]


SPEC = ServiceSpec(
    name="evaluation",
    title="Bình xét thi đua (evaluation)",
    metadata=projections.metadata,
    follows=("registration",),
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS, **erasure.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS},
    blueprints=_blueprints,
)
