"""The evaluation service as the shared plumbing sees it."""
from shared import documents
from shared.service import ServiceSpec

from services.evaluation import erasure, exemplars, projections


def _blueprints():
    from services.evaluation.api import EVALUATORS, blp
    from services.evaluation.council_api import blp as councils_blp
    return [blp, exemplars.blp, documents.blueprint("evaluation", EVALUATORS, projections.uploads), councils_blp]


SPEC = ServiceSpec(
    name="evaluation",
    title="Bình xét thi đua (evaluation)",
    metadata=projections.metadata,
    follows=("registration",),
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS, **erasure.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS},
    blueprints=_blueprints,
    operational_tables=("documents",),  # what was uploaded is not derived from events
)
