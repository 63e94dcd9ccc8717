"""The HTTP load driver: a few client processes, each driving a pool of keep-alive sockets.

Every request the client handles costs CPU that the system under test does not get
(this machine has two cores), so the client is kept cheap:

* each of the ``processes`` processes is a fresh interpreter that imports this module
  only (``python -c``, not multiprocessing's *spawn*, which would also import the
  caller's ``__main__`` -- ``bench.run`` and all it pulls in);
* in each process one thread runs a ``selectors`` loop over ``threads`` non-blocking
  keep-alive connections (the name is kept from the thread-per-connection driver this
  replaced): a request (a fixed head, a body templated on the index) goes out in one
  ``send``, and the answer is parsed just enough to find its end (status line,
  Content-Length or chunked, the Connection header) and the ``id`` of a 200/201 JSON
  answer.

* closed loop (``rate`` None): every connection posts its next request as soon as the
  previous one answered;
* open loop (``rate`` given): request ``i`` is due at ``start_at + i / rate`` whatever
  happened before, so a slow server does not slow the arrivals (no coordinated
  omission): a due request goes out on the next free connection, never before it is
  due (and up to about a millisecond after, the selector's timeout resolution); it
  waits longer only when all ``threads`` connections of its process are busy.

Every request yields ``(index, due, sent, answered, status, id)`` with wall-clock
times (``time.time()``), so that they can be compared with timestamps the services
write into their databases on the same machine. A request that failed on the socket
(refused, reset, closed before the whole answer, no answer within ``timeout_s``)
has status 0 and is not retried -- a retry could register twice; its connection is
closed and the next request opens a new one (as it does for an idle connection the
server dropped, e.g. at its keep-alive timeout). ``max_s`` bounds a run: requests not
sent within it are skipped and come back with status -1 (a slow system must not make
the benchmark run for ever).
"""
from __future__ import annotations

import collections
import errno
import json
import os
import pickle
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds the ``bench`` package

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
    threads: int                  # concurrent keep-alive connections of this process
    start_at: float               # wall clock: when request 0 is due
    rate: float | None = None     # requests/s of the whole run (all processes)
    stop_at: float | None = None  # wall clock: requests not sent by then are skipped (status -1)
    timeout_s: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)


# -- parsing an answer ------------------------------------------------------------------------
def _parse_answer(buf: bytearray, eof: bool) -> tuple[int, bytes, bool] | None:
    """``(status, body, close)`` once ``buf`` holds a whole answer, else None.

    ``close``: the server will close the connection (or has). Raises ValueError on
    an answer that is not HTTP.
    """
    start = 0
    while True:
        end = buf.find(b"\r\n\r\n", start)
        if end < 0:
            return None
        head = bytes(buf[start:end]).lower()
        version, status = head.partition(b"\r\n")[0].split(b" ", 2)[:2]  # b"http/1.1", b"201"
        status = int(status)
        body_at = end + 4
        if not 100 <= status < 200:
            break
        start = body_at  # an interim answer (100 Continue): the real one follows
    connection = _header(head, b"\r\nconnection:")
    close = b"close" in connection or (version == b"http/1.0" and b"keep-alive" not in connection)
    if status in (204, 304):
        return status, b"", close
    if b"chunked" in _header(head, b"\r\ntransfer-encoding:"):
        body = _dechunk(buf, body_at)
        return None if body is None else (status, body, close)
    length = _header(head, b"\r\ncontent-length:")
    if length:
        stop = body_at + int(length)
        return None if len(buf) < stop else (status, bytes(buf[body_at:stop]), close)
    # neither length nor chunks: the body ends when the server closes the connection
    return (status, bytes(buf[body_at:]), True) if eof else None


def _header(head: bytes, key: bytes) -> bytes:
    """The value after ``key`` (``b"\\r\\nname:"``) in the lower-cased header block, b"" if absent.

    Three searches rather than a dict of every header: this runs once per answer.
    """
    at = head.find(key)
    if at < 0:
        return b""
    at += len(key)
    eol = head.find(b"\r\n", at)
    return head[at:eol if eol >= 0 else len(head)].strip()


def _dechunk(buf: bytearray, pos: int) -> bytes | None:
    """The body of a chunked answer starting at ``pos``, or None while it is incomplete."""
    parts = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:  # the last chunk; then optional trailer lines and an empty line
            done = buf.startswith(b"\r\n", pos) or buf.find(b"\r\n\r\n", pos) >= 0
            return b"".join(parts) if done else None
        if len(buf) < pos + size + 2:
            return None
        parts.append(bytes(buf[pos:pos + size]))
        pos += size + 2


def _answer_id(body: bytes) -> Any:
    try:
        answer = orjson.loads(body)  # a quarter of json.loads' time on these ~900 B answers
    except orjson.JSONDecodeError:
        return None
    return answer.get("id") if isinstance(answer, dict) else None


