"""The registration service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.registration import erasure, exemplars, projections


def _blueprints():
    from services.registration.api import blp
    return [blp, exemplars.blp, erasure.blp]


SPEC = ServiceSpec(
    name="registration",
    title="Đăng ký thi đua (registration)",
    metadata=projections.metadata,
    follows=("notifications", "evaluation"),  # publicity (step 2); the criteria sets a campaign names
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS, **erasure.OWN_EVENTS},
    blueprints=_blueprints,
)
