"""Where the people's data keys are kept: a port, two adapters, and the in-process cache.

The **contract** (held by tests/contract/test_keystore_contract.py against every adapter):

* ``data_key(province, person, create=True)`` gives the person's data key, the same one in
  every process that asks, making it on first use (two processes making it at once get one
  key); with ``create=False`` it gives None for a person who has none.
* ``destroy(province, person)`` destroys the key for good and leaves a tombstone: afterwards
  ``data_key`` raises :class:`KeyErased` for that person, ``create`` or not, in every process
  (a later event about the person cannot start a fresh key and bring their data back).
  It answers whether a key was destroyed just now (False: there was none, or it was already).
* ``state(province, person)``: ``"absent"``, ``"active"`` or ``"erased"``.

A key belongs to a person *in a province*: a department erases the people of its own province,
and a person who also appears in another province is erased there by that province.

Adapters: :class:`SqlKeyStore`, a table ``person_keys`` in a database of its own that every
service reaches (``KEYSTORE_URL``; a SQLite file in the data folder by default, PostgreSQL in
production), and :class:`FileKeyStore`, one file per person in a directory (a mounted secrets
volume). Both keep data keys wrapped by the master key (:class:`shared.privacy.crypto.MasterKey`),
which is not in the store.
"""
from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import orjson
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, bindparam, event, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.schema import CreateTable

from shared.db import Database, DriverStatement
from shared.privacy.crypto import MasterKey, new_key


class KeyErased(Exception):
    """The person's key was destroyed: their data reads as erased."""


class KeyStore(Protocol):
    def data_key(self, province: str, person: str, create: bool = True) -> bytes | None: ...

    def destroy(self, province: str, person: str) -> bool: ...

    def state(self, province: str, person: str) -> str: ...


metadata = MetaData()
person_keys = Table(
    "person_keys", metadata,
    Column("province", String(16), primary_key=True),
    Column("person_id", String(200), primary_key=True),
    Column("kek_id", String(100), nullable=False),  # which master key wrapped it
    Column("wrapped", LargeBinary, nullable=True),  # NULL once destroyed: the tombstone
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)


class SqlKeyStore:
    """The default: a table in the key store's database. Its schema is its own (one table, made
    when missing): the key store is not any service's database and has no migration history.
    On SQLite, ``secure_delete`` overwrites a destroyed key's bytes in the file."""

    def __init__(self, url: str, master: MasterKey):
        self.db, self.master = Database(url), master
        if self.db.is_sqlite:
            event.listen(self.db.writer, "connect", _secure_delete)
        self._create_table()

    def _create_table(self, tries: int = 3) -> None:
        # every process of every service opens the store and may be the first: IF NOT EXISTS, and
        # once more should PostgreSQL's catalogue race two creators all the same
        for attempt in range(tries):
            try:
                with self.db.write() as conn:
                    conn.execute(CreateTable(person_keys, if_not_exists=True))
                return
            except DBAPIError:
                if attempt == tries - 1:
                    raise
                time.sleep(0.05)

    def _row(self, conn, province: str, person: str):
        rows = _SELECT.rows(conn, {"province": province, "person": person})
        return rows[0] if rows else None

    def _key(self, province: str, person: str, row) -> bytes:
        wrapped, erased_at = row
        if erased_at is not None:
            raise KeyErased(person)
        return self.master.unwrap(province, person, bytes(wrapped))

    def data_key(self, province: str, person: str, create: bool = True) -> bytes | None:
        with self.db.read() as conn:
            row = self._row(conn, province, person)
        if row is not None:
            return self._key(province, person, row)
        if not create:
            return None
        key = new_key()
        try:
            with self.db.write() as conn:
                _INSERT.execute(conn, [{"province": province, "person_id": person, "kek_id": self.master.id,
                                        "wrapped": self.master.wrap(province, person, key), "created_at": _now()}])
            return key
        except IntegrityError:  # another process made it first: that one is the key
            with self.db.read() as conn:
                return self._key(province, person, self._row(conn, province, person))

    def destroy(self, province: str, person: str) -> bool:
        with self.db.write() as conn:
            row = self._row(conn, province, person)
            if row is None:  # a tombstone all the same: nothing about the person is sealed again
                conn.execute(person_keys.insert(), {"province": province, "person_id": person,
                                                    "kek_id": self.master.id, "wrapped": None,
                                                    "created_at": _now(), "erased_at": _now()})
                return False
            if row[1] is not None:
                return False
            conn.execute(update(person_keys).where(person_keys.c.province == province,
                                                   person_keys.c.person_id == person)
                         .values(wrapped=None, erased_at=_now()))
            return True

    def state(self, province: str, person: str) -> str:
        with self.db.read() as conn:
            row = self._row(conn, province, person)
        return "absent" if row is None else "erased" if row[1] is not None else "active"

    def dispose(self) -> None:
        self.db.dispose()


