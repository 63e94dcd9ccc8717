"""A person's erasure in a service's projection: what each service declares, and one way to apply it.

The erasure event (:data:`PERSON_ERASED`, recorded by registration, carrying no personal data)
is followed by every service. Its key is destroyed before it is recorded, so a replay — a
rebuild, a new consumer — already reads the person's fields as erased; the live projection,
which holds copies of the plaintext, is updated by :func:`erase` from the service's list of
:class:`Erasable` tables. That list is the service's own (services keep their own copies).

The copies of a name inside free text (an inbox message, an e-mail's body: "Chúc mừng Huỳnh Thị
Lan…") are found by the names the person's own rows held, read before they are replaced.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select, update

from shared.envelope import Envelope
from shared.privacy.personal import ERASED

PERSON_ERASED = "registration.person.erased"

_IDS = ("participant_id", "person_id", "recipient_id")
_PERSONAL_KEYS = ("name", "gender", "address", "phone", "email", "date_of_birth")


@dataclass(frozen=True)
class Erasable:
    """One projection table's copies of a person's data.

    ``rows(table, person)``: the condition naming the person's rows (with the province's);
    ``names``: columns that become :data:`ERASED`, and whose values are looked for in ``texts``;
    ``cleared``: columns that become NULL (codes such as a gender, a phone);
    ``json``: JSON columns in which the person's objects lose their personal keys;
    ``texts``: free-text columns of the whole province in which the person's names are replaced.
    """
    table: Table
    rows: Callable | None = None
    names: tuple[str, ...] = ()
    cleared: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    operational: bool = False  # state of the service's own processes (ServiceSpec.operational_tables)


def rebuilding(conn: Connection) -> bool:
    """A rebuild writes a shadow of the projection (``thidua rebuild``): the tables that are no
    events' projection are not in it, and keep what the live erasure did to them."""
    return bool(conn.get_execution_options().get("schema_translate_map"))


def by(column: str) -> Callable:
    """The rows whose ``column`` is the person's id."""
    return lambda table, person: table.c[column] == person


def mentioning(column: str) -> Callable:
    """The rows whose JSON ``column`` mentions the person's id (then checked object by object)."""
    return lambda table, person: table.c[column].contains(json.dumps(person))


def erase(conn: Connection, erasables: list[Erasable], province: str, person: str) -> set[str]:
    """Replace the person's data in these tables of ``province``; returns the names found."""
    names: set[str] = set()
    erasables = [e for e in erasables if not (e.operational and rebuilding(conn))]
    for e in erasables:
        if e.rows is None:
            continue
        where = [e.table.c.province == province, e.rows(e.table, person)]
        if e.names:
            for row in conn.execute(select(*(e.table.c[c] for c in e.names)).where(*where)):
                names.update(v for v in row if v and v != ERASED)
        if e.json:
            keys = [c.name for c in e.table.primary_key.columns]
            for row in conn.execute(select(*(e.table.c[k] for k in keys), *(e.table.c[c] for c in e.json))
                                    .where(*where)).mappings():
                values = {}
                for c in e.json:
                    doc = json.loads(row[c])
                    names.update(_erase_json(doc, person))
                    values[c] = json.dumps(doc, ensure_ascii=False)
                conn.execute(update(e.table).where(*(e.table.c[k] == row[k] for k in keys)).values(values))
        if e.names or e.cleared:
            conn.execute(update(e.table).where(*where).values(
                {**dict.fromkeys(e.names, ERASED), **dict.fromkeys(e.cleared, None)}))
    for name in sorted(n for n in names if len(n) >= 2):
        for e in erasables:
            for c in e.texts:
                col = e.table.c[c]
                conn.execute(update(e.table).where(e.table.c.province == province, col.contains(name))
                             .values({c: func.replace(col, name, ERASED)}))
    return names


def _erase_json(doc, person: str) -> set[str]:
    """Erase, in place, the personal keys of every object of ``doc`` that is the person (an id key
    names them and it is no collective), and of its ``details``; returns the values erased."""
    found: set[str] = set()
    if isinstance(doc, list):
        for item in doc:
            found |= _erase_json(item, person)
    elif isinstance(doc, dict):
        if any(doc.get(k) == person for k in _IDS) and \
                doc.get("kind", doc.get("participant_kind")) != "collective":
            for target in (doc, doc.get("details")):
                if isinstance(target, dict):
                    for k in _PERSONAL_KEYS:
                        if isinstance(target.get(k), str) and target[k] != ERASED:
                            found.add(target[k])
                            target[k] = ERASED
        for value in doc.values():
            found |= _erase_json(value, person)
    return found


def handler(erasables: list[Erasable]) -> Callable:
    """The updater of :data:`PERSON_ERASED` for a service with these tables (a consumer's
    process also drops its cached key of the person: :meth:`Protector.opening`)."""
    def on_person_erased(conn: Connection, event: Envelope) -> None:
        erase(conn, erasables, event.province, event.data["person_id"])
    return on_person_erased
