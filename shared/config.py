"""Settings of one service process, read from the environment in one place.

| variable | meaning | default |
|---|---|---|
| ``DATABASE_URL`` | the service's own database (SQLAlchemy URL) | ``sqlite:///data/<service>.db`` |
| ``KAFKA_BOOTSTRAP_SERVERS`` | the brokers | ``127.0.0.1:9092`` |
| ``TOPIC_PREFIX`` | prefix of every topic: ``<prefix>.<service>`` | ``thidua`` |
| ``TOPIC_PARTITIONS`` | partitions of the topics the service creates | ``3`` |
| ``KAFKA_REPLICATION_FACTOR`` | replication factor of those topics | ``1`` |
| ``KAFKA_MAX_POLL_INTERVAL_MS`` | consumer rebalance/poll limit (small on Tansu) | ``10000`` |
| ``KAFKA_FETCH_MIN_BYTES`` / ``KAFKA_FETCH_MAX_WAIT_MS`` | a consumer's fetch is answered when this much is there, or after this wait (on Apache Kafka a longer wait saves idle round trips) | ``1`` / ``100`` |
| ``JWT_SECRET`` | HMAC key that signs bearer tokens (HS256), 32 characters or more | none: required |
| ``JWT_ISSUER`` / ``JWT_AUDIENCE`` | expected ``iss`` / ``aud`` of HS256 tokens | ``thidua`` / ``thidua`` |
| ``OIDC_ISSUER`` | the OpenID Connect provider whose RS256/ES256 access tokens are accepted (its ``iss``, exactly); empty: HS256 tokens only | none |
| ``OIDC_AUDIENCE`` | the ``aud`` its tokens must name | ``thidua`` |
| ``OIDC_JWKS_URL`` | its key set | ``jwks_uri`` of ``<issuer>/.well-known/openid-configuration``, else ``<issuer>/.well-known/jwks.json`` |
| ``OIDC_JWKS_CACHE_S`` | how long a fetched key set is used before it is fetched again (an unknown ``kid`` fetches it at once, at most every 30 s) | ``300`` |
| ``OIDC_REVOCATION_URL`` | the list of revoked token ids (``{"revoked": [jti, ...]}``); empty: no revocation check | none |
| ``OIDC_REVOCATION_CACHE_S`` | how long that list is used before it is fetched again: a revoked token is refused within this time | ``5`` |
| ``CHAIN_KEY`` | secret key of the events' hash chain (HMAC-SHA-256); without it the chain is plain SHA-256 and proves order and integrity but not authorship | none |
| ``DATA_DIR`` | folder of the SQLite files | ``data`` |
| ``TOPIC_RETENTION_MS`` | ``retention.ms`` of the service topics (``-1``: kept for ever) | ``-1`` |
| ``DLQ_RETENTION_MS`` | ``retention.ms`` of the dead-letter topics | ``-1`` |
| ``KEYSTORE_URL`` | the key store of the people's data keys, shared by every service (SQLAlchemy URL, or ``file:///dir`` for a key directory; ``off``: personal fields are stored in clear) | ``sqlite:///<DATA_DIR>/keystore.db`` |
| ``KEYSTORE_MASTER_KEY`` | the master key that wraps the data keys (base64url of 32 bytes), from the installation's secret store | read from ``KEYSTORE_MASTER_KEY_FILE`` |
| ``KEYSTORE_MASTER_KEY_FILE`` | where the embedded default keeps it (made on first use) | ``<DATA_DIR>/keystore.key`` |
| ``KEYSTORE_CACHE_S`` | how long a process keeps a person's unwrapped key: an erasure takes effect everywhere within this time | ``5`` |
| ``WORKER_METRICS_PORT`` | port of the worker's own ``/metrics`` (none: not served) | none |
| ``EVENT_SCHEMA_BASE_URL`` | the public address under which the services serve ``/schemas/<type>/v<n>``: every event's ``dataschema`` is a URL under it, kept in the stored (hashed) event, so set it once before the first event | ``http://localhost:8001`` |
| ``DOCUMENTS_URL`` | where uploaded dossier and evidence files are kept (:mod:`shared.blobs`): a folder (``file:///srv/thidua/documents`` or a path) or ``s3://<bucket>/<prefix>``; each service keeps its own ``<service>/`` under it | ``<DATA_DIR>/documents`` |
| ``DOCUMENTS_S3_ENDPOINT_URL`` | the S3-compatible server (MinIO, Ceph...) for an ``s3://`` store; empty: AWS itself. Credentials: boto3's own (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, or a role) | none |
| ``DOCUMENTS_MAX_BYTES`` | the largest file one upload may carry | ``20971520`` (20 MiB) |
| ``ANCHOR_KEY`` | secret key (HMAC-SHA-256) that signs the digests of the chain heads, kept outside the store; without it no digest is published (shared.anchors) | none |
| ``ANCHOR_DIR`` | where the signed digests are published, outside the database | ``<DATA_DIR>/anchors`` |
| ``ANCHOR_INTERVAL_S`` | how often a worker publishes its service's digest | ``300`` |

Retention is unlimited by default: the store is the truth, but a consumer that falls
further behind than the retention would silently skip events, and a dead letter that
expired could no longer be redriven.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from shared.kafka_bus import KafkaSettings


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    kafka_bootstrap: str
    topic_prefix: str
    partitions: int
    replication_factor: int
    max_poll_interval_ms: int
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    chain_key: bytes = b""
    topic_retention_ms: int = -1
    dlq_retention_ms: int = -1
    worker_metrics_port: int | None = None
    fetch_min_bytes: int = KafkaSettings.fetch_min_bytes
    fetch_max_wait_ms: int = KafkaSettings.fetch_max_wait_ms
    oidc_issuer: str = ""
    oidc_audience: str = "thidua"
    oidc_jwks_url: str = ""
    oidc_jwks_cache_s: float = 300.0
    oidc_revocation_url: str = ""
    oidc_revocation_cache_s: float = 5.0
    keystore_url: str = "off"
    keystore_master_key: str = ""
    keystore_master_key_file: str = ""
    keystore_cache_s: float = 5.0
    documents_url: str = "data/documents"
    documents_s3_endpoint_url: str = ""
    documents_max_bytes: int = 20 * 1024 * 1024
    anchor_key: bytes = b""
    anchor_dir: str = "data/anchors"
    anchor_interval_s: float = 300.0

    @property
    def topic(self) -> str:
        return topic_of(self.topic_prefix, self.service)

    @property
    def group(self) -> str:
        return f"{self.topic_prefix}.{self.service}"

    def kafka(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.kafka_bootstrap, client_id=f"thidua-{self.service}",
                             max_poll_interval_ms=self.max_poll_interval_ms,
                             session_timeout_ms=max(6000, self.max_poll_interval_ms),
                             replication_factor=self.replication_factor,
                             fetch_min_bytes=self.fetch_min_bytes, fetch_max_wait_ms=self.fetch_max_wait_ms)


def topic_of(prefix: str, service: str) -> str:
    return f"{prefix}.{service}"


class ConfigError(RuntimeError):
    pass


def load(service: str, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    secret = env.get("JWT_SECRET", "")
    if len(secret) < 32:
        raise ConfigError("JWT_SECRET must be set to at least 32 characters")
    data_dir = env.get("DATA_DIR", "data")
    return Settings(
        service=service,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir}/{service}.db",
        kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        topic_prefix=env.get("TOPIC_PREFIX", "thidua"),
        partitions=int(env.get("TOPIC_PARTITIONS", "3")),
        replication_factor=int(env.get("KAFKA_REPLICATION_FACTOR", "1")),
        max_poll_interval_ms=int(env.get("KAFKA_MAX_POLL_INTERVAL_MS", "10000")),
        jwt_secret=secret,
        jwt_issuer=env.get("JWT_ISSUER", "thidua"),
        jwt_audience=env.get("JWT_AUDIENCE", "thidua"),
        chain_key=env.get("CHAIN_KEY", "").encode(),
        topic_retention_ms=int(env.get("TOPIC_RETENTION_MS", "-1")),
        dlq_retention_ms=int(env.get("DLQ_RETENTION_MS", "-1")),
        worker_metrics_port=int(env["WORKER_METRICS_PORT"]) if env.get("WORKER_METRICS_PORT") else None,
        fetch_min_bytes=int(env.get("KAFKA_FETCH_MIN_BYTES", KafkaSettings.fetch_min_bytes)),
        fetch_max_wait_ms=int(env.get("KAFKA_FETCH_MAX_WAIT_MS", KafkaSettings.fetch_max_wait_ms)),
        oidc_issuer=env.get("OIDC_ISSUER", ""),
        oidc_audience=env.get("OIDC_AUDIENCE") or "thidua",
        oidc_jwks_url=env.get("OIDC_JWKS_URL", ""),
        oidc_jwks_cache_s=float(env.get("OIDC_JWKS_CACHE_S") or 300),
        oidc_revocation_url=env.get("OIDC_REVOCATION_URL", ""),
        oidc_revocation_cache_s=float(env.get("OIDC_REVOCATION_CACHE_S") or 5),
        keystore_url=env.get("KEYSTORE_URL") or f"sqlite:///{data_dir}/keystore.db",
        keystore_master_key=env.get("KEYSTORE_MASTER_KEY", ""),
        keystore_master_key_file=env.get("KEYSTORE_MASTER_KEY_FILE") or f"{data_dir}/keystore.key",
        keystore_cache_s=float(env.get("KEYSTORE_CACHE_S") or 5),
        documents_url=env.get("DOCUMENTS_URL") or os.path.join(data_dir, "documents"),
        documents_s3_endpoint_url=env.get("DOCUMENTS_S3_ENDPOINT_URL", ""),
        documents_max_bytes=int(env.get("DOCUMENTS_MAX_BYTES") or 20 * 1024 * 1024),
        anchor_key=env.get("ANCHOR_KEY", "").encode(),
        anchor_dir=env.get("ANCHOR_DIR") or f"{data_dir}/anchors",
        anchor_interval_s=float(env.get("ANCHOR_INTERVAL_S") or 300),
    )
