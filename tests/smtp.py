"""A real SMTP server for the tests (aiosmtpd), keeping every message it accepts."""
import contextlib

from aiosmtpd.controller import Controller

from shared.broker import free_port


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def smtp_server():
    """(controller, mailbox): the server listens on ``controller.port`` until the block ends."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()
