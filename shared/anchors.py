"""Chain heads anchored outside the store, and the store-wide check ``thidua verify``.

The hash chain proves each stream's order and content, but not that a stream is whole or
still there: someone who can write to the database can cut a stream's last events, delete
a stream, or empty the store, and every chain left still verifies. Two anchors name that:

* ``stream_heads`` (:mod:`shared.eventstore`): each stream's last version and hash, written
  in the append's transaction. It names a stream cut short, or deleted while its head row
  stays; it costs one small row write per append (``bench/append_cost.py``).
* **a signed digest** of all the heads, published periodically by each service's worker
  (``ANCHOR_INTERVAL_S``) and by ``thidua anchor``, to a file outside the database
  (``ANCHOR_DIR``, by default ``<DATA_DIR>/anchors``; in production a volume the database's
  users cannot write, or a copy shipped elsewhere), signed with HMAC-SHA-256 under
  ``ANCHOR_KEY``, a key that is not in the store. A stream the digest anchored must still be
  there, at least as long, with the same hash at the anchored version: removing a whole
  stream together with its head row, rewriting a stream's history, or truncating the store is
  named, and a digest edited to match is refused by its signature.

What happened after the last digest is anchored only by the heads table; publishing often
narrows that window (publishing reads the heads table only, in one read transaction).
A legitimate restore to an older backup is reported as cut-short streams until the
operator publishes a new digest (``thidua anchor``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path

from sqlalchemy import Connection, func, select

from shared.eventstore import events, stream_heads, verify_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a store: ``kind`` names what was done (for scripts), ``message``
    says where, in Vietnamese with the English in parentheses."""
    service: str
    kind: str
    message: str

    def as_json(self) -> dict:
        return {"service": self.service, "kind": self.kind, "message": self.message}


# The kinds a finding has, as the report names them.
KINDS = {
    "edited": "SỬA NỘI DUNG (edited)",
    "row_removed": "XÓA / CHÈN / ĐẢO SỰ KIỆN (row removed, inserted or reordered)",
    "invalid": "KHÔNG CÒN LÀ SỰ KIỆN (not a valid event)",
    "cut_short": "CẮT CỤT LUỒNG (stream cut short)",
    "stream_deleted": "XÓA LUỒNG (stream deleted)",
    "store_truncated": "XÓA SẠCH KHO (store truncated)",
    "rewritten": "VIẾT LẠI LỊCH SỬ (history rewritten)",
    "head_missing": "THIẾU ĐẦU CHUỖI (head missing)",
    "digest_invalid": "BẢN TÓM TẮT KHÔNG HỢP LỆ (digest forged or damaged)",
    "digest_missing": "THIẾU BẢN TÓM TẮT (digest missing)",
}


def _kind_of(problem: str) -> str:
    """The kind of a problem :func:`shared.eventstore.verify_rows` words."""
    if "(edited)" in problem:
        return "edited"
    if "(not a valid event)" in problem or "(stored id differs)" in problem:
        return "invalid"
    return "row_removed"


# -- the digest ---------------------------------------------------------------------------------
def digest_path(folder: str | Path, service: str) -> Path:
    return Path(folder) / f"{service}.anchor.json"