# a key is asked for with every new person's first event: straight on the driver (shared.db)
_SELECT = DriverStatement(select(person_keys.c.wrapped, person_keys.c.erased_at).where(
    person_keys.c.province == bindparam("province"), person_keys.c.person_id == bindparam("person")))
_INSERT = DriverStatement.insert(person_keys, ("province", "person_id", "kek_id", "wrapped", "created_at"))


def _secure_delete(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA secure_delete=ON")


class FileKeyStore:
    """One file per person (``<dir>/<province>/<sha256 of the id>.key``): for keys kept on a
    mounted secrets volume apart from every database. A key file is made complete beside its
    place and linked into it, so two processes making it at once keep the first; destroying it
    replaces it by a tombstone file, and the old file's blocks are overwritten before it goes."""

    def __init__(self, directory: str | Path, master: MasterKey):
        self.dir, self.master = Path(directory), master
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, province: str, person: str) -> Path:
        return self.dir / province / (hashlib.sha256(person.encode()).hexdigest() + ".key")

    def _read(self, province: str, person: str) -> dict | None:
        try:
            return orjson.loads(self._path(province, person).read_bytes())
        except FileNotFoundError:
            return None

    def _write_new(self, path: Path, content: dict) -> bool:
        """Put ``content`` at ``path`` unless a file is there; True if it was put."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        _write_synced(tmp, orjson.dumps(content))
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink()

    def data_key(self, province: str, person: str, create: bool = True) -> bytes | None:
        found = self._read(province, person)
        if found is None:
            if not create:
                return None
            key = new_key()
            wrapped = base64.b64encode(self.master.wrap(province, person, key)).decode()
            if self._write_new(self._path(province, person),
                               {"person": person, "kek_id": self.master.id, "wrapped": wrapped,
                                "created_at": _now().isoformat()}):
                return key
            found = self._read(province, person)
        if found.get("erased_at"):
            raise KeyErased(person)
        return self.master.unwrap(province, person, base64.b64decode(found["wrapped"]))

    def destroy(self, province: str, person: str) -> bool:
        path = self._path(province, person)
        tombstone = {"person": person, "erased_at": _now().isoformat()}
        found = self._read(province, person)
        if found is None and self._write_new(path, tombstone):
            return False
        found = found or self._read(province, person)
        if found.get("erased_at"):
            return False
        with open(path, "r+b") as f:  # overwrite the wrapped key where it lies, then replace the file
            f.write(b"\0" * os.fstat(f.fileno()).st_size)
            f.flush()
            os.fsync(f.fileno())
        tmp = path.with_name(f".{path.name}.erased")
        _write_synced(tmp, orjson.dumps(tombstone))
        os.replace(tmp, path)
        return True

    def state(self, province: str, person: str) -> str:
        found = self._read(province, person)
        return "absent" if found is None else "erased" if found.get("erased_at") else "active"


def _write_synced(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> datetime:
    return datetime.now(timezone.utc)


_ERASED = object()


class CachedKeys:
    """Unwrapped keys kept in the process for ``ttl_s`` seconds (``KEYSTORE_CACHE_S``, 5 s by
    default), erased persons too: the hot path asks the store once per person and window, not
    once per event. So a key destroyed elsewhere still opens data in another process for at most
    ``ttl_s``; the process that destroys it, and every consumer that applies the erasure event,
    drop it at once (:meth:`drop`)."""

    def __init__(self, store: KeyStore, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.store, self.ttl_s, self.clock = store, ttl_s, clock
        self._keys: dict[tuple[str, str], tuple[float, object]] = {}

    def data_key(self, province: str, person: str, create: bool = True) -> bytes | None:
        now = self.clock()
        hit = self._keys.get((province, person))
        if hit is not None and hit[0] > now:
            if hit[1] is _ERASED:
                raise KeyErased(person)
            return hit[1]
        try:
            key = self.store.data_key(province, person, create)
        except KeyErased:
            self._keep(province, person, _ERASED, now)
            raise
        if key is not None:
            self._keep(province, person, key, now)
        return key

    def _keep(self, province: str, person: str, value, now: float) -> None:
        if self.ttl_s > 0:
            if len(self._keys) > 100_000:  # a bulk import must not grow the cache without bound
                self._keys.clear()
            self._keys[(province, person)] = (now + self.ttl_s, value)

    def destroy(self, province: str, person: str) -> bool:
        self.drop(province, person)
        return self.store.destroy(province, person)

    def drop(self, province: str, person: str) -> None:
        self._keys.pop((province, person), None)

    def state(self, province: str, person: str) -> str:
        return self.store.state(province, person)
