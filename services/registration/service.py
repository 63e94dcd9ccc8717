"""The registration service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.registration import projections


def _blueprints():
    from services.registration.api import blp
    return [blp]


SPEC = ServiceSpec(
    name="registration",
    title="Đăng ký thi đua (registration)",
    metadata=projections.metadata,
    follows=(),
    handlers={},
    own_events=projections.OWN_EVENTS,
    blueprints=_blueprints,
)
