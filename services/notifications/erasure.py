"""A person's erasure in notifications' projection — the recipient directory, the public page
(công khai), every inbox and e-mail that names them — the event being registration's (see
:mod:`shared.privacy.erasure`). A pending e-mail to the person is cancelled with it."""
from sqlalchemy import select, update

from shared.privacy import erasure
from shared.privacy.erasure import PERSON_ERASED, Erasable, by, mentioning

from services.notifications.exemplars import exemplars
from services.notifications.projections import deliveries, inbox, nominations, publications, recipients

ERASABLE = [
    Erasable(recipients, by("id"), names=("name",), cleared=("email",)),
    Erasable(nominations, by("participant_id"), names=("name",)),
    Erasable(publications, lambda t, person: t.c.nomination_id.in_(
        select(nominations.c.id).where(nominations.c.participant_id == person)), names=("name",)),
    Erasable(exemplars, mentioning("summary"), json=("summary",), texts=("message",)),
    Erasable(inbox, texts=("title", "body")),
    Erasable(deliveries, by("recipient"), names=("email",), texts=("subject", "body"), operational=True),
]

_erase = erasure.handler(ERASABLE)


def on_person_erased(conn, event) -> None:
    _erase(conn, event)
    if erasure.rebuilding(conn):
        return
    conn.execute(update(deliveries).where(deliveries.c.province == event.province,
                                          deliveries.c.recipient == event.data["person_id"],
                                          deliveries.c.status == "pending")
                 .values(status="failed", last_error="người nhận đã được xóa theo yêu cầu (recipient erased)"))


FOLLOWED_EVENTS = {PERSON_ERASED: on_person_erased}
