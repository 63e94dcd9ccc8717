"""Sealing personal fields on write and opening them on read: the one hook of the event path.

``Protector.seal`` runs in :meth:`shared.eventstore.EventStore.append` on the event about to
be stored (after its schema checked the plaintext), ``Protector.open`` wherever an event is
read back: the store's ``load``/``read_all`` and, through :meth:`Protector.opening`, the
handlers a consumer or a rebuild applies. The stored bytes — and so the hash chain, the topics,
backups and exports — hold the sealed fields; every reader sees the plaintext, or
:data:`ERASED` once the person's key is destroyed.

* Only the fields :data:`shared.privacy.personal.PERSONAL` names are touched: an event of
  another type costs one dict lookup.
* An erased person's fields read as :data:`ERASED` (codes — gender, phone, e-mail, date of
  birth — as absent: :func:`~shared.privacy.personal.erased_value`).
* An event about an erased person is stored with its personal fields so erased: no
  new key is made for them, so their data cannot come back through a late or repeated event.
* **Older, plaintext events** (stored before sealing) read as they are — until their person
  is erased, when the readers show :data:`ERASED` too. Their bytes stay in the store: they are
  under the hash chain, and rewriting them would break it (see the README, Data protection).
"""
from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path

from shared import envelope as env
from shared.envelope import Envelope
from shared.privacy import crypto
from shared.privacy.erasure import PERSON_ERASED
from shared.privacy.keystore import CachedKeys, FileKeyStore, KeyErased, SqlKeyStore
from shared.privacy.personal import ERASED, PERSONAL, erased_value, get, replaced

log = logging.getLogger(__name__)


class KeyMissing(RuntimeError):
    """A sealed field whose person has no key in the key store: the store is not the one the
    event was sealed with, or was restored from before the key was made."""


class Protector:
    def __init__(self, keys: CachedKeys):
        self.keys = keys

    def seal(self, event: Envelope) -> Envelope:
        if event.type not in PERSONAL:
            return event
        values = {}
        for person, fields, a_person in _people(event):
            if not a_person:
                continue
            paths = [p for p in fields if _personal_value(get(event.data, p))]
            if not paths:
                continue
            try:
                key = self.keys.data_key(event.province, person)
            except KeyErased:
                values.update({p: erased_value(p) for p in paths})
                continue
            aead = crypto.cipher(key)
            for p in paths:
                values[p] = crypto.seal(aead, event.province, person, p, get(event.data, p))
        return _with_data(event, values)

    def open(self, event: Envelope) -> Envelope:
        if event.type not in PERSONAL:
            return event
        values = {}
        for person, fields, a_person in _people(event):
            present = [(p, v) for p in fields if (v := get(event.data, p)) is not None and v != ERASED]
            if not present:
                continue
            sealed = any(crypto.is_sealed(v) for _, v in present)
            if not sealed and not a_person:  # a collective's, never sealed: no key to look up
                continue
            try:
                key = self.keys.data_key(event.province, person, create=False)
            except KeyErased:
                values.update({p: erased_value(p) for p, _ in present})
                continue
            if key is None:
                if sealed:
                    raise KeyMissing(f"{event.type} {event.id}: no key of {person} ({event.province}) "
                                     "in the key store")
                continue  # plaintext of a person who never had a key
            aead = crypto.cipher(key)
            for p, v in present:
                if crypto.is_sealed(v):
                    values[p] = crypto.open_(aead, event.province, person, p, v)
        return _with_data(event, values)

    def opening(self, handlers: dict[str, Callable]) -> dict[str, Callable]:
        """The same handlers, each given the event opened (for consumers and rebuilds); the
        erasure's also drops this process's cached key of the person."""
        return {type_: _opened(self, handler) if type_ in PERSONAL
                else _dropping(self, handler) if type_ == PERSON_ERASED else handler
                for type_, handler in handlers.items()}

    def forget(self, province: str, person: str) -> bool:
        """Destroy the person's key (see KeyStore.destroy); True if one was destroyed now."""
        return self.keys.destroy(province, person)

    def drop(self, province: str, person: str) -> None:
        """Forget this process's cached key of the person (an erasure event was applied)."""
        self.keys.drop(province, person)


def _people(event: Envelope):
    """(person, paths of their fields, whether a person) for each one the event's type names."""
    for spec in PERSONAL[event.type]:
        for person, fields, a_person in spec.people(event.data):
            if person:
                yield person, fields, a_person


def _personal_value(value) -> bool:
    return value is not None and value != ERASED and not crypto.is_sealed(value)


def _with_data(event: Envelope, values: dict) -> Envelope:
    if not values:
        return event
    return env.filled(Envelope, {**event.__dict__, "data": replaced(event.data, values)})


def _opened(protector: Protector, handler: Callable) -> Callable:
    def apply(conn, event):
        return handler(conn, protector.open(event))
    apply.__name__ = getattr(handler, "__name__", "apply")
    return apply


def _dropping(protector: Protector, handler: Callable) -> Callable:
    def apply(conn, event):
        protector.drop(event.province, event.data["person_id"])
        return handler(conn, event)
    apply.__name__ = getattr(handler, "__name__", "apply")
    return apply


def protected(spec, protector: "Protector | None"):
    """A service's spec whose handlers open what they are given (for a rebuild)."""
    if protector is None:
        return spec
    return dataclasses.replace(spec, handlers=protector.opening(spec.handlers),
                               own_events=protector.opening(spec.own_events))


# -- from settings ------------------------------------------------------------------------------
_BUILT: dict[tuple, Protector] = {}


def from_settings(settings) -> Protector | None:
    """The process's protector for the key store ``settings`` name; one per key store and master
    key, so the services of one process share its cache. None when ``KEYSTORE_URL=off``."""
    url = settings.keystore_url
    if url == "off":
        return None
    spec = (url, settings.keystore_master_key, settings.keystore_master_key_file, settings.keystore_cache_s)
    if spec not in _BUILT:
        master = crypto.MasterKey.from_text(settings.keystore_master_key or _key_file(settings.keystore_master_key_file))
        store = (FileKeyStore(url.removeprefix("file://"), master) if url.startswith("file://")
                 else SqlKeyStore(url, master))
        _BUILT[spec] = Protector(CachedKeys(store, settings.keystore_cache_s))
    return _BUILT[spec]


def _key_file(path: str) -> str:
    """The embedded default's master key: a file made on first use beside the data (production
    gives ``KEYSTORE_MASTER_KEY`` from its secret store instead)."""
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}")
        tmp.write_text(crypto.MasterKey.generate_text(), encoding="ascii")
        tmp.chmod(0o600)
        try:  # made complete beside it, then linked: two processes at once keep the first one's
            os.link(tmp, file)
            log.warning("made a new master key of the key store at %s", file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return file.read_text(encoding="ascii")
