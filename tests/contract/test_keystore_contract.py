"""The key store's contract (shared.privacy.keystore), held by every adapter alike: the database
table on SQLite and on PostgreSQL, the key directory, and the in-process cache in front of one.

"Two processes" are two adapter instances over the same database or directory: nothing is
shared between them but what the store keeps.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from shared.privacy.crypto import MasterKey
from shared.privacy.keystore import CachedKeys, FileKeyStore, KeyErased, SqlKeyStore, person_keys

MASTER = MasterKey(b"k" * 32)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "files", "cached"])
def make(request, tmp_path):
    """A function that opens the same key store once more (another process), with a master key."""
    made = []
    if request.param in ("sqlite", "cached"):
        url = f"sqlite:///{tmp_path / 'keystore.db'}"
    elif request.param == "postgres":
        url = request.getfixturevalue("fresh_pg_database")()

    def open_store(master: MasterKey = MASTER):
        if request.param == "files":
            return FileKeyStore(tmp_path / "keys", master)
        store = SqlKeyStore(url, master)
        made.append(store)
        return CachedKeys(store, ttl_s=0.0) if request.param == "cached" else store

    open_store.kind = request.param
    yield open_store
    for store in made:
        store.dispose()


def test_a_person_gets_one_key_which_every_process_reads(make):
    one, two = make(), make()
    assert one.state("86", "lan.ht") == "absent"
    assert one.data_key("86", "lan.ht", create=False) is None
    key = one.data_key("86", "lan.ht")
    assert len(key) == 32 and one.state("86", "lan.ht") == "active"
    assert two.data_key("86", "lan.ht") == key == two.data_key("86", "lan.ht", create=False)


def test_a_key_is_a_persons_in_one_province(make):
    store = make()
    assert store.data_key("86", "lan.ht") != store.data_key("83", "lan.ht")
    store.destroy("86", "lan.ht")
    assert store.data_key("83", "lan.ht", create=False) is not None


def test_processes_making_a_key_at_once_all_get_the_same_one(make):
    stores = [make() for _ in range(4)]
    got, errors = [], []
    barrier = threading.Barrier(len(stores))

    def ask(store):
        try:
            barrier.wait()
            got.append(store.data_key("86", "ban.dong.thoi"))
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(got) == 4 and len(set(got)) == 1


def test_a_destroyed_key_is_gone_for_every_process_and_never_made_again(make):
    one, two = make(), make()
    one.data_key("86", "lan.ht")
    two.data_key("86", "lan.ht")
    assert one.destroy("86", "lan.ht") is True
    for store in (one, two, make()):
        with pytest.raises(KeyErased):
            store.data_key("86", "lan.ht")
        with pytest.raises(KeyErased):
            store.data_key("86", "lan.ht", create=False)
        assert store.state("86", "lan.ht") == "erased"
    assert two.destroy("86", "lan.ht") is False  # already


def test_destroying_an_unknown_persons_key_leaves_a_tombstone(make):
    store = make()
    assert store.destroy("86", "chua.co") is False
    with pytest.raises(KeyErased):
        store.data_key("86", "chua.co")


def test_a_key_does_not_open_under_another_master_key(make):
    make().data_key("86", "lan.ht")
    with pytest.raises(ValueError):
        make(MasterKey(b"z" * 32)).data_key("86", "lan.ht")


def test_the_table_keeps_keys_only_wrapped_and_nothing_of_a_destroyed_one(make, tmp_path):
    if make.kind == "files":
        store = make()
        key = store.data_key("86", "lan.ht")
        files = list((tmp_path / "keys").rglob("*.key"))
        assert len(files) == 1 and key not in files[0].read_bytes()
        assert "lan.ht" not in files[0].name  # the file's name is no person's id
        store.destroy("86", "lan.ht")
        assert b"wrapped" not in files[0].read_bytes()
        return
    store = make()
    key = store.data_key("86", "lan.ht")
    url = (store.store if make.kind == "cached" else store).db.url
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    with engine.connect() as conn:
        wrapped = conn.execute(select(person_keys.c.wrapped)).scalar_one()
    assert key not in wrapped
    store.destroy("86", "lan.ht")
    with engine.connect() as conn:
        assert conn.execute(select(person_keys.c.wrapped, person_keys.c.erased_at)).one()[0] is None
    engine.dispose()
