"""The embedded default's identity provider: a small OpenID Connect issuer with its own user directory.

It stands in for a province's identity provider (Keycloak, the national SSO), which an
installation plugs in instead by configuration (``OIDC_*`` in :mod:`shared.config`). It is
not a domain service: it owns no events and never uses Kafka.
"""
