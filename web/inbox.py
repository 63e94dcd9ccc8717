"""Everyone's inbox (hộp thư): their own, and the mailboxes their role reads — their unit's for a
unit head, the province's council, authority or department mailbox for those roles."""
from __future__ import annotations

from flask import Blueprint
from urllib.parse import quote

from web import ui
from web.pages import offer

blp = Blueprint("inbox", __name__)
offer(None, "Hộp thư", "inbox.index", "Thông báo về đăng ký, bình xét, khen thưởng và các thời hạn")


def mailboxes(person) -> list[tuple[str, str | None]]:
    """(title, recipient) of each mailbox the person reads; None: their own (``GET /inbox``)."""
    boxes: list[tuple[str, str | None]] = [("Hộp thư của tôi", None)]
    province = person.provinces[0]
    if person.has_role("unit_head") and person.unit:
        boxes.append(("Hộp thư của đơn vị", person.unit))
    if person.has_role("council") and person.unit is None:
        boxes.append(("Hộp thư Hội đồng Thi đua - Khen thưởng", f"council:{province}"))
    if person.has_role("authority") and person.authority:
        boxes.append(("Hộp thư của cấp có thẩm quyền", f"authority:{person.authority}:{province}"))
    if person.has_role("department"):
        boxes.append(("Hộp thư của Sở", f"province:{province}"))
    return boxes


@blp.get("/hop-thu")
@ui.signed_in()
def index():
    person = ui.caller()
    boxes = []
    for title, recipient in mailboxes(person):
        path = "/inbox" if recipient is None else f"/inbox/{quote(recipient, safe='')}"
        try:
            boxes.append((title, ui.read("notifications", path), None))
        except ui.Refused as refused:  # a mailbox this person may not read after all: said in its place
            boxes.append((title, [], refused.refusal))
    return ui.render("inbox.html", boxes=boxes)
