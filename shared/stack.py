"""The whole system on one machine: Tansu, the identity provider and four services under gunicorn, their workers.

``make run`` runs ``python -m shared.stack``; the end-to-end tests and the
benchmark start the same :class:`Stack`. Every child process gets its settings
through the environment, exactly as in production. The embedded issuer (``identity/``)
stands in for a province's identity provider: every service accepts its tokens
(``OIDC_*``) beside the HS256 tokens of the stack's secret.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.broker import TansuBroker, free_port

SERVICES = ("registration", "evaluation", "awards", "notifications")
DEFAULT_PORTS = {"registration": 8001, "evaluation": 8002, "awards": 8003, "notifications": 8004}
IDENTITY_PORT = 8000
WEB_PORT = 8080  # the web pages (web/): what a person opens in a browser
WORKER_METRICS_PORTS = {"registration": 9101, "evaluation": 9102, "awards": 9103, "notifications": 9104}


def service_spec(name: str):
    import importlib
    return importlib.import_module(f"services.{name}.service").SPEC


def local_secret(data_dir: Path, name: str = "jwt_secret") -> str:
    """The embedded default's keys: made once per data folder, kept beside the data."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Stack:
    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    broker_port: int = 9092
    identity_port: int = IDENTITY_PORT
    web_port: int = WEB_PORT
    web_workers: int = 2
    web_threads: int = 4
    database_urls: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    worker_metrics_ports: dict[str, int] = field(default_factory=dict)  # none: workers serve no metrics
    # Tests only: every process reads the time from <data_dir>/clock (shared.clock.FileClock),
    # moved by set_clock; without it the stack runs on the real clock.
    test_clock: bool = False
    broker: TansuBroker | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, data_dir: Path, **kw) -> "Stack":
        return cls(data_dir, ports={s: free_port() for s in SERVICES}, broker_port=free_port(),
                   identity_port=free_port(), web_port=free_port(), **kw)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def identity_url(self) -> str:
        """The embedded issuer: its URL is every token's ``iss``."""
        return f"http://127.0.0.1:{self.identity_port}"

    @property
    def web_url(self) -> str:
        """The web pages, signed in at the embedded issuer."""
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def identity_database_url(self) -> str:
        return f"sqlite:///{self.data_dir}/identity.db"

    @property
    def secret(self) -> str:
        return local_secret(self.data_dir)

    def env(self, service: str) -> dict[str, str]:
        env = {**os.environ, "JWT_SECRET": self.secret, "DATA_DIR": str(self.data_dir),
               "CHAIN_KEY": local_secret(self.data_dir, "chain_key"),
               "ANCHOR_KEY": local_secret(self.data_dir, "anchor_key"),
               "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap if self.broker else
               f"127.0.0.1:{self.broker_port}",
               "KAFKA_MAX_POLL_INTERVAL_MS": "3000", "PYTHONUNBUFFERED": "1",
               "OIDC_ISSUER": self.identity_url, "OIDC_AUDIENCE": "thidua",
               "OIDC_REVOCATION_URL": f"{self.identity_url}/oauth/revoked",
               "IDENTITY_ISSUER": self.identity_url, "IDENTITY_DATABASE_URL": self.identity_database_url,
               **self.extra_env}
        if service == "web":  # the gateway holds no key of the chains (it could forge them) nor of the digests
            env.pop("CHAIN_KEY"), env.pop("ANCHOR_KEY")
        env["DATABASE_URL"] = self.database_urls.get(service, f"sqlite:///{self.data_dir}/{service}.db")
        env["THIDUA_SERVICE"] = service  # names the service on gunicorn's own log lines
        if self.test_clock:
            env["TEST_CLOCK_FILE"] = str(self.data_dir / "clock")
        return env

    def set_clock(self, when: str) -> None:
        """Move every process's clock (a stack started with ``test_clock=True``)."""
        if not self.test_clock:
            raise RuntimeError("this stack runs on the real clock")
        path = self.data_dir / "clock"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(when)
        tmp.replace(path)

    # -- lifecycle ----------------------------------------------------------------
    def start(self, timeout_s: float = 60.0) -> "Stack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.broker = TansuBroker(self.broker_port, self.data_dir / "logs" / "broker.log").start()
        try:
            self.setup()
            self.start_identity()
            for service in SERVICES:
                self.start_web(service)
                self.start_worker(service)
            self.start_pages()
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()  # a stack that did not come up leaves no process behind
            raise
        return self

    def setup(self) -> None:
        """Migrate every service's database before any process starts (`thidua setup`)."""
        subprocess.run([sys.executable, "-m", "shared.cli", "setup", "--no-topics"],
                       env={**self.env("registration"), "SETUP_SERVICES": ",".join(SERVICES),
                            **{f"DATABASE_URL_{s.upper()}": self.env(s)["DATABASE_URL"] for s in SERVICES}},
                       check=True, stdout=subprocess.DEVNULL)

    def start_identity(self) -> subprocess.Popen:
        """The issuer, its directory and first key made here, before its gunicorn workers race to."""
        from identity import settings as identity_settings
        from identity.directory import Directory
        from identity.keys import KeyRing
        settings = identity_settings.load(self.env("identity"))
        Directory(settings.database_url).create()
        KeyRing.load_or_create(settings.keys_file)
        return self._spawn("identity-web", [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.identity_port}",
            "--workers", "2", "--worker-class", "gthread", "--threads", "2", "--graceful-timeout", "5",
            "--no-control-socket", "identity.app:create_app()"], "identity")

    def seed_demo(self) -> None:
        """The demo province (identity/demo.py): its people and clients in the issuer's directory,
        its units in registration. Idempotent."""
        from identity import demo
        from identity.directory import Directory
        from shared import auth
        demo.seed_directory(Directory(self.identity_database_url))
        demo.seed_units(self.url("registration"),
                        auth.mint(self.secret, "demo-seed", "department", [demo.PROVINCE], 300))

    def _spawn(self, name: str, args: list[str], service: str,
               extra: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.data_dir / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env={**self.env(service), **(extra or {})}, stdout=log,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes[name] = proc
        return proc

    def start_web(self, service: str) -> subprocess.Popen:
        return self._spawn(f"{service}-web", [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[service]}",
            "--workers", str(self.web_workers), "--worker-class", "gthread", "--threads", str(self.web_threads),
            "-c", "python:shared.gunicorn_conf", "--graceful-timeout", "5",
            "--no-control-socket",  # four masters on one machine would fight over ~/.gunicorn/gunicorn.ctl
            f"services.{service}.app:create_app()"],
            service, {"PROMETHEUS_MULTIPROC_DIR": str(self.data_dir / "metrics" / service)})

    def start_pages(self) -> subprocess.Popen:
        """The web gateway (pages and report downloads) over the services' public URLs; its
        session secret kept beside the data, so a restart keeps people signed in."""
        return self._spawn("web", [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "5",
            "--no-control-socket", "web.app:serve()"], "web",
            {**{f"{s.upper()}_URL": self.url(s) for s in SERVICES}, "IDENTITY_URL": self.identity_url,
             "WEB_SESSION_SECRET": local_secret(self.data_dir, "web_session_secret")})

    def start_worker(self, service: str) -> subprocess.Popen:
        port = self.worker_metrics_ports.get(service)
        return self._spawn(f"{service}-worker", [sys.executable, "-m", f"services.{service}.worker"],
                           service, {"WORKER_METRICS_PORT": str(port)} if port else {})

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(15)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        urls = {"identity": self.identity_url, "web": self.web_url}
        for service in ("identity", *SERVICES, *(["web"] if "web" in self.processes else [])):
            url = urls.get(service) or self.url(service)
            while True:
                try:
                    if requests.get(url + "/ready", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                dead = [n for n, p in self.processes.items() if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"{service} not ready (exited: {dead}); see {self.data_dir}/logs")
                time.sleep(0.2)

    def stop(self, grace_s: float = 10.0) -> None:
        """Services first (they may still publish), the broker last; SIGKILL after the grace."""
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes.clear()
        if self.broker:
            self.broker.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def banner(stack: Stack) -> str:
    """What ``make run`` prints once the stack is up: every address (the web pages first) and the
    demo people with their passwords."""
    from identity import demo
    lines: list[str] = []
    lines.append("Hệ thống thi đua, khen thưởng đang chạy (the system is running):")
    lines.append(f"  broker (Tansu)  {stack.broker.bootstrap}")
    lines.append(f"  web (trang web) {stack.web_url}   (mở trong trình duyệt / open in a browser)")
    lines.append(f"  identity        {stack.identity_url}   (sign in: POST /oauth/token; keys: /.well-known/jwks.json)")
    for service in SERVICES:
        lines.append(f"  {service:<14}  {stack.url(service)}   (OpenAPI: {stack.url(service)}/openapi.json)")
    lines.append(f"  metrics         {stack.url('registration')}/metrics (each service); workers on ports "
                 f"{', '.join(str(p) for p in WORKER_METRICS_PORTS.values())}")
    lines.append(f"  data and logs   {stack.data_dir}")
    lines.append(f"Tỉnh mẫu Vĩnh Long (86), demo users (sign in at {stack.web_url}/dang-nhap, or with curl, "
                 f"README «Signing in»):\n{demo.table()}")
    lines.append(f"  a token:        curl -s {stack.identity_url}/oauth/token -d grant_type=password "
                 f"-d client_id={demo.SIGN_IN_CLIENT} -d username=hung.nv -d password=hung.nv-86")
    lines.append("  (operators:     .venv/bin/thidua token --role department --province 86)")
    return "\n".join(lines)


def main() -> None:
    data_dir = Path(os.environ.get("DATA_DIR", "data")).resolve()
    stack = Stack(data_dir, web_workers=int(os.environ.get("WEB_WORKERS", "2")),
                  web_threads=int(os.environ.get("WEB_THREADS", "4")),
                  worker_metrics_ports=dict(WORKER_METRICS_PORTS))
    stop = {"now": False}
    for sig in (signal.SIGTERM, signal.SIGINT):  # SIGINT explicitly: a background job ignores it
        signal.signal(sig, lambda *_: stop.update(now=True))
    try:
        stack.start()
        stack.seed_demo()
        print(banner(stack), flush=True)
        print("Ctrl-C stops every process.", flush=True)
        while not stop["now"]:
            dead = [n for n, p in stack.processes.items() if p.poll() is not None]
            if dead:
                print(f"stopped unexpectedly: {dead}; see {data_dir}/logs", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("\nstopping...", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
