"""The HTTP load driver: a few client processes, each with a pool of keep-alive threads.

One process cannot drive gunicorn hard enough (the GIL serialises its threads), so
the work is split over ``processes`` processes started with *spawn*; each runs
``threads`` threads, each with its own ``http.client`` connection (keep-alive).

* closed loop (``rate`` None): every thread posts its next request as soon as the
  previous one answered;
* open loop (``rate`` given): request ``i`` is due at ``start_at + i / rate`` whatever
  happened before, so a slow server does not slow the arrivals (no coordinated
  omission); a thread waits until its request is due.

Every request yields ``(index, due, sent, answered, status, id)`` with wall-clock
times (``time.time()``), so that they can be compared with timestamps the services
write into their databases on the same machine. ``max_s`` bounds a run: requests not
sent within it are skipped and come back with status -1 (a slow system must not make
the benchmark run for ever).
"""
from __future__ import annotations

import http.client
import json
import os
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PLEDGES = [
    {"content": "Hoàn thành xuất sắc nhiệm vụ năm học; 100% học sinh lớp chủ nhiệm đạt hạnh kiểm tốt",
     "start": "2025-09-05", "end": "2026-05-31"},
    {"content": "Đạt danh hiệu Lao động tiên tiến; có sáng kiến kinh nghiệm được công nhận cấp tỉnh",
     "start": "2025-09-05", "end": "2026-05-31"},
]


def registration_body(prefix: str, i: int) -> bytes:
    return json.dumps({
        "participant": {"participant_id": f"{prefix}-{i}", "kind": "individual",
                        "individual_kind": "teacher", "name": f"Nguyễn Thị Giáo Viên {i}",
                        "unit": "Trường THPT Nguyễn Đình Chiểu, Bến Tre"},
        "pledges": PLEDGES}, ensure_ascii=False).encode()


@dataclass
class Job:
    host: str
    port: int
    path: str
    token: str
    prefix: str
    indices: list[int]
    threads: int
    start_at: float               # wall clock: when request 0 is due
    rate: float | None = None     # requests/s of the whole run (all processes)
    stop_at: float | None = None  # wall clock: requests not sent by then are skipped (status -1)
    timeout_s: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)


def _thread(job: Job, todo: "queue.Queue[int]", out: list) -> None:
    conn = http.client.HTTPConnection(job.host, job.port, timeout=job.timeout_s)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {job.token}",
               "Connection": "keep-alive"}
    while True:
        try:
            i = todo.get_nowait()
        except queue.Empty:
            break
        body = registration_body(job.prefix, i)
        due = job.start_at + (i / job.rate if job.rate else 0.0)
        if job.stop_at is not None and max(due, time.time()) > job.stop_at:
            out.append((i, due, None, None, -1, None))  # the time budget ran out: not sent
            continue
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        sent = time.time()
        status, rid = 0, None
        try:
            conn.request("POST", job.path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            if status in (200, 201):
                rid = json.loads(data).get("id")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()  # not retried: a retry could register twice
            conn = http.client.HTTPConnection(job.host, job.port, timeout=job.timeout_s)
        out.append((i, due, sent, time.time(), status, rid))
    conn.close()


def run_job(job: Job) -> list[tuple]:
    todo: queue.Queue[int] = queue.Queue()
    for i in job.indices:
        todo.put(i)
    out: list[tuple] = []
    threads = [threading.Thread(target=_thread, args=(job, todo, out)) for _ in range(job.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _process_main(job: Job, results: "multiprocessing.Queue") -> None:
    try:
        out = run_job(job)
        t = os.times()
        results.put(("ok", out, t.user + t.system))
    except BaseException as exc:  # the parent must hear of it rather than wait forever
        results.put(("error", repr(exc)))


class Load:
    """``processes`` client processes sharing ``n`` requests; results come via a queue."""

    def __init__(self, url: str, path: str, token: str, n: int, processes: int, threads: int,
                 prefix: str, rate: float | None = None, first_index: int = 0, lead_s: float = 1.5,
                 max_s: float | None = None):
        host, port = url.removeprefix("http://").split(":")
        self.ctx = multiprocessing.get_context("spawn")
        self.queue = self.ctx.Queue()
        self.start_at = time.time() + lead_s  # time for the spawned interpreters to import
        indices = list(range(first_index, first_index + n))
        # request i is due at start_at + (i - first_index)/rate: shift so the first is due at start_at
        stop_at = time.time() + lead_s + max_s if max_s else None
        if rate:
            self.start_at -= first_index / rate
        self.jobs = [Job(host, int(port), path, token, prefix, indices[p::processes], threads,
                         self.start_at, rate, stop_at) for p in range(processes)]
        self.procs = [self.ctx.Process(target=_process_main, args=(job, self.queue), daemon=True)
                      for job in self.jobs]
        self.results: list[tuple] = []
        self.errors: list[str] = []
        self.cpu_s = 0.0  # user+system seconds of the client processes (they exit before a snapshot)
        self._collector = threading.Thread(target=self._collect, daemon=True)

    def start(self) -> "Load":
        for p in self.procs:
            p.start()
        self._collector.start()
        return self

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.procs if p.pid}

    def _collect(self) -> None:
        for _ in self.procs:
            kind, payload, *cpu = self.queue.get()
            if kind == "ok":
                self.results.extend(payload)
                self.cpu_s += cpu[0]
            else:
                self.errors.append(payload)

    def done(self) -> bool:
        return not self._collector.is_alive()

    def wait(self, timeout_s: float | None = None) -> list[tuple]:
        self._collector.join(timeout_s)
        if self._collector.is_alive():
            raise TimeoutError("the client processes did not finish")
        for p in self.procs:
            p.join(5)
        if self.errors:
            raise RuntimeError(f"client process failed: {self.errors[0]}")
        return self.results

    def stop(self) -> None:
        for p in self.procs:
            if p.is_alive():
                p.terminate()
            p.join(5)
