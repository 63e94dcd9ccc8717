"""WSGI entry point: ``gunicorn "services.registration.app:create_app()"``."""
from shared.service import create_web_app

from services.registration.service import SPEC


def create_app(settings=None, bus=None):
    return create_web_app(SPEC, settings, bus)
