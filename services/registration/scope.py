"""Whose units a caller acts for: a unit head for their unit and the units under it, the
department and operators for the whole province. Read from the token and the service's own
copy of the organisation chart, never from the request body."""
from __future__ import annotations

from sqlalchemy import Connection

from shared.auth import Principal
from shared.errors import Forbidden

from services.registration.projections import orgchart

PROVINCE_WIDE = ("department", "operator")


def head_unit(principal: Principal) -> str | None:
    """The unit a caller is confined to, or None for a province-wide role. A unit head whose token
    names no unit acts for nobody."""
    if principal.has_role(*PROVINCE_WIDE):
        return None
    if not principal.unit:
        raise Forbidden("Mã thông báo của thủ trưởng đơn vị không nêu đơn vị (unit): không xác định được "
                        "phạm vi quản lý", rule="auth.unit_scope")
    return principal.unit


def require_within(conn: Connection, province: str, unit_id: str | None, head: str | None, field: str) -> None:
    """Refuse (403) a unit outside ``head``'s unit and its sub-units (no limit when ``head`` is None)."""
    if head is not None and not orgchart.within(conn, province, unit_id, head):
        named = f"Đơn vị {unit_id!r}" if unit_id else "Hồ sơ không nêu đơn vị nên"
        raise Forbidden(f"{named} không thuộc phạm vi quản lý của đơn vị {head!r} (đơn vị của người gọi "
                        f"và các đơn vị trực thuộc)", rule="auth.unit_scope",
                        errors={field: [f"outside the caller's unit {head!r} and its sub-units"]})
