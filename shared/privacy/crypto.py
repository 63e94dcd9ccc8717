"""Envelope encryption of personal fields: a data key per person, wrapped by a master key.

* A **data key** (256-bit, AES-GCM) per person and province encrypts that person's fields.
  The key store keeps it only *wrapped* (encrypted) by the **master key** (the key-encryption
  key, which never sits in the key store's database): destroying the wrapped data key makes
  every copy of the person's ciphertext unreadable — in every store, topic, backup and export —
  while the bytes, and so every hash chain over them, stay as they were (crypto-shredding).
* Each field's ciphertext is bound by its authenticated data to the province, the person and
  the field's path: moved to another person or field, it fails to open instead of reading as
  someone else's data. A wrapped data key is bound the same way to its person.
* A sealed value is a string ``sealed:v1:<base64url(nonce ‖ ciphertext ‖ tag)>`` in place of
  the value (any JSON value: its JSON is what is encrypted), so a payload stays JSON of the
  same shape and a reader tells sealed from plain (older events) at a glance.
"""
from __future__ import annotations

import base64
import os

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
_NONCE = 12


class Unreadable(ValueError):
    """A ciphertext that does not open with the key given for its person and field."""


def new_key() -> bytes:
    # what AESGCM.generate_key(256) returns, without its thirty-odd microseconds of checks
    return os.urandom(32)


def _aad(province: str, person: str, field: str) -> bytes:
    # three values without line breaks (ids and dotted paths), so joined without ambiguity
    return f"thidua-personal\n{province}\n{person}\n{field}".encode()


def is_sealed(value) -> bool:
    return type(value) is str and value.startswith(PREFIX)


def cipher(key: bytes) -> AESGCM:
    """The cipher of a data key, made once for all the fields of an event."""
    return AESGCM(key)


def seal(key: bytes | AESGCM, province: str, person: str, field: str, value) -> str:
    nonce = os.urandom(_NONCE)
    sealed = _aead(key).encrypt(nonce, orjson.dumps(value), _aad(province, person, field))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_(key: bytes | AESGCM, province: str, person: str, field: str, value: str):
    raw = base64.urlsafe_b64decode(value[len(PREFIX):])
    try:
        return orjson.loads(_aead(key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(province, person, field)))
    except InvalidTag as exc:
        raise Unreadable(f"{field} of {person} ({province}) does not open with its key") from exc


def _aead(key: bytes | AESGCM) -> AESGCM:
    return key if isinstance(key, AESGCM) else AESGCM(key)


class MasterKey:
    """The key-encryption key of a key store that wraps data keys itself (the database and file
    adapters; a Vault or a KMS wraps them in its own keeping). ``id`` names it in every wrapped
    key, so that a new master key can be brought in while keys wrapped by the old one still open."""

    def __init__(self, key: bytes, id: str = "local-1"):
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes (base64url of 32 random bytes)")
        self._aead, self.id = AESGCM(key), id

    @classmethod
    def from_text(cls, text: str, id: str = "local-1") -> "MasterKey":
        return cls(base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4)), id)

    @staticmethod
    def generate_text() -> str:
        return base64.urlsafe_b64encode(new_key()).decode().rstrip("=")

    def wrap(self, province: str, person: str, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, _aad(province, person, "data-key"))

    def unwrap(self, province: str, person: str, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _aad(province, person, "data-key"))
        except InvalidTag as exc:
            raise Unreadable(f"the data key of {person} ({province}) does not open with master key "
                             f"{self.id}") from exc
