"""WSGI entry point: ``gunicorn "services.notifications.app:create_app()"``."""
from shared.service import create_web_app

from services.notifications.service import SPEC


def create_app(settings=None, bus=None):
    return create_web_app(SPEC, settings, bus)
