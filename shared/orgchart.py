"""Each service's own copy of the organisation chart: which unit sits under which, per province.

A unit head acts only for their unit and the units under it; an inbox is read by its
recipient and the recipient's unit head. Every service checks that against the units
it has seen (registration's ``registration.unit.registered`` events, followed or its
own), never by asking registration. Unit ids are a province's own: ``(province, id)``.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, MetaData, String, Table, select

from shared.db import insert_row
from shared.envelope import Envelope

UNIT_REGISTERED = "registration.unit.registered"
# The level (auth.UNIT_LEVELS) of each kind of unit registration knows.
LEVEL_OF_KIND = {"school": "school", "kindergarten": "school", "center": "school", "division": "department",
                 "office": "district", "commune": "commune", "department": "department",
                 "province": "province", "ministry": "ministry", "other": "school"}
MAX_DEPTH = 32  # deeper than any real chart; a cycle in bad data cannot loop for ever



class OrgChart:
    """One service's ``org_units`` table (a projection table of its own metadata, so that
    ``thidua rebuild`` rebuilds it with the rest) and what is asked of it."""

    def __init__(self, metadata: MetaData):
        self.table = Table(
            "org_units", metadata,
            Column("province", String(16), primary_key=True),
            Column("id", String(100), primary_key=True),
            Column("parent_id", String(100), nullable=True),
            Column("name", String(300), nullable=False),
            Column("kind", String(30), nullable=False),
            Column("level", String(20), nullable=False),
        )

    def on_unit_registered(self, conn: Connection, event: Envelope) -> None:
        d = event.data
        insert_row(conn, self.table, dict(province=event.province, id=d["unit_id"], parent_id=d.get("parent_id"),
                                          name=d["name"], kind=d["kind"],
                                          level=LEVEL_OF_KIND.get(d["kind"], "school")))

    @property
    def handlers(self) -> dict[str, Callable[[Connection, Envelope], None]]:
        return {UNIT_REGISTERED: self.on_unit_registered}

    def unit(self, conn: Connection, province: str, unit_id: str) -> dict | None:
        row = conn.execute(select(self.table).where(self.table.c.province == province,
                                                    self.table.c.id == unit_id)).mappings().first()
        return dict(row) if row else None

    def ancestors(self, conn: Connection, province: str, unit_id: str) -> list[str]:
        """The unit and every unit above it, nearest first (only those this service has seen)."""
        chain, current = [], unit_id
        parent = select(self.table.c.parent_id).where(self.table.c.province == province)
        while current is not None and current not in chain and len(chain) < MAX_DEPTH:
            chain.append(current)
            current = conn.execute(parent.where(self.table.c.id == current)).scalar()
        return chain

    def within(self, conn: Connection, province: str, unit_id: str | None, head_unit: str | None) -> bool:
        """Whether ``unit_id`` is ``head_unit`` or under it."""
        if not unit_id or not head_unit:
            return False
        return head_unit in self.ancestors(conn, province, unit_id)

    def subtree(self, conn: Connection, province: str, root: str) -> set[str]:
        """``root`` and every unit under it."""
        found, frontier = {root}, {root}
        while frontier and len(found) < 100_000:
            children = set(conn.execute(select(self.table.c.id).where(
                self.table.c.province == province, self.table.c.parent_id.in_(frontier))).scalars()) - found
            found |= children
            frontier = children
        return found
