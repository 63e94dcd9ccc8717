"""The notifications service as the shared plumbing sees it."""
from shared.service import ServiceSpec

from services.notifications import erasure, exemplars, projections, webhooks


def _blueprints():
    from services.notifications.api import blp
    from services.notifications.webhook_api import blp as webhooks_blp
    return [blp, exemplars.blp, webhooks_blp]


def _background(rt):
    from services.notifications.background import loops
    return loops(rt)


SPEC = ServiceSpec(
    name="notifications",
    title="Thông báo (notifications)",
    metadata=projections.metadata,
    # Every topic whose events an integrator may subscribe to (webhooks.fan_out sees them all).
    follows=("registration", "evaluation", "awards"),
    handlers={**projections.FOLLOWED_EVENTS, **exemplars.FOLLOWED_EVENTS, **erasure.FOLLOWED_EVENTS},
    own_events={**projections.OWN_EVENTS, **exemplars.OWN_EVENTS},
    background=_background,
    notified=projections.notified,
    # The mailer's and the webhooks' state: a rebuild must not send again, nor lose a subscription.
    operational_tables=("deliveries", *webhooks.TABLES),
    fanout=webhooks.fan_out,
    blueprints=_blueprints,
)
