"""The awards service as the shared plumbing sees it."""
from shared import documents
from shared.service import ServiceSpec

from services.awards import erasure, exemplars, projections


def _blueprints():
    from services.awards.api import DOSSIER_MAKERS, blp
    return [blp, exemplars.blp, documents.blueprint("awards", DOSSIER_MAKERS, projections.uploads)]


SPEC = ServiceSpec(
    name="awards",
    title="Khen thưởng (awards)",
    metadata=projections.metadata,
    follows=("registration", "evaluation"),
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS, **erasure.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS},
    blueprints=_blueprints,
    operational_tables=("documents",),  # what was uploaded is not derived from events
)
