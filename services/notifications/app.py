"""WSGI entry point: ``gunicorn "services.notifications.app:create_app()"``."""
from shared.service import create_web_app

from services.notifications import webhooks
from services.notifications.service import SPEC


def create_app(settings=None, bus=None):
    # The webhook settings are read again at each request; a malformed one stops the process
    # here, naming it, rather than answering every subscription or rotation with a 500.
    webhooks.check_web_settings()
    return create_web_app(SPEC, settings, bus)
