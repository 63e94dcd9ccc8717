"""Invariants of the Docker deployment, checked by parsing (no Docker engine needed).

``docker-compose.yml`` (one Kafka broker), ``docker-compose.kafka3.yml`` (the
three-broker override), ``deploy/postgres/init.sh`` and ``deploy/Dockerfile`` are
read as text/YAML; ``${VAR:-default}`` interpolation and the override merge are
done here the way ``docker compose`` does them for the features these files use.

Most invariants are written as ``problems_*`` functions returning a list of what
is wrong; each is run on the real files (must be empty) and on a deliberately
broken copy (must not be), so a check that cannot fail is caught too.
"""
from __future__ import annotations

import base64
import copy
import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml  # PyYAML: a missing test dependency must fail loudly, not skip these checks

from tests.ops.deploy_checks import (webhook_protection, webhook_protection_problems, webhook_sender_problems,
                                     webhook_settings)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
KAFKA3 = ROOT / "docker-compose.kafka3.yml"
INIT_SH = ROOT / "deploy" / "postgres" / "init.sh"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SERVICES = ("registration", "evaluation", "awards", "notifications")
WEB_PORTS = {"registration": 8001, "evaluation": 8002, "awards": 8003, "notifications": 8004}
APP_CONTAINERS = {f"{svc}-{kind}": svc for svc in SERVICES for kind in ("web", "worker")}
COMMON_ENV = ("KAFKA_BOOTSTRAP_SERVERS", "TOPIC_PREFIX", "TOPIC_PARTITIONS", "KAFKA_REPLICATION_FACTOR",
              "KAFKA_MAX_POLL_INTERVAL_MS", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "CHAIN_KEY",
              "PROMETHEUS_MULTIPROC_DIR", "WORKER_METRICS_PORT",
              "OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL", "OIDC_REVOCATION_URL",
              "EVENT_SCHEMA_BASE_URL", "DOCUMENTS_URL", "DOCUMENTS_S3_ENDPOINT_URL", "DOCUMENTS_MAX_BYTES", "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "KEYSTORE_URL", "KEYSTORE_MASTER_KEY")
TEST_ENV = {"JWT_SECRET": "test-secret-of-32-characters-xyz", "CHAIN_KEY": "test-chain-key-of-32-characters-x",
            "ANCHOR_KEY": "test-anchor-key-of-32-characters-y",
            "WEB_SESSION_SECRET": "test-session-secret-32-characters",
            "KEYSTORE_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLXh5eno",
            "WEBHOOK_SECRETS_KEY": base64.urlsafe_b64encode(b"test-webhook-secrets-key-32-byte").decode()}
DATABASES = (*SERVICES, "keystore")  # the services' and the key store every service reaches
# Worker-only settings: the anchors (every worker), the webhook sender (notifications').
ANCHOR_ENV = ("ANCHOR_KEY", "ANCHOR_DIR", "ANCHOR_INTERVAL_S")
WORKERS = tuple(f"{svc}-worker" for svc in SERVICES)
GATEWAY, TOOLBOX = "web", "toolbox"


# --------------------------------------------------------------------------- #
# compose interpolation and merging                                            #
# --------------------------------------------------------------------------- #

class MissingVariable(ValueError):
    pass


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.S)


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?e}``,
    ``${VAR?e}``, ``${VAR:+a}``, ``${VAR+a}`` and ``$$`` (a literal ``$``)."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise ValueError(f"unclosed ${{ in {text!r}")
            out.append(_expression(text[i + 2:j - 1], env))
            i = j
        else:
            m = _NAME.match(text, i + 1)
            if not m:
                raise ValueError(f"a lone $ in {text!r} (write $$ for a literal $)")
            out.append(env.get(m.group(), ""))
            i = m.end()
    return "".join(out)


def _expression(expr: str, env: dict[str, str]) -> str:
    m = _EXPR.fullmatch(expr)
    if not m:
        raise ValueError(f"bad substitution ${{{expr}}}")
    name, op, arg = m.groups()
    value = env.get(name)
    if op is None:
        return value or ""
    missing = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return interpolate(arg, env) if missing else value
    if op.endswith("?"):
        if missing:
            raise MissingVariable(f"{name}: {arg}")
        return value
    return "" if missing else interpolate(arg, env)  # "+"


def resolve(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {k: resolve(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, env) for v in node]
    return node


def env_map(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def deps_map(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # the short form has no condition
        return {name: {} for name in deps}
    return {name: (spec or {}) for name, spec in deps.items()}


def _volume_target(entry) -> str:
    if isinstance(entry, dict):
        return entry["target"]
    parts = entry.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def merge_service(base: dict, over: dict) -> dict:
    """``docker compose -f a -f b``: mappings merge by key, volumes by target,
    ports add up, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if key == "environment":
            merged[key] = {**env_map(base), **env_map(over)}
        elif key == "depends_on":
            merged[key] = {**deps_map(base), **deps_map(over)}
        elif key == "volumes":
            by_target = {_volume_target(v): v for v in base.get("volumes", [])}
            by_target.update({_volume_target(v): v for v in value})
            merged[key] = list(by_target.values())
        elif key == "ports":
            merged[key] = list(base.get("ports", [])) + [p for p in value if p not in base.get("ports", [])]
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_files(base: dict, over: dict) -> dict:
    merged = copy.deepcopy(base)
    for section in ("services", "volumes", "networks"):
        for name, spec in (over.get(section) or {}).items():
            current = (merged.get(section) or {}).get(name)
            merged.setdefault(section, {})
            if merged[section] is None:
                merged[section] = {}
            if section == "services" and current is not None:
                merged[section][name] = merge_service(current, spec or {})
            else:
                merged[section][name] = spec
    return merged


def load_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


# --------------------------------------------------------------------------- #
# helpers on a resolved compose model                                          #
# --------------------------------------------------------------------------- #

def kafka_nodes(model: dict) -> dict[str, dict]:
    return {name: spec for name, spec in model["services"].items()
            if str(spec.get("image", "")).startswith("apache/kafka:")}


def listener_hostports(spec: dict, listener: str = "PLAINTEXT") -> set[str]:
    advertised = env_map(spec).get("KAFKA_ADVERTISED_LISTENERS", "")
    out = set()
    for item in advertised.split(","):
        name, _, rest = item.strip().partition("://")
        if name == listener:
            out.add(rest)
    return out


def healthcheck_text(spec: dict) -> str:
    test = (spec.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(map(str, test))
    return str(test or "")


def strings_in(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [str(k), *strings_in(v)]]
    if isinstance(node, list):
        return [s for v in node for s in strings_in(v)]
    return [] if node is None else [str(node)]


def db_url(url: str):
    parts = urlsplit(url)
    return parts.scheme, parts.username, unquote(parts.password or ""), parts.hostname, parts.port, parts.path.lstrip("/")


# --------------------------------------------------------------------------- #
# the checks                                                                    #
# --------------------------------------------------------------------------- #

def problems_isolation(raw: dict, model: dict) -> list[str]:
    """Each app container has its own DATABASE_URL (own user, own database) and
    nothing in its definition names another service's database, user or password."""
    problems = []
    pg_env = env_map(model["services"]["postgres"])
    superuser_password = pg_env.get("POSTGRES_PASSWORD")
    for container, svc in APP_CONTAINERS.items():
        spec = model["services"].get(container)
        if spec is None:
            problems.append(f"{container}: missing")
            continue
        env = env_map(spec)
        url = env.get("DATABASE_URL")
        if not url:
            problems.append(f"{container}: no DATABASE_URL")
        else:
            scheme, user, password, host, port, database = db_url(url)
            if scheme not in ("postgresql", "postgresql+psycopg"):
                problems.append(f"{container}: DATABASE_URL scheme {scheme!r}")
            if user != svc:
                problems.append(f"{container}: DATABASE_URL user {user!r}, expected {svc!r}")
            if database != svc:
                problems.append(f"{container}: DATABASE_URL database {database!r}, expected {svc!r}")
            if host != "postgres" or port != 5432:
                problems.append(f"{container}: DATABASE_URL host {host}:{port}, expected postgres:5432")
            expected_pw = pg_env.get(f"{svc.upper()}_DB_PASSWORD")
            if password != expected_pw:
                problems.append(f"{container}: DATABASE_URL password differs from postgres' "
                                f"{svc.upper()}_DB_PASSWORD")
        for key in env:
            if key.startswith("DATABASE_URL_") or key.startswith("POSTGRES_"):
                problems.append(f"{container}: has {key}")
        texts = strings_in(raw["services"][container]) + strings_in(spec)
        blob = "\n".join(texts).lower()
        for other in SERVICES:
            if other != svc and other in blob:
                problems.append(f"{container}: mentions {other!r}")
        if superuser_password and superuser_password in env.values():
            problems.append(f"{container}: holds the postgres superuser password")
        other_passwords = {pg_env.get(f"{o.upper()}_DB_PASSWORD") for o in SERVICES if o != svc}
        if any(p and p in v for v in env.values() if v for p in other_passwords):
            problems.append(f"{container}: holds another service's database password")
    return problems


def problems_depends_on(model: dict) -> list[str]:
    problems = []
    services = model["services"]
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, spec in services.items():
        for dep, cond in deps_map(spec).items():
            if dep not in services:
                problems.append(f"{name}: depends on unknown {dep!r}")
                continue
            condition = cond.get("condition")
            if condition not in allowed:
                problems.append(f"{name} -> {dep}: no condition")
            if condition == "service_healthy" and not services[dep].get("healthcheck"):
                problems.append(f"{name} -> {dep}: service_healthy but {dep} has no healthcheck")
            if condition == "service_started" and services[dep].get("healthcheck"):
                problems.append(f"{name} -> {dep}: only service_started though {dep} has a healthcheck")
    for container in APP_CONTAINERS:
        deps = deps_map(services.get(container, {}))
        want = {"setup": "service_completed_successfully", "postgres": "service_healthy",
                **{k: "service_healthy" for k in kafka_nodes(model)}}
        for dep, condition in want.items():
            if deps.get(dep, {}).get("condition") != condition:
                problems.append(f"{container}: needs {dep} with {condition}")
    setup_deps = deps_map(services.get("setup", {}))
    for dep in ["postgres", *kafka_nodes(model)]:
        if setup_deps.get(dep, {}).get("condition") != "service_healthy":
            problems.append(f"setup: needs {dep} with service_healthy")
    return problems


def problems_bootstrap(model: dict) -> list[str]:
    problems = []
    nodes = kafka_nodes(model)
    advertised = {hp for spec in nodes.values() for hp in listener_hostports(spec)}
    for container in [*APP_CONTAINERS, "setup", TOOLBOX]:
        servers = env_map(model["services"].get(container, {})).get("KAFKA_BOOTSTRAP_SERVERS") or ""
        entries = [s.strip() for s in servers.split(",") if s.strip()]
        if not entries:
            problems.append(f"{container}: no KAFKA_BOOTSTRAP_SERVERS")
        for entry in entries:
            host = entry.rsplit(":", 1)[0]
            if host not in nodes:
                problems.append(f"{container}: bootstrap {entry} is not a kafka service")
            elif entry not in advertised:
                problems.append(f"{container}: bootstrap {entry} is not an advertised PLAINTEXT listener")
        if {e.rsplit(":", 1)[0] for e in entries} != set(nodes):
            problems.append(f"{container}: bootstrap {entries} does not list every broker {sorted(nodes)}")
    return problems


def problems_kafka_cluster(model: dict, brokers: int) -> list[str]:
    """KRaft (no ZooKeeper), one voter per node, and replication fitting ``brokers``."""
    problems = []
    nodes = kafka_nodes(model)
    if len(nodes) != brokers:
        return [f"{len(nodes)} kafka nodes, expected {brokers}"]
    rf, min_isr = (1, 1) if brokers == 1 else (3, 2)
    envs = {name: env_map(spec) for name, spec in nodes.items()}
    voters_seen, cluster_ids, node_ids, volumes = set(), set(), set(), []
    for name, env in envs.items():
        spec = nodes[name]
        image_tag = spec["image"].split(":", 1)[1]
        if not re.fullmatch(r"(3\.9|4\.\d+)\.\d+", image_tag):
            problems.append(f"{name}: image tag {image_tag!r} is not a pinned 3.9.x/4.x release")
        roles = {r.strip() for r in env.get("KAFKA_PROCESS_ROLES", "").split(",")}
        if roles != {"broker", "controller"}:
            problems.append(f"{name}: process.roles {roles}")
        if any("ZOOKEEPER" in k.upper() or "zookeeper" in (v or "").lower() for k, v in env.items()):
            problems.append(f"{name}: ZooKeeper setting")
        if not env.get("CLUSTER_ID"):
            problems.append(f"{name}: no CLUSTER_ID")
        cluster_ids.add(env.get("CLUSTER_ID"))
        node_ids.add(env.get("KAFKA_NODE_ID"))
        voters_seen.add(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"))
        if "CONTROLLER" not in env.get("KAFKA_CONTROLLER_LISTENER_NAMES", ""):
            problems.append(f"{name}: no controller listener name")
        if "CONTROLLER://" not in env.get("KAFKA_LISTENERS", ""):
            problems.append(f"{name}: no CONTROLLER listener")
        if listener_hostports(spec) != {f"{name}:9092"}:
            problems.append(f"{name}: advertises {listener_hostports(spec)}, expected {name}:9092")
        for key, want in (("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", rf),
                          ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", rf),
                          ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", min_isr),
                          ("KAFKA_DEFAULT_REPLICATION_FACTOR", rf),
                          ("KAFKA_MIN_INSYNC_REPLICAS", min_isr)):
            if env.get(key) != str(want):
                problems.append(f"{name}: {key}={env.get(key)}, expected {want}")
        hc = healthcheck_text(spec)
        if "kafka-topics.sh" not in hc and "kafka-broker-api-versions.sh" not in hc:
            problems.append(f"{name}: healthcheck does not ask the broker")
        mounts = [v for v in spec.get("volumes", []) if _volume_target(v) == env.get("KAFKA_LOG_DIRS")]
        if len(mounts) != 1:
            problems.append(f"{name}: KAFKA_LOG_DIRS {env.get('KAFKA_LOG_DIRS')} is not a mounted volume")
        else:
            source = mounts[0]["source"] if isinstance(mounts[0], dict) else mounts[0].split(":")[0]
            if source not in (model.get("volumes") or {}):
                problems.append(f"{name}: data volume {source!r} is not a named volume")
            volumes.append(source)
    if len(cluster_ids) != 1:
        problems.append(f"nodes disagree on CLUSTER_ID: {cluster_ids}")
    if node_ids != {str(i) for i in range(1, brokers + 1)}:
        problems.append(f"node ids {sorted(map(str, node_ids))}, expected 1..{brokers}")
    if len(voters_seen) != 1:
        problems.append(f"nodes disagree on the quorum voters: {voters_seen}")
    else:
        voters = {v.strip() for v in next(iter(voters_seen)).split(",")}
        expected = {f"{envs[name]['KAFKA_NODE_ID']}@{name}:9093" for name in nodes}
        if voters != expected:
            problems.append(f"quorum voters {sorted(voters)}, expected {sorted(expected)}")
    if len(set(volumes)) != len(volumes):
        problems.append(f"brokers share a data volume: {volumes}")
    for container in [*APP_CONTAINERS, "setup", TOOLBOX]:
        got = env_map(model["services"][container]).get("KAFKA_REPLICATION_FACTOR")
        if got != str(rf):
            problems.append(f"{container}: KAFKA_REPLICATION_FACTOR={got}, expected {rf}")
    return problems


def _mount(spec: dict, target: str):
    """(source, read_only) of the volume mounted at ``target``, or None."""
    for entry in spec.get("volumes") or []:
        if _volume_target(entry) == target:
            if isinstance(entry, dict):
                return entry.get("source"), bool(entry.get("read_only"))
            parts = entry.split(":")
            return parts[0], len(parts) > 2 and "ro" in parts[2].split(",")
    return None


def problems_anchors(model: dict) -> list[str]:
    """Every worker and the toolbox: one ANCHOR_KEY (not CHAIN_KEY), ANCHOR_DIR on one named
    volume of its own, writable, mounted in each of them, and a positive ANCHOR_INTERVAL_S, as
    shared/config.py reads them; nothing else holds the key."""
    from shared import config

    problems, keys, sources = [], set(), set()
    services = model["services"]
    database_volumes = {(_mount(services["postgres"], "/var/lib/postgresql/data") or ("?",))[0]}
    for container in [*WORKERS, TOOLBOX]:
        spec = services.get(container)
        if spec is None:
            problems.append(f"{container}: missing")
            continue
        env = env_map(spec)
        missing = [k for k in ANCHOR_ENV if not env.get(k)]
        if missing:
            problems.append(f"{container}: no {', '.join(missing)}")
            continue
        settings = config.load(APP_CONTAINERS.get(container, "registration"), env)
        if not settings.anchor_key or settings.anchor_key == settings.chain_key:
            problems.append(f"{container}: ANCHOR_KEY is empty or the CHAIN_KEY")
        if not settings.anchor_interval_s > 0:
            problems.append(f"{container}: ANCHOR_INTERVAL_S {settings.anchor_interval_s}")
        keys.add(settings.anchor_key)
        mount = _mount(spec, settings.anchor_dir)
        if not settings.anchor_dir.startswith("/") or mount is None:
            problems.append(f"{container}: ANCHOR_DIR {settings.anchor_dir} is not a mounted volume "
                            "(lost with the container)")
            continue
        source, read_only = mount
        if source not in (model.get("volumes") or {}):
            problems.append(f"{container}: ANCHOR_DIR on {source!r}, not a named volume")
        if source in database_volumes:
            problems.append(f"{container}: ANCHOR_DIR on the database's volume {source!r}")
        if read_only:
            problems.append(f"{container}: ANCHOR_DIR is read-only")
        sources.add(source)
    if len(keys) > 1:
        problems.append("workers disagree on ANCHOR_KEY")
    if len(sources) > 1:
        problems.append(f"the anchors are on several volumes {sorted(sources)}: `thidua verify` reads one")
    for name, spec in services.items():
        if name not in (*WORKERS, TOOLBOX) and "ANCHOR_KEY" in env_map(spec):
            problems.append(f"{name}: holds ANCHOR_KEY, which only the workers and the toolbox need")
    return problems


def problems_webhooks(model: dict) -> list[str]:
    """The notifications worker gets every setting of its webhook sender, and they load; both
    notifications processes get the webhooks' protection (the same key and networks; the web
    also the rotation's grace), and it loads; no other container gets any of them; the
    notifications web alone decides WEBHOOK_ALLOW_HTTP, off."""
    web, worker = (env_map(model["services"][f"notifications-{kind}"]) for kind in ("web", "worker"))
    problems = webhook_sender_problems("notifications-worker", worker)
    problems += webhook_protection_problems(("notifications-web", web), ("notifications-worker", worker))
    allowed = {"notifications-worker": {*webhook_settings(), *webhook_protection()["worker"]},
               "notifications-web": {"WEBHOOK_ALLOW_HTTP", *webhook_protection()["web"]}}
    for name, spec in model["services"].items():
        extra = [k for k in env_map(spec) if k.startswith("WEBHOOK_") and k not in allowed.get(name, ())]
        if extra:
            problems.append(f"{name}: has {', '.join(extra)}")
    if env_map(model["services"]["notifications-web"]).get("WEBHOOK_ALLOW_HTTP") == "1":
        problems.append("notifications-web: WEBHOOK_ALLOW_HTTP is on by default")
    return problems


def problems_gateway(model: dict) -> list[str]:
    """The web gateway: gunicorn ``web.app:serve()`` on :8000, published, healthy on GET
    /health, calling each service's web container on its port 8000 (after it is healthy), its
    session secret set, the services' upload limit; and no database, key or token secret."""
    from web import settings as web_settings

    services = model["services"]
    spec = services.get(GATEWAY)
    if spec is None:
        return [f"{GATEWAY}: missing"]
    problems = []
    cmd = spec.get("command") or []
    if not isinstance(cmd, list) or cmd[:1] != ["gunicorn"] or cmd[-1:] != ["web.app:serve()"] \
            or "0.0.0.0:8000" not in cmd or "python:shared.gunicorn_conf" not in cmd:
        problems.append(f"{GATEWAY}: command {cmd}")
    ports = spec.get("ports") or []
    if len(ports) != 1 or not str(ports[0]).endswith(":8000"):
        problems.append(f"{GATEWAY}: ports {ports}, expected one published port to 8000")
    health = healthcheck_text(spec)
    if "http://127.0.0.1:8000/health" not in health or "urllib" not in health:
        problems.append(f"{GATEWAY}: healthcheck does not GET /health")
    env = env_map(spec)
    settings = web_settings.load({k: v for k, v in env.items() if v is not None})
    for svc in SERVICES:
        url = urlsplit(settings.service_urls[svc])
        target = services.get(url.hostname or "")
        if f"{svc.upper()}_URL" not in env or url.hostname != f"{svc}-web" or url.port != 8000 \
                or target is None or "0.0.0.0:8000" not in (target.get("command") or []):
            problems.append(f"{GATEWAY}: {svc.upper()}_URL {settings.service_urls[svc]} is not {svc}-web's port 8000")
        if deps_map(spec).get(f"{svc}-web", {}).get("condition") != "service_healthy":
            problems.append(f"{GATEWAY}: needs {svc}-web with service_healthy")
    if not env.get("WEB_SESSION_SECRET"):
        problems.append(f"{GATEWAY}: no WEB_SESSION_SECRET (each gateway worker would sign its own cookies)")
    if "IDENTITY_URL" not in env:  # empty until OIDC_ISSUER or IDENTITY_URL is given: see the test
        problems.append(f"{GATEWAY}: no IDENTITY_URL (nobody could sign in)")
    limit = env_map(services["registration-web"]).get("DOCUMENTS_MAX_BYTES")
    if env.get("DOCUMENTS_MAX_BYTES") != limit:
        problems.append(f"{GATEWAY}: DOCUMENTS_MAX_BYTES {env.get('DOCUMENTS_MAX_BYTES')}, the services' {limit}")
    for key in env:
        if key.startswith(("DATABASE_URL", "POSTGRES_", "AWS_")) or key in ("JWT_SECRET", "CHAIN_KEY", "ANCHOR_KEY"):
            problems.append(f"{GATEWAY}: holds {key}; it has no database and signs no token")
    if spec.get("volumes"):
        problems.append(f"{GATEWAY}: mounts {spec['volumes']}; it keeps nothing")
    return problems

# --------------------------------------------------------------------------- #
# fixtures                                                                      #
# --------------------------------------------------------------------------- #

@pytest.fixture(scope="module")
def raw() -> dict:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def model(raw) -> dict:
    return resolve(raw, TEST_ENV)


@pytest.fixture(scope="module")
def raw3() -> dict:
    return load_yaml(KAFKA3)


@pytest.fixture(scope="module")
def model3(raw, raw3) -> dict:
    return resolve(merge_files(raw, raw3), TEST_ENV)


# --------------------------------------------------------------------------- #
# the interpolation helper itself                                              #
# --------------------------------------------------------------------------- #

def test_interpolation_follows_compose_rules():
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET:-d}|${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}|${UNSET-d}", env) == "v|d|d||d"
    assert interpolate("${X:--Xmx1g -Xms1g}", {}) == "-Xmx1g -Xms1g"
    assert interpolate("$$HOME $SET ${SET:+alt} ${UNSET:+alt}", env) == "$HOME v alt "
    assert interpolate("${A:-${SET}}", env) == "v"
    with pytest.raises(MissingVariable):
        interpolate("${UNSET:?must be set}", env)
    with pytest.raises(ValueError):
        interpolate("price $5", env)


# --------------------------------------------------------------------------- #
# docker-compose.yml                                                            #
# --------------------------------------------------------------------------- #

def test_compose_has_exactly_the_expected_services(model):
    assert set(model["services"]) == {"kafka", "postgres", "setup", *APP_CONTAINERS, GATEWAY, TOOLBOX}


def test_each_app_container_uses_only_its_own_database(raw, model):
    assert problems_isolation(raw, model) == []


def test_isolation_check_catches_a_leak(raw, model):
    leaky = copy.deepcopy(model)
    leaky["services"]["registration-web"]["environment"]["DATABASE_URL"] = \
        env_map(model["services"]["awards-worker"])["DATABASE_URL"]
    problems = problems_isolation(raw, leaky)
    assert any("registration-web" in p and "user" in p for p in problems)
    assert any("registration-web" in p and "'awards'" in p for p in problems)

    extra = copy.deepcopy(model)
    extra["services"]["evaluation-worker"]["environment"]["DATABASE_URL_NOTIFICATIONS"] = "x"
    assert any("evaluation-worker" in p for p in problems_isolation(raw, extra))


def test_database_passwords_flow_from_env_to_urls_and_postgres(raw):
    env = {**TEST_ENV, **{f"{s.upper()}_DB_PASSWORD": f"pw-{i}-{s[::-1]}" for i, s in enumerate(SERVICES)}}
    resolved = resolve(raw, env)
    assert problems_isolation(raw, resolved) == []
    for container, svc in APP_CONTAINERS.items():
        url = env_map(resolved["services"][container])["DATABASE_URL"]
        assert db_url(url)[2] == env[f"{svc.upper()}_DB_PASSWORD"], container
    setup_env = env_map(resolved["services"]["setup"])
    for svc in SERVICES:
        assert db_url(setup_env[f"DATABASE_URL_{svc.upper()}"])[2] == env[f"{svc.upper()}_DB_PASSWORD"]


def test_app_containers_share_the_common_env(raw, model):
    anchors = [k for k in raw if k.startswith("x-")]
    assert anchors, "no x- extension fields (shared anchors)"
    first = env_map(model["services"]["registration-web"])
    for container in APP_CONTAINERS:
        env = env_map(model["services"][container])
        own = {"registration-worker": ANCHOR_ENV, "evaluation-worker": ANCHOR_ENV, "awards-worker": ANCHOR_ENV,
               "notifications-worker": (*ANCHOR_ENV, *webhook_settings(), *webhook_protection()["worker"]),
               "notifications-web": ("WEBHOOK_ALLOW_HTTP", *webhook_protection()["web"])}.get(container, ())
        assert set(env) == {*COMMON_ENV, "DATABASE_URL", "THIDUA_SERVICE", *own}, container
        assert env["THIDUA_SERVICE"] == APP_CONTAINERS[container], container
        for key in COMMON_ENV:
            assert env[key] == first[key], (container, key)
    setup_env = env_map(model["services"]["setup"])
    for key in COMMON_ENV:
        assert setup_env[key] == first[key], key


def test_configuration_comes_from_the_environment(raw, model):
    env = env_map(raw["services"]["registration-web"])
    for key in ("TOPIC_PREFIX", "TOPIC_PARTITIONS", "KAFKA_REPLICATION_FACTOR",
                "KAFKA_MAX_POLL_INTERVAL_MS", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE"):
        assert re.fullmatch(r"\$\{" + key + r"(:?[-?].*)?\}", env[key]), (key, env[key])
    # the secrets have no default: without them, compose refuses to start
    assert re.fullmatch(r"\$\{JWT_SECRET:\?.+\}", env["JWT_SECRET"])
    assert re.fullmatch(r"\$\{CHAIN_KEY:\?.+\}", env["CHAIN_KEY"])
    assert re.fullmatch(r"\$\{KEYSTORE_MASTER_KEY:\?.+\}", env["KEYSTORE_MASTER_KEY"])
    assert re.fullmatch(r"\$\{ANCHOR_KEY:\?.+\}", env_map(raw["services"]["awards-worker"])["ANCHOR_KEY"])
    assert re.fullmatch(r"\$\{WEB_SESSION_SECRET:\?.+\}", env_map(raw["services"][GATEWAY])["WEB_SESSION_SECRET"])
    for kind in ("web", "worker"):
        assert re.fullmatch(r"\$\{WEBHOOK_SECRETS_KEY:\?.+\}",
                            env_map(raw["services"][f"notifications-{kind}"])["WEBHOOK_SECRETS_KEY"]), kind
    with pytest.raises(MissingVariable):
        resolve(raw, {})
    for secret in TEST_ENV:  # each one alone stops compose
        with pytest.raises(MissingVariable, match=secret):
            resolve(raw, {k: v for k, v in TEST_ENV.items() if k != secret})
    custom = resolve(raw, {**TEST_ENV, "TOPIC_PREFIX": "tinh", "KAFKA_MAX_POLL_INTERVAL_MS": "5000"})
    for container in APP_CONTAINERS:
        assert env_map(custom["services"][container])["TOPIC_PREFIX"] == "tinh"
        assert env_map(custom["services"][container])["KAFKA_MAX_POLL_INTERVAL_MS"] == "5000"
    defaults = env_map(model["services"]["registration-web"])
    assert len(defaults["JWT_SECRET"]) >= 16
    assert int(defaults["TOPIC_PARTITIONS"]) >= 1 and int(defaults["KAFKA_MAX_POLL_INTERVAL_MS"]) > 0


def test_web_and_worker_commands(model):
    for svc in SERVICES:
        web = model["services"][f"{svc}-web"]
        command = web["command"]
        assert isinstance(command, list), "exec form, so no shell mangles the app spec"
        assert command[0] == "gunicorn"
        assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
        assert int(command[command.index("--workers") + 1]) >= 1
        assert command[-1] == f"services.{svc}.app:create_app()"
        worker = model["services"][f"{svc}-worker"]
        assert worker["command"] == ["python", "-m", f"services.{svc}.worker"]
        assert "ports" not in worker and "healthcheck" not in worker


def test_every_web_has_a_ready_healthcheck_and_its_port(model):
    for svc in SERVICES:
        web = model["services"][f"{svc}-web"]
        test = (web.get("healthcheck") or {}).get("test")
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), svc
        assert "urllib" in " ".join(test) and "http://127.0.0.1:8000/ready" in " ".join(test), svc
        if test[0] == "CMD":
            assert test[1] == "python" and test[2] == "-c"
            compile(test[3], f"{svc}-web healthcheck", "exec")  # the one-liner is valid Python
        assert web["ports"] == [f"{WEB_PORTS[svc]}:8000"], svc


def test_web_healthcheck_fails_on_an_unready_service(model):
    """Run the one-liner against a port where nothing listens: it must exit non-zero."""
    import socket
    import sys

    test = model["services"]["registration-web"]["healthcheck"]["test"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{free}")
    assert code != test[3]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert result.returncode != 0


def test_infrastructure_healthchecks(model):
    kafka = healthcheck_text(model["services"]["kafka"])
    assert "kafka-topics.sh" in kafka and "--list" in kafka and "localhost:9092" in kafka
    postgres = healthcheck_text(model["services"]["postgres"])
    assert "pg_isready" in postgres


def test_depends_on_uses_conditions(model):
    assert problems_depends_on(model) == []


def test_depends_on_check_catches_a_missing_condition(model):
    broken = copy.deepcopy(model)
    broken["services"]["awards-web"]["depends_on"] = ["kafka", "postgres", "setup"]
    problems = problems_depends_on(broken)
    assert any(p.startswith("awards-web -> setup") for p in problems)
    assert "awards-web: needs setup with service_completed_successfully" in problems


def test_setup_job(model):
    setup = model["services"]["setup"]
    assert setup["command"] in (["thidua", "setup"], "thidua setup")
    assert str(setup.get("restart", "no")) == "no"
    assert "ports" not in setup and "healthcheck" not in setup
    env = env_map(setup)
    assert env["SETUP_SERVICES"].split(",") == list(SERVICES)
    assert "DATABASE_URL" not in env
    for svc in SERVICES:
        scheme, user, _pw, host, port, database = db_url(env[f"DATABASE_URL_{svc.upper()}"])
        assert (user, database, host, port) == (svc, svc, "postgres", 5432), svc
    assert setup["image"] == model["services"]["registration-web"]["image"]


def test_one_image_for_every_app_process(model):
    images = {model["services"][c]["image"] for c in [*APP_CONTAINERS, "setup", GATEWAY, TOOLBOX]}
    assert len(images) == 1
    for container in [*APP_CONTAINERS, "setup", GATEWAY, TOOLBOX]:
        build = model["services"][container].get("build")
        if build:
            assert (ROOT / build.get("context", ".") / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
        assert "entrypoint" not in model["services"][container]


def test_every_app_container_bootstraps_from_the_kafka_service(model):
    assert problems_bootstrap(model) == []
    broken = copy.deepcopy(model)
    broken["services"]["notifications-worker"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9092"
    assert any(p.startswith("notifications-worker:") for p in problems_bootstrap(broken))


def test_single_broker_kraft(model):
    assert problems_kafka_cluster(model, brokers=1) == []
    assert "zookeeper" not in json.dumps(model).lower()


def test_kafka_check_catches_wrong_replication(model):
    broken = copy.deepcopy(model)
    broken["services"]["kafka"]["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] = "3"
    broken["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] = "broker"
    problems = problems_kafka_cluster(broken, brokers=1)
    assert any("OFFSETS_TOPIC_REPLICATION_FACTOR" in p for p in problems)
    assert any("process.roles" in p for p in problems)


def test_postgres_service(model):
    pg = model["services"]["postgres"]
    assert re.fullmatch(r"postgres:16([.-].*)?", pg["image"]), pg["image"]
    mounts = {_volume_target(v): (v if isinstance(v, str) else v["source"]) for v in pg["volumes"]}
    data = mounts["/var/lib/postgresql/data"].split(":")[0]
    assert data in model["volumes"], "postgres data on a named volume"
    init = [src for target, src in mounts.items() if target.startswith("/docker-entrypoint-initdb.d/")]
    assert len(init) == 1 and init[0].split(":")[0] in ("./deploy/postgres/init.sh", "deploy/postgres/init.sh")
    assert init[0].endswith(":ro")
    env = env_map(pg)
    for svc in DATABASES:
        assert env.get(f"{svc.upper()}_DB_PASSWORD"), svc


# --------------------------------------------------------------------------- #
# the anchors, the webhook sender, the web gateway, the toolbox                 #
# --------------------------------------------------------------------------- #

def test_workers_and_toolbox_publish_anchors_on_a_persistent_volume(model):
    assert problems_anchors(model) == []


def test_anchor_check_catches_a_worker_without_them(model):
    broken = copy.deepcopy(model)
    del broken["services"]["evaluation-worker"]["environment"]["ANCHOR_KEY"]
    broken["services"]["awards-worker"]["volumes"] = []
    broken["services"]["notifications-worker"]["volumes"] = ["postgres-data:/var/lib/thidua/anchors"]
    broken["services"]["registration-web"]["environment"]["ANCHOR_KEY"] = TEST_ENV["ANCHOR_KEY"]
    problems = problems_anchors(broken)
    assert any(p.startswith("evaluation-worker: no ANCHOR_KEY") for p in problems), problems
    assert any(p.startswith("awards-worker: ANCHOR_DIR") and "lost with the container" in p for p in problems)
    assert any(p.startswith("notifications-worker: ANCHOR_DIR on the database's volume") for p in problems)
    assert any(p.startswith("registration-web: holds ANCHOR_KEY") for p in problems)


def test_anchor_check_catches_the_chain_key_and_a_second_volume(model):
    broken = copy.deepcopy(model)
    broken["services"]["registration-worker"]["environment"]["ANCHOR_KEY"] = TEST_ENV["CHAIN_KEY"]
    broken["services"]["toolbox"]["volumes"] = ["other:/var/lib/thidua/anchors:ro"]
    broken["volumes"]["other"] = None
    problems = problems_anchors(broken)
    assert "registration-worker: ANCHOR_KEY is empty or the CHAIN_KEY" in problems
    assert "toolbox: ANCHOR_DIR is read-only" in problems
    assert any("several volumes" in p for p in problems) and "workers disagree on ANCHOR_KEY" in problems


def test_the_notifications_worker_has_the_webhook_sender_settings(model):
    assert problems_webhooks(model) == []
    from services.notifications.webhook_sender import SenderSettings
    env = env_map(model["services"]["notifications-worker"])
    loaded = SenderSettings.from_env(env)
    assert loaded.box.keyed  # compose's WEBHOOK_SECRETS_KEY opens the sealed secrets
    # compose's defaults are the code's (a SecretBox has no equality: the key is checked above)
    assert dataclasses.replace(loaded, box=SenderSettings.box) == SenderSettings()
    tuned = env_map(resolve(load_yaml(COMPOSE), {**TEST_ENV, "WEBHOOK_MAX_ATTEMPTS": "3"})["services"][
        "notifications-worker"])
    assert SenderSettings.from_env(tuned).max_attempts == 3


def test_webhook_check_catches_a_missing_or_misplaced_setting(model):
    broken = copy.deepcopy(model)
    del broken["services"]["notifications-worker"]["environment"]["WEBHOOK_READ_TIMEOUT_S"]
    broken["services"]["awards-worker"]["environment"]["WEBHOOK_CONCURRENCY"] = "4"
    broken["services"]["notifications-web"]["environment"]["WEBHOOK_ALLOW_HTTP"] = "1"
    problems = problems_webhooks(broken)
    assert "notifications-worker: no WEBHOOK_READ_TIMEOUT_S" in problems
    assert "awards-worker: has WEBHOOK_CONCURRENCY" in problems
    assert "notifications-web: WEBHOOK_ALLOW_HTTP is on by default" in problems
    broken["services"]["notifications-worker"]["environment"]["WEBHOOK_BACKOFF_S"] = "soon"
    assert any("do not load" in p for p in problems_webhooks(broken))


def test_both_notifications_processes_have_the_webhook_protection(model):
    web, worker = (env_map(model["services"][f"notifications-{kind}"]) for kind in ("web", "worker"))
    assert web["WEBHOOK_SECRETS_KEY"] == worker["WEBHOOK_SECRETS_KEY"] == TEST_ENV["WEBHOOK_SECRETS_KEY"]
    from services.notifications.webhook_net import NetworkPolicy
    from services.notifications.webhooks import grace
    assert NetworkPolicy.from_env(worker) == NetworkPolicy.from_env(web) == NetworkPolicy()  # public only
    assert grace(web) == grace({})  # compose's default is the code's
    opened = resolve(load_yaml(COMPOSE), {**TEST_ENV, "WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16"})
    assert {env_map(opened["services"][f"notifications-{kind}"])["WEBHOOK_ALLOWED_NETWORKS"]
            for kind in ("web", "worker")} == {"10.20.0.0/16"}


def test_webhook_protection_check_catches_a_missing_open_or_disagreeing_setting(model):
    broken = copy.deepcopy(model)
    web = broken["services"]["notifications-web"]["environment"]
    worker = broken["services"]["notifications-worker"]["environment"]
    del web["WEBHOOK_SECRET_GRACE_S"]
    worker["WEBHOOK_SECRETS_KEY"] = ""
    worker["WEBHOOK_ALLOW_PRIVATE"] = "1"
    broken["services"]["registration-worker"]["environment"]["WEBHOOK_SECRETS_KEY"] = TEST_ENV["WEBHOOK_SECRETS_KEY"]
    problems = problems_webhooks(broken)
    assert "notifications-web: no WEBHOOK_SECRET_GRACE_S" in problems, problems
    assert any(p.startswith("notifications-worker: WEBHOOK_SECRETS_KEY is empty") for p in problems), problems
    assert any(p.startswith("notifications-worker: WEBHOOK_ALLOW_PRIVATE is on") for p in problems), problems
    assert "notifications-web and notifications-worker disagree on WEBHOOK_SECRETS_KEY" in problems
    assert "notifications-web and notifications-worker disagree on WEBHOOK_ALLOW_PRIVATE" in problems
    assert "registration-worker: has WEBHOOK_SECRETS_KEY" in problems
    web["WEBHOOK_SECRET_GRACE_S"] = "a day"
    web["WEBHOOK_ALLOWED_NETWORKS"] = "10.0.0.0/33"
    problems = problems_webhooks(broken)
    assert any(p.startswith("notifications-web: webhook protection settings do not load") for p in problems)
    assert "notifications-web and notifications-worker disagree on WEBHOOK_ALLOWED_NETWORKS" in problems


def test_the_web_gateway_is_a_deployable_process(model):
    assert problems_gateway(model) == []
    web = model["services"][GATEWAY]
    assert "profiles" not in web and web["restart"] == "unless-stopped"
    assert "kafka" not in deps_map(web) and "setup" not in deps_map(web), "it needs only the services' APIs"
    assert env_map(web)["WEB_SESSION_SECRET"] == TEST_ENV["WEB_SESSION_SECRET"]
    assert web["ports"] == ["8080:8000"]
    test = web["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "web healthcheck", "exec")


def test_gateway_check_catches_a_broken_gateway(model):
    broken = copy.deepcopy(model)
    web = broken["services"][GATEWAY]
    web["command"][-1] = "services.registration.app:create_app()"
    web["environment"]["AWARDS_URL"] = "http://awards-worker:8000"
    del web["environment"]["WEB_SESSION_SECRET"]
    web["environment"]["DOCUMENTS_MAX_BYTES"] = "1"
    web["environment"]["JWT_SECRET"] = TEST_ENV["JWT_SECRET"]
    web["healthcheck"]["test"][3] = web["healthcheck"]["test"][3].replace("/health", "/metrics")
    del web["depends_on"]["evaluation-web"]
    problems = problems_gateway(broken)
    assert len(problems) == 7, problems
    assert any("AWARDS_URL" in p for p in problems) and any("evaluation-web" in p for p in problems)
    del broken["services"][GATEWAY]
    assert problems_gateway(broken) == ["web: missing"]


def test_gateway_healthcheck_fails_where_nothing_answers(model):
    import socket
    import sys

    test = model["services"][GATEWAY]["healthcheck"]["test"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    code = test[3].replace("127.0.0.1:8000", f"127.0.0.1:{free}")
    assert code != test[3]
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode != 0


def test_gateway_command_and_env_pass_its_own_healthcheck(model, tmp_path):
    """The compose command, with compose's environment, under real gunicorn: the healthcheck's
    one-liner (pointed at the port it got) exits 0 once it is up."""
    import os
    import socket
    import sys
    import time

    web = model["services"][GATEWAY]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", *web["command"]]
    cmd[cmd.index("--bind") + 1] = f"127.0.0.1:{port}"
    cmd[cmd.index("--workers") + 1] = "1"
    check = web["healthcheck"]["test"][3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {**os.environ, **env_map(web), "PYTHONPATH": str(ROOT)}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline, ok = time.monotonic() + 60, False
            while not ok and time.monotonic() < deadline and proc.poll() is None:
                ok = subprocess.run([sys.executable, "-c", check], capture_output=True, timeout=30).returncode == 0
                time.sleep(0 if ok else 0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert ok, (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]

def test_gateway_signs_in_at_the_issuer_the_services_trust(raw):
    sso = "https://sso.example.vn/realms/vinhlong"
    trusted = resolve(raw, {**TEST_ENV, "OIDC_ISSUER": sso})
    assert env_map(trusted["services"][GATEWAY])["IDENTITY_URL"] == sso
    assert env_map(trusted["services"]["registration-web"])["OIDC_ISSUER"] == sso
    own = resolve(raw, {**TEST_ENV, "OIDC_ISSUER": sso, "IDENTITY_URL": "https://dangnhap.example.vn"})
    assert env_map(own["services"][GATEWAY])["IDENTITY_URL"] == "https://dangnhap.example.vn"


def test_toolbox_holds_every_database_and_the_anchors(model):
    box = model["services"][TOOLBOX]
    assert box["profiles"] == ["ops"], "started only by `docker compose run`, never by `up`"
    assert "ports" not in box and "healthcheck" not in box and str(box["restart"]) == "no"
    env = env_map(box)
    assert "DATABASE_URL" not in env
    for svc in SERVICES:
        _scheme, user, _pw, host, _port, database = db_url(env[f"DATABASE_URL_{svc.upper()}"])
        assert (user, database, host) == (svc, svc, "postgres"), svc
    assert env["CHAIN_KEY"] == TEST_ENV["CHAIN_KEY"] and env["ANCHOR_KEY"] == TEST_ENV["ANCHOR_KEY"]
    for key in COMMON_ENV:
        assert env[key] == env_map(model["services"]["setup"])[key], key


# --------------------------------------------------------------------------- #
# deploy/postgres/init.sh                                                       #
# --------------------------------------------------------------------------- #

_CALL = re.compile(r'^create_service_db\s+(\S+)\s+"\$\{(\w+)(?::-([^}]*))?\}"\s*$', re.M)


def test_init_script_creates_exactly_the_four_databases_and_users_and_the_key_stores(model):
    text = INIT_SH.read_text(encoding="utf-8")
    calls = _CALL.findall(text)
    assert sorted(name for name, _var, _default in calls) == sorted(DATABASES)
    assert len(re.findall(r"^create_service_db\s", text, re.M)) == 5, "no other call"
    pg_env = env_map(model["services"]["postgres"])
    raw_pg_env = env_map(load_yaml(COMPOSE)["services"]["postgres"])
    for name, var, default in calls:
        assert var == f"{name.upper()}_DB_PASSWORD"
        assert var in pg_env, f"postgres does not receive {var}"
        assert raw_pg_env[var] == f"${{{var}:-{default}}}", f"{var}: default differs from the compose file"
    # the function body: one role and one database owned by it, closed to others
    body = text[text.index("create_service_db() {"):]
    body = body[:body.index("\n}\n")]
    assert len(re.findall(r"CREATE ROLE", text)) == 1 and 'CREATE ROLE :"name" LOGIN PASSWORD' in body
    assert len(re.findall(r"CREATE DATABASE", text)) == 1 and 'CREATE DATABASE :"name" OWNER :"name"' in body
    assert 'REVOKE ALL ON DATABASE :"name" FROM PUBLIC' in body
    assert "SUPERUSER" not in text.upper().replace("NOSUPERUSER", "")


def test_init_script_is_valid_bash():
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed to check the init script (and to run .ci/run)"
    result = subprocess.run([bash, "-n", str(INIT_SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert INIT_SH.read_text(encoding="utf-8").startswith("#!")


# --------------------------------------------------------------------------- #
# deploy/Dockerfile and .dockerignore                                          #
# --------------------------------------------------------------------------- #

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_runs_as_non_root():
    assert DOCKERFILE.is_file()
    instructions = dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim"
    final = instructions[max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM"):]
    users = [rest for kw, rest in final if kw == "USER"]
    assert users, "the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0", ""), user
    # the user is created in the image (or is a bare numeric id)
    runs = " ".join(rest for kw, rest in final if kw == "RUN")
    assert user.isdigit() or re.search(r"\buseradd\b.*\b" + re.escape(user) + r"\b", runs)


def test_dockerfile_installs_the_project_and_has_no_entrypoint():
    instructions = dockerfile_instructions()
    runs = [rest for kw, rest in instructions if kw == "RUN"]
    pip_runs = [r for r in runs if re.search(r"\bpip install\b", r)]
    assert pip_runs and all("--no-cache-dir" in r for r in pip_runs)
    copied = " ".join(rest for kw, rest in instructions if kw == "COPY")
    for needed in ("pyproject.toml", "shared", "services", "identity"):  # shared.cli imports identity
        assert needed in copied, needed
    assert not [kw for kw, _ in instructions if kw == "ENTRYPOINT"]
    cmd = " ".join(rest for kw, rest in instructions if kw == "CMD")
    assert "gunicorn" not in cmd and "services." not in cmd, "compose supplies the process command"


def test_dockerfile_ships_the_gateway_its_fonts_and_the_anchors_folder(model):
    instructions = dockerfile_instructions()
    copied = [rest.split() for kw, rest in instructions if kw == "COPY"]
    assert any(parts[0] == "web" for parts in copied), "the image has no web/: the gateway cannot start"
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    from web import render_pdf
    assert "fonts-dejavu-core" in runs and str(render_pdf.FONT_DIR).startswith("/usr/share/fonts/truetype/dejavu")
    # the volume mounted at ANCHOR_DIR takes the image folder's owner: it must exist, the user's
    anchor_dir = env_map(model["services"]["awards-worker"])["ANCHOR_DIR"]
    assert re.search(r"mkdir -p [^&]*(?<!\S)" + re.escape(anchor_dir) + r"(?!\S)", runs), anchor_dir
    assert re.search(r"chown -R thidua:thidua [^&]*(?<!\S)" + re.escape(str(Path(anchor_dir).parent)) + r"(?!\S)",
                     runs)


def test_the_installed_package_carries_every_page_template_and_static_file(tmp_path):
    """The image installs the project (not an editable checkout): setuptools' build of it must
    hold every file of web/templates and web/static, or a page fails with TemplateNotFound."""
    import sys

    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "data", "node_modules", "__pycache__",
                                                             "tests", "docs", "bench", "*.db"))
    out = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                          "-d", str(tmp_path / "build")], cwd=src, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    wanted = {str(f.relative_to(ROOT)) for folder in ("web/templates", "web/static")
              for f in (ROOT / folder).rglob("*") if f.is_file()}
    built = {str(f.relative_to(tmp_path / "build")) for f in (tmp_path / "build" / "web").rglob("*") if f.is_file()}
    assert wanted and wanted <= built, sorted(wanted - built)

def test_dockerignore_keeps_local_state_out():
    entries = {line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert ".venv" in entries and "data" in entries and ".git" in entries
    assert entries & {"__pycache__", "**/__pycache__"}


# --------------------------------------------------------------------------- #
# docker-compose.kafka3.yml                                                     #
# --------------------------------------------------------------------------- #

def test_override_adds_only_brokers(raw, raw3):
    added = set(raw3["services"]) - set(raw["services"])
    assert added == {"kafka-2", "kafka-3"}


def test_three_brokers_with_replication_three(model3):
    assert problems_kafka_cluster(model3, brokers=3) == []
    assert "zookeeper" not in json.dumps(model3).lower()


def test_three_broker_stack_keeps_every_other_invariant(raw, model3):
    assert problems_isolation(raw, model3) == []
    assert problems_depends_on(model3) == []
    assert problems_bootstrap(model3) == []
    assert set(model3["services"]) == {"kafka", "kafka-2", "kafka-3", "postgres", "setup", *APP_CONTAINERS,
                                       GATEWAY, TOOLBOX}
    assert problems_anchors(model3) == [] and problems_gateway(model3) == []


def test_three_broker_nodes_share_the_broker_config(model, model3):
    """kafka-2/3 are spelled out in the override: they must not drift from node 1."""
    node_specific = {"KAFKA_NODE_ID", "KAFKA_ADVERTISED_LISTENERS"}
    one = env_map(model3["services"]["kafka"])
    for name in ("kafka-2", "kafka-3"):
        other = env_map(model3["services"][name])
        assert set(other) == set(one), name
        for key in set(one) - node_specific:
            assert other[key] == one[key], (name, key)
        assert model3["services"][name]["image"] == model["services"]["kafka"]["image"]
        assert model3["services"][name]["healthcheck"] == model["services"]["kafka"]["healthcheck"]


def test_three_broker_check_catches_a_single_broker_setting(model3):
    broken = copy.deepcopy(model3)
    broken["services"]["kafka-3"]["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] = "1"
    broken["services"]["kafka-2"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] = "2@kafka-2:9093"
    problems = problems_kafka_cluster(broken, brokers=3)
    assert any("kafka-3: KAFKA_MIN_INSYNC_REPLICAS" in p for p in problems)
    assert any("quorum voters" in p for p in problems)
