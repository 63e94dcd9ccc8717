"""Sealing personal fields: the cipher, the master key, and the protector on events and a store."""
import orjson
import pytest
from sqlalchemy import select

from shared.db import Database
from shared.envelope import Actor, Envelope
from shared.eventstore import EventStore, events, metadata, verify_stream
from shared.privacy import crypto
from shared.privacy.keystore import CachedKeys, KeyErased, SqlKeyStore
from shared.privacy.personal import ERASED, PERSONAL
from shared.privacy.protector import KeyMissing, Protector

MASTER = crypto.MasterKey(b"m" * 32)


def test_a_sealed_value_opens_only_for_its_province_person_and_field():
    key = crypto.new_key()
    sealed = crypto.seal(key, "86", "lan.ht", "participant.name", "Huỳnh Thị Lan")
    assert crypto.is_sealed(sealed) and "Huỳnh" not in sealed
    assert crypto.open_(key, "86", "lan.ht", "participant.name", sealed) == "Huỳnh Thị Lan"
    for other in (("83", "lan.ht", "participant.name"), ("86", "binh.nv", "participant.name"),
                  ("86", "lan.ht", "participant.phone")):
        with pytest.raises(crypto.Unreadable):
            crypto.open_(key, *other, sealed)
    with pytest.raises(crypto.Unreadable):
        crypto.open_(crypto.new_key(), "86", "lan.ht", "participant.name", sealed)


def test_two_seals_of_one_value_differ_and_any_json_value_round_trips():
    key = crypto.new_key()
    assert crypto.seal(key, "86", "p", "f", "x") != crypto.seal(key, "86", "p", "f", "x")
    for value in ("2001-02-03", 42, {"a": [1, "b"]}):
        assert crypto.open_(key, "86", "p", "f", crypto.seal(key, "86", "p", "f", value)) == value


def test_a_wrapped_data_key_is_bound_to_its_person_and_master_key():
    key = crypto.new_key()
    wrapped = MASTER.wrap("86", "lan.ht", key)
    assert key not in wrapped and MASTER.unwrap("86", "lan.ht", wrapped) == key
    with pytest.raises(crypto.Unreadable):
        MASTER.unwrap("86", "binh.nv", wrapped)
    with pytest.raises(crypto.Unreadable):
        crypto.MasterKey(b"n" * 32).unwrap("86", "lan.ht", wrapped)
    assert crypto.MasterKey.from_text(crypto.MasterKey.generate_text()).wrap("86", "p", key)
    with pytest.raises(ValueError):
        crypto.MasterKey(b"short")


@pytest.fixture
def protector(tmp_path):
    store = SqlKeyStore(f"sqlite:///{tmp_path}/keystore.db", MASTER)
    yield Protector(CachedKeys(store, ttl_s=60))
    store.dispose()


def _registered(participant: dict, province: str = "86") -> Envelope:
    return Envelope(type="registration.participant.registered", source="registration", subject="registration-1",
                    province=province, actor=Actor("mai.tt", "unit_head"), correlationid="c", causationid="x",
                    data={"registration_id": "r-1", "campaign_id": "c-1", "participant": participant,
                          "pledges": [{"content": "Dạy tốt"}]})


LAN = {"participant_id": "lan.ht", "kind": "individual", "individual_kind": "teacher", "name": "Huỳnh Thị Lan",
       "unit": "Trường THPT Lưu Văn Liệt", "gender": "female", "phone": "0909 123 456", "address": None}


def test_only_a_persons_fields_are_sealed_and_they_open_to_what_was_given(protector):
    event = _registered(dict(LAN))
    sealed = protector.seal(event)
    p = sealed.data["participant"]
    assert all(crypto.is_sealed(p[f]) for f in ("name", "gender", "phone"))
    assert p["address"] is None and p["unit"] == LAN["unit"] and p["participant_id"] == "lan.ht"
    assert sealed.data["pledges"] == event.data["pledges"] and event.data["participant"] == LAN  # not changed
    assert protector.open(sealed).data == event.data