def _mac(key: bytes, body: dict) -> str:
    return hmac.new(key, json.dumps(body, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256).hexdigest()


def make_digest(conn: Connection, service: str, key: bytes) -> dict:
    """Every stream's head, the store's event count, and the signature over them."""
    heads = [[s, v, h] for s, v, h in conn.execute(select(stream_heads.c.stream_id, stream_heads.c.version,
                                                          stream_heads.c.hash).order_by(stream_heads.c.stream_id))]
    body = {"service": service, "time": datetime.now(timezone.utc).isoformat(),
            "events": conn.execute(select(func.count()).select_from(events)).scalar_one(), "heads": heads}
    return {**body, "mac": _mac(key, body)}


def publish(db, service: str, key: bytes, folder: str | Path) -> Path:
    """Write the service's digest (atomically: a reader sees the old one or the new one)."""
    if not key:
        raise ValueError("ANCHOR_KEY is not set: a digest must be signed with a key outside the store")
    with db.read() as conn:
        digest = make_digest(conn, service, key)
    path = digest_path(folder, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
    part.write_text(json.dumps(digest, separators=(",", ":")))
    part.replace(path)
    return path


def read_digest(folder: str | Path, service: str, key: bytes) -> tuple[dict | None, Finding | None]:
    """The service's last digest if its signature holds; else None and why."""
    path = digest_path(folder, service)
    if not path.exists():
        return None, None
    try:
        digest = json.loads(path.read_text())
        body = {k: v for k, v in digest.items() if k != "mac"}
        good = hmac.compare_digest(_mac(key, body), str(digest.get("mac", ""))) and body.get("service") == service
    except (ValueError, AttributeError):
        good = False
    if not good:
        return None, Finding(service, "digest_invalid", f"bản tóm tắt {path} không khớp chữ ký ANCHOR_KEY — đã bị "
                             "sửa, giả mạo hoặc hỏng (digest forged or damaged); không dùng được để đối chiếu")
    return digest, None


def loop(db, service: str, key: bytes, folder: str | Path, every_s: float):
    """The worker's loop that publishes the digest at start and every ``every_s`` seconds."""
    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                publish(db, service, key, folder)
            except Exception:
                log.exception("publishing the %s digest failed; trying again", service)
            stop.wait(every_s)
    run.__name__ = "anchor"
    return run


# -- the store-wide check -----------------------------------------------------------------------
def verify_store(conn: Connection, service: str, chain_key: bytes = b"", digest: dict | None = None
                 ) -> tuple[list[Finding], dict]:
    """Every chain of every stream of the store, held to its head row and to ``digest`` (the last
    signed one, if any); returns the findings and the counts checked."""
    findings: list[Finding] = []
    heads = {s: (v, h) for s, v, h in conn.execute(select(stream_heads.c.stream_id, stream_heads.c.version,
                                                          stream_heads.c.hash))}
    anchored = {s: (v, h) for s, v, h in (digest or {}).get("heads", [])}
    last: dict[str, tuple[int, str]] = {}
    counted = 0
    rows = conn.execution_options(yield_per=2000).execute(
        select(events.c.event_id, events.c.stream_id, events.c.version, events.c.position, events.c.body,
               events.c.prev_hash, events.c.hash).order_by(events.c.stream_id, events.c.position)).mappings()
    for stream, chain in groupby(rows, key=lambda r: r["stream_id"]):
        chain = list(chain)
        counted += len(chain)
        findings += [Finding(service, _kind_of(p), p) for p in verify_rows(stream, chain, chain_key)]
        last[stream] = (chain[-1]["version"], chain[-1]["hash"])
        if stream in anchored:
            version, hash_ = anchored[stream]
            at = next((r["hash"] for r in chain if r["version"] == version), None)
            if at is not None and at != hash_:
                findings.append(Finding(service, "rewritten", f"luồng {stream}: sự kiện phiên bản {version} khác "
                                        "bản đã neo trong bản tóm tắt — lịch sử đã bị viết lại (history rewritten)"))
    by_heads = _against_heads(service, heads, last)
    findings += by_heads
    if not any(f.kind == "store_truncated" for f in by_heads):  # what the heads named is not named twice
        flagged = {s for s, head in heads.items() if last.get(s) != head}
        findings += _against_digest(service, {s: a for s, a in anchored.items() if s not in flagged}, last,
                                    digest, counted)
    return findings, {"service": service, "streams": len(last), "events": counted, "heads": len(heads),
                      "anchored": len(anchored), "digest_time": (digest or {}).get("time")}


def _against_heads(service: str, heads: dict, last: dict) -> list[Finding]:
    found = []
    if heads and not last:
        return [Finding(service, "store_truncated", f"kho không còn sự kiện nào nhưng bảng đầu chuỗi còn {len(heads)} "
                        "luồng — toàn bộ sự kiện đã bị xóa (store truncated)")]
    for stream, (version, hash_) in heads.items():
        if stream not in last:
            found.append(Finding(service, "stream_deleted", f"luồng {stream} đã bị xóa: đầu chuỗi ghi phiên bản "
                                 f"{version} nhưng kho không còn sự kiện nào của luồng (stream deleted)"))
        elif last[stream][0] < version:
            found.append(Finding(service, "cut_short", f"luồng {stream} dừng ở phiên bản {last[stream][0]} nhưng đầu "
                                 f"chuỗi ghi phiên bản {version} — các sự kiện cuối đã bị xóa (stream cut short)"))
        elif last[stream] != (version, hash_):
            found.append(Finding(service, "rewritten", f"luồng {stream}: sự kiện cuối (phiên bản {last[stream][0]}) "
                                 f"không khớp đầu chuỗi (phiên bản {version}) — đã bị thay hoặc thêm ngoài kho "
                                 "(history rewritten)"))
    for stream in last.keys() - heads.keys():
        found.append(Finding(service, "head_missing", f"luồng {stream} không có đầu chuỗi — luồng được chèn vào "
                             "ngoài kho, hoặc đầu chuỗi của nó đã bị xóa (head missing)"))
    return found


def _against_digest(service: str, anchored: dict, last: dict, digest: dict | None, counted: int) -> list[Finding]:
    if not anchored:
        return []
    when = digest["time"]
    missing = [s for s in anchored if s not in last]
    if not last:
        return [Finding(service, "store_truncated", f"không còn luồng nào trong {len(anchored)} luồng "
                        f"({digest['events']} sự kiện) đã neo trong bản tóm tắt lúc {when}; kho còn {counted} sự kiện "
                        "— kho đã bị xóa sạch hoặc cắt cụt (store truncated)")]
    found = [Finding(service, "stream_deleted", f"luồng {s} (phiên bản {anchored[s][0]}, neo lúc {when}) không còn "
                     "trong kho, cùng với đầu chuỗi của nó — luồng đã bị xóa (stream deleted)")
             for s in missing]
    for stream, (version, _) in anchored.items():
        if stream in last and last[stream][0] < version:
            found.append(Finding(service, "cut_short", f"luồng {stream} dừng ở phiên bản {last[stream][0]} nhưng bản "
                                 f"tóm tắt lúc {when} đã neo phiên bản {version} (stream cut short)"))
    return found
