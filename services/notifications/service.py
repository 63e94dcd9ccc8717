"""The notifications service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.notifications import erasure, exemplars, projections


def _blueprints():
    from services.notifications.api import blp
    return [blp, exemplars.blp]


def _background(rt):
    from services.notifications.background import loops
    return loops(rt)


SPEC = ServiceSpec(
    name="notifications",
    title="Thông báo (notifications)",
    metadata=projections.metadata,
    follows=("registration", "evaluation", "awards"),
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS, **erasure.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS},
    background=_background,
    operational_tables=("deliveries",),  # the mailer's state: a rebuild must not send again
    blueprints=_blueprints,
)