# -- the engine of one process ----------------------------------------------------------------
def _body_maker(prefix: str) -> Callable[[int], bytes]:
    """``registration_body(prefix, ·)`` without a ``json.dumps`` per request.

    The body differs between requests only by the digits of the index, so it is cut once
    around a marker index and the digits are joined back in: 0.15 µs instead of 6 µs, and
    json.dumps was a good part of the client's CPU. Checked against the real thing.
    """
    marker = 8642097531864209753
    parts = registration_body(prefix, marker).split(str(marker).encode())

    def body(i: int) -> bytes:
        return str(i).encode().join(parts)

    if all(body(i) == registration_body(prefix, i) for i in (0, 7, -12, 10**6 + 1)):
        return body
    return lambda i: registration_body(prefix, i)  # the marker's digits occur in the prefix


class _Conn:
    """One keep-alive connection and the request it carries (``index`` None: idle)."""
    __slots__ = ("sock", "events", "out", "buf", "index", "due", "sent")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None  # None: (re)connect on the next request
        self.events = 0                         # what the selector watches for
        self.out = b""                          # request bytes not sent yet
        self.buf = bytearray()                  # answer bytes received so far
        self.index: int | None = None
        self.due = 0.0
        self.sent = 0.0


class _Engine:
    """Runs one :class:`Job`: a ``selectors`` loop over ``job.threads`` connections."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.head = (f"POST {job.path} HTTP/1.1\r\nHost: {job.host}:{job.port}\r\n"
                     "Accept-Encoding: identity\r\nConnection: keep-alive\r\n"
                     "Content-Type: application/json\r\n"
                     f"Authorization: Bearer {job.token}\r\n").encode()
        self.body = _body_maker(job.prefix)
        self.address: tuple | None = None  # resolved on the first connect
        self.pending = collections.deque(sorted(job.indices))
        self.conns = [_Conn() for _ in range(max(1, job.threads))]
        self.idle = collections.deque(self.conns)  # FIFO: every connection stays warm, as with threads
        self.busy = 0
        self.selector = selectors.DefaultSelector()
        self.parent = os.getppid()
        self.out: list[tuple] = []

    def run(self) -> list[tuple]:
        next_check = 0.0
        try:
            while self.pending or self.busy:
                now = time.time()
                if now >= next_check:  # once a second is enough for timeouts
                    self._expire(now)
                    next_check = now + 1.0
                self._dispatch(now)
                if not (self.pending or self.busy):
                    break
                for key, mask in self.selector.select(self._wait(now, next_check)):
                    self._on_event(key.data, key.fileobj, mask)
        finally:
            for conn in self.conns:
                if conn.sock is not None:
                    self._close(conn)
            self.selector.close()
        return self.out

    def _due(self, i: int) -> float:
        return self.job.start_at + (i / self.job.rate if self.job.rate else 0.0)

    def _dispatch(self, now: float) -> None:
        """Skip what the time budget no longer allows; send what is due on free connections."""
        stop_at = self.job.stop_at
        while self.pending:
            i = self.pending[0]
            due = self._due(i)
            if stop_at is not None and max(due, now) > stop_at:
                self.pending.popleft()
                self.out.append((i, due, None, None, -1, None))  # the time budget ran out: not sent
                continue
            if due > now or not self.idle:
                return
            self.pending.popleft()
            self._send_request(self.idle.popleft(), i, due)

    def _wait(self, now: float, next_check: float) -> float:
        """How long the selector may sleep: until the next due request, the budget, a check."""
        wait = next_check - now
        if self.pending:
            if self.idle:
                wait = min(wait, self._due(self.pending[0]) - now)
            if self.job.stop_at is not None:
                wait = min(wait, self.job.stop_at - now)
        # epoll rounds up to the ms (so a due request may leave up to ~1 ms late); a wake-up
        # before the due time would only loop again: _dispatch never sends early
        return max(wait, 0.0)

    def _send_request(self, conn: _Conn, i: int, due: float) -> None:
        body = self.body(i)
        conn.out = self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        conn.buf.clear()
        conn.index, conn.due, conn.sent = i, due, time.time()
        self.busy += 1
        if conn.sock is None:
            try:
                self._connect(conn)
            except OSError:
                self._fail(conn)
                return
        self._write(conn)

    def _connect(self, conn: _Conn) -> None:
        if self.address is None:
            self.address = socket.getaddrinfo(self.job.host, self.job.port, type=socket.SOCK_STREAM)[0]
        family, kind, proto, _, address = self.address
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(address)
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            raise OSError(err, os.strerror(err))
        # The request is written when the socket turns writable (connected); a refused
        # connection shows as an error on that send or on the read.
        conn.sock = sock
        conn.events = selectors.EVENT_READ
        self.selector.register(sock, conn.events, conn)

    def _watch(self, conn: _Conn, events: int) -> None:
        if conn.events != events:  # one epoll_ctl only when it changes (rare: a partial send)
            self.selector.modify(conn.sock, events, conn)
            conn.events = events

    def _on_event(self, conn: _Conn, sock: socket.socket, mask: int) -> None:
        if mask & selectors.EVENT_WRITE and conn.out:
            self._write(conn)
        if mask & selectors.EVENT_READ and conn.sock is sock:  # not closed by a failed write
            self._read(conn)

    def _write(self, conn: _Conn) -> None:
        try:
            n = conn.sock.send(conn.out)
        except BlockingIOError:  # still connecting, or the socket buffer is full
            n = 0
        except OSError:
            self._fail(conn)
            return
        conn.out = conn.out[n:]
        self._watch(conn, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0))

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = None
        if conn.index is None:  # idle: the server closed it (keep-alive timeout) or spoke unasked
            self._close(conn)
            return
        if data is None:
            self._fail(conn)
            return
        conn.buf += data
        try:
            answer = _parse_answer(conn.buf, eof=not data)
        except ValueError:  # not HTTP: give up on this request and its connection
            self._fail(conn)
            return
        if answer is None:
            if not data:  # closed before a whole answer
                self._fail(conn)
            return
        status, body, close = answer
        unsent = bool(conn.out)  # answered before the whole request went out
        self._finish(conn, status, _answer_id(body) if status in (200, 201) else None)
        if close or unsent or not data:
            self._close(conn)

    def _finish(self, conn: _Conn, status: int, rid: Any) -> None:
        self.out.append((conn.index, conn.due, conn.sent, time.time(), status, rid))
        conn.index = None
        self.busy -= 1
        self.idle.append(conn)

    def _fail(self, conn: _Conn) -> None:
        """Status 0, not retried (a retry could register twice); the next request reconnects."""
        self._finish(conn, 0, None)
        if conn.sock is not None:
            self._close(conn)

    def _close(self, conn: _Conn) -> None:
        self.selector.unregister(conn.sock)
        conn.sock.close()
        conn.sock, conn.events, conn.out = None, 0, b""
        conn.buf.clear()

    def _expire(self, now: float) -> None:
        if os.getppid() != self.parent:  # the parent is gone: nobody will read the results
            os._exit(1)
        for conn in self.conns:
            if conn.index is not None and now - conn.sent > self.job.timeout_s:
                self._fail(conn)


def run_job(job: Job) -> list[tuple]:
    return _Engine(job).run()


def _child_main() -> None:
    """A client process: a pickled Job on stdin, a pickled ("ok", results, cpu_s) or
    ("error", text) on stdout."""
    results = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the pickle
    job = pickle.load(sys.stdin.buffer)
    try:
        out = run_job(job)
        t = os.times()  # the whole process, its start-up included
        message = ("ok", out, t.user + t.system)
    except BaseException as exc:  # the parent must hear of it rather than wait forever
        message = ("error", repr(exc))
    pickle.dump(message, results)
    results.flush()


class Load:
    """``processes`` client processes sharing ``n`` requests; results come back on pipes."""

    def __init__(self, url: str, path: str, token: str, n: int, processes: int, threads: int,
                 prefix: str, rate: float | None = None, first_index: int = 0, lead_s: float = 1.5,
                 max_s: float | None = None):
        host, port = url.removeprefix("http://").split(":")
        self.start_at = time.time() + lead_s  # time for the new interpreters to start
        indices = list(range(first_index, first_index + n))
        # request i is due at start_at + (i - first_index)/rate: shift so the first is due at start_at
        stop_at = time.time() + lead_s + max_s if max_s else None
        if rate:
            self.start_at -= first_index / rate
        self.jobs = [Job(host, int(port), path, token, prefix, indices[p::processes], threads,
                         self.start_at, rate, stop_at) for p in range(processes)]
        self.procs: list[subprocess.Popen] = []
        self.results: list[tuple] = []
        self.errors: list[str] = []
        self.cpu_s = 0.0  # user+system seconds of the client processes (they exit before a snapshot)
        self._collector = threading.Thread(target=self._collect, daemon=True)

    def start(self) -> "Load":
        for _ in self.jobs:  # cwd: where ``bench`` is importable from
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", "from bench.client import _child_main; _child_main()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT))
        for proc, job in zip(self.procs, self.jobs):
            try:
                proc.stdin.write(pickle.dumps(job))
                proc.stdin.close()
            except OSError:
                pass  # it died at start-up: the collector reports it
        self._collector.start()
        return self

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.procs}

    def _collect(self) -> None:
        for proc in self.procs:
            data = proc.stdout.read()
            proc.stdout.close()
            code = proc.wait()  # reaped: gone from /proc before the caller's next snapshot
            try:
                kind, payload, *cpu = pickle.loads(data)
            except Exception:
                self.errors.append(f"client process {proc.pid} exited with code {code} and no results")
                continue
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
        if self.errors:
            raise RuntimeError(f"client process failed: {self.errors[0]}")
        return self.results

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._collector.join(5)