def test_a_collective_and_an_event_without_personal_fields_stay_as_they_are(protector):
    school = {"participant_id": "tt-1", "kind": "collective", "name": "Trường THPT Lưu Văn Liệt", "unit": "x"}
    event = _registered(school)
    assert protector.seal(event) is event
    other = Envelope(type="registration.campaign.launched", source="registration", subject="campaign-1",
                     province="86", actor=Actor("a", "department"), data={"title": "Dạy tốt"})
    assert protector.seal(other) is other and protector.open(other) is other


def test_after_the_key_is_destroyed_the_person_reads_as_erased_and_is_never_sealed_again(protector):
    sealed = protector.seal(_registered(dict(LAN)))
    assert protector.forget("86", "lan.ht") is True
    opened = protector.open(sealed).data["participant"]
    assert opened["name"] == ERASED and opened["gender"] is None and opened["phone"] is None  # codes: absent
    again = protector.seal(_registered(dict(LAN))).data["participant"]  # a late or repeated event
    assert again["name"] == ERASED and again["phone"] is None and again["unit"] == LAN["unit"]
    assert protector.keys.store.state("86", "lan.ht") == "erased"
    assert protector.forget("86", "lan.ht") is False


def test_plaintext_events_of_before_read_as_they_are_until_their_person_is_erased(protector):
    old = _registered(dict(LAN, participant_id="cu.old"))
    assert protector.open(old) is old
    protector.forget("86", "cu.old")
    assert protector.open(old).data["participant"]["name"] == ERASED


def test_a_sealed_field_without_its_key_is_an_error_not_erased(protector, tmp_path):
    sealed = protector.seal(_registered(dict(LAN)))
    elsewhere = Protector(CachedKeys(SqlKeyStore(f"sqlite:///{tmp_path}/other.db", MASTER)))
    with pytest.raises(KeyMissing):
        elsewhere.open(sealed)


def test_the_key_cache_answers_within_its_lifetime_and_asks_again_after(tmp_path):
    now = [0.0]
    store = SqlKeyStore(f"sqlite:///{tmp_path}/keystore.db", MASTER)
    cache = CachedKeys(store, ttl_s=5, clock=lambda: now[0])
    key = cache.data_key("86", "lan.ht")
    store.destroy("86", "lan.ht")  # destroyed by another process
    assert cache.data_key("86", "lan.ht") == key  # within 5 s this process still has it
    now[0] = 5.1
    with pytest.raises(KeyErased):
        cache.data_key("86", "lan.ht")
    store.dispose()


def test_the_store_chains_the_sealed_bytes_which_verify_before_and_after_erasure(protector, tmp_path):
    db = Database(f"sqlite:///{tmp_path}/registration.db")
    db.create_all(metadata)
    store = EventStore("thidua.registration", b"chain-key", protector)
    with db.write() as conn:
        [returned] = store.append(conn, "registration-1", 0, [_registered(dict(LAN))])
    assert returned.data["participant"]["name"] == "Huỳnh Thị Lan"  # the caller keeps the plaintext
    with db.read() as conn:
        body = conn.execute(select(events.c.body)).scalar_one()
        assert "Huỳnh" not in body and "0909" not in body
        assert crypto.is_sealed(orjson.loads(body)["data"]["participant"]["name"])
        assert store.load(conn, "registration-1")[0].data["participant"]["name"] == "Huỳnh Thị Lan"
        assert verify_stream(conn, "registration-1", b"chain-key") == []
    protector.forget("86", "lan.ht")
    with db.read() as conn:
        assert store.load(conn, "registration-1")[0].data["participant"]["name"] == ERASED
        assert store.read_all(conn)[0].event.data["participant"]["phone"] is None
        assert conn.execute(select(events.c.body)).scalar_one() == body  # not a byte changed
        assert verify_stream(conn, "registration-1", b"chain-key") == []
    db.dispose()


