"""The notifications service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.notifications import projections


def _blueprints():
    from services.notifications.api import blp
    return [blp]


SPEC = ServiceSpec(
    name="notifications",
    title="Thông báo (notifications)",
    metadata=projections.metadata,
    follows=("registration",),
    handlers=projections.FOLLOWED_EVENTS,
    blueprints=_blueprints,
)