def test_every_personal_spec_names_a_person_and_fields():
    for type_, specs in PERSONAL.items():
        assert type_.count(".") == 2 and specs
        for spec in specs:
            assert spec.person and spec.fields and spec.person not in spec.fields


def _settings(tmp_path, **env):
    from shared import config
    return config.load("registration", {"JWT_SECRET": "x" * 32, "DATA_DIR": str(tmp_path), **env})


def test_the_key_store_is_chosen_by_its_url_and_the_default_master_key_is_made_once(tmp_path):
    from shared.privacy import protector as privacy
    from shared.privacy.keystore import FileKeyStore
    assert privacy.from_settings(_settings(tmp_path, KEYSTORE_URL="off")) is None
    default = privacy.from_settings(_settings(tmp_path))
    assert isinstance(default.keys.store, SqlKeyStore) and default.keys.ttl_s == 5.0
    key_file = tmp_path / "keystore.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    made = key_file.read_text()
    assert privacy.from_settings(_settings(tmp_path)) is default  # one per key store in a process
    files = privacy.from_settings(_settings(tmp_path, KEYSTORE_URL=f"file://{tmp_path}/keys",
                                            KEYSTORE_MASTER_KEY=crypto.MasterKey.generate_text()))
    assert isinstance(files.keys.store, FileKeyStore) and files.keys.store.dir == tmp_path / "keys"
    assert key_file.read_text() == made
    default.keys.store.dispose()


def test_a_consumer_applying_the_erasure_drops_its_cached_key_at_once(tmp_path):
    store = SqlKeyStore(f"sqlite:///{tmp_path}/keystore.db", MASTER)
    consumer_side = Protector(CachedKeys(store, ttl_s=3600))  # a long cache: only the drop can end it
    sealed = Protector(CachedKeys(store, ttl_s=0)).seal(_registered(dict(LAN)))
    applied = []
    handlers = consumer_side.opening({"registration.participant.registered": lambda c, e: applied.append(e),
                                      "registration.person.erased": lambda c, e: applied.append(e)})
    handlers["registration.participant.registered"](None, sealed)
    assert applied[-1].data["participant"]["name"] == "Huỳnh Thị Lan"
    store.destroy("86", "lan.ht")  # by registration, in another process
    handlers["registration.participant.registered"](None, sealed)
    assert applied[-1].data["participant"]["name"] == "Huỳnh Thị Lan"  # still cached here
    erasure = Envelope(type="registration.person.erased", source="registration", subject="person-86:lan.ht",
                       province="86", actor=Actor("hung.nv", "department"), data={"person_id": "lan.ht"})
    handlers["registration.person.erased"](None, erasure)
    handlers["registration.participant.registered"](None, sealed)
    assert applied[-1].data["participant"]["name"] == ERASED
    store.dispose()


def test_each_person_of_a_list_is_sealed_under_their_own_key(protector):
    ballot = Envelope(type="evaluation.ballot.opened", source="evaluation", subject="ballot-1", province="86",
                      actor=Actor("tam.lv", "council"),
                      data={"ballot_id": "b-1", "participant_id": "lan.ht", "participant_kind": "individual",
                            "name": "Huỳnh Thị Lan", "members": [{"person_id": "tam.lv", "name": "Lê Văn Tâm"},
                                                                 {"person_id": "hoa.bt", "name": "Bùi Thị Hoa"}]})
    sealed = protector.seal(ballot)
    assert [m["person_id"] for m in sealed.data["members"]] == ["tam.lv", "hoa.bt"]
    assert all(crypto.is_sealed(m["name"]) for m in sealed.data["members"]) and crypto.is_sealed(sealed.data["name"])
    assert ballot.data["members"][0]["name"] == "Lê Văn Tâm"  # the given event is not changed
    assert protector.open(sealed).data == ballot.data
    protector.forget("86", "hoa.bt")
    opened = protector.open(sealed).data
    assert [m["name"] for m in opened["members"]] == ["Lê Văn Tâm", ERASED] and opened["name"] == "Huỳnh Thị Lan"
