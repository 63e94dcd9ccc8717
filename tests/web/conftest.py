"""One seeded campaign for the module, the web gateway over it, and readers of the three formats."""
from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import replace

import pytest
from openpyxl import load_workbook
from werkzeug.datastructures import MultiDict

from identity import demo
from tests.unit.conftest import module_system, token
from tests.web.inprocess import InProcessIssuer, InProcessServiceClient
from tests.web.seed import seed
from web.app import create_app
from web.settings import load


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "web-reports")


@pytest.fixture(scope="module")
def seeded(system):
    """The seeded campaign, beside the demo province's units (those the demo people's tokens name)."""
    seed_demo_units(system)
    return seed(system)


@pytest.fixture(scope="module")
def web(system):
    return create_app(load({}), client=InProcessServiceClient(system), clock=system.clock).test_client()


def xlsx_tables(content: bytes) -> dict[str, list[dict]]:
    """Every Excel table of the workbook, by name, as rows of {header: value}."""
    ws = load_workbook(io.BytesIO(content)).active
    out = {}
    for name, ref in ws.tables.items():
        cells = [[c.value for c in row] for row in ws[ref]]
        header = cells[0]
        out[name] = [dict(zip(header, row)) for row in cells[1:] if any(v is not None for v in row)]
    return out


def csv_tables(content: bytes) -> dict[str, list[dict]]:
    """The CSV's blocks (``key,title``, the header, the rows), by key; numbers as numbers."""
    text = content.decode("utf-8-sig")
    out, lines = {}, list(csv.reader(io.StringIO(text)))
    blocks, block = [], []
    for line in lines + [[]]:
        if line:
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    for (key, _title), header, *rows in blocks:
        out[key] = [dict(zip(header, map(_number, row))) for row in rows]
    return out


def _number(cell: str):
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell or None


def pdf_text(content: bytes) -> str:
    """The PDF as text, in its layout (pdftotext, poppler-utils)."""
    done = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=content,
                          capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pages_app(system, issuer=None, retry_delays_s=(0.0, 0.0, 0.0)):
    """The web application over the in-process system, signing in the demo people
    (:class:`tests.web.inprocess.InProcessIssuer`); CSRF checked as in production."""
    settings = replace(load({}), retry_delays_s=retry_delays_s)
    return create_app(settings, client=InProcessServiceClient(system), clock=system.clock,
                      issuer=issuer or InProcessIssuer())


def csrf_of(page) -> str:
    """The CSRF token a rendered page carries (every form has it; htmx sends it as X-CSRFToken)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client, username: str, password: str | None = None):
    """Sign ``username`` in through the sign-in page, as a person would; the page answered."""
    form = client.get("/dang-nhap")
    return client.post("/dang-nhap", data={"username": username, "password": password or f"{username}-86",
                                           "csrf_token": csrf_of(form)})


def post_form(client, path: str, data: dict | list, **kw):
    """POST ``data`` to a form page with the CSRF token that page gave (read with GET first)."""
    token = csrf_of(client.get(path))
    items = list(data.items()) if isinstance(data, dict) else list(data)
    return client.post(path, data=MultiDict(items + [("csrf_token", token)]), **kw)


def seed_demo_units(system) -> None:
    """The demo province's units (identity/demo.py) in the in-process registration, as
    ``Stack.seed_demo`` registers them on the real stack; those already there are left."""
    for unit_id, name, kind, parent in demo.UNITS:
        r = system.client("registration").post("/units", json={"id": unit_id, "name": name, "kind": kind,
                                                               "parent_id": parent},
                                               headers=token("department", (demo.PROVINCE,)))
        assert r.status_code == 201 or r.get_json().get("rule") == "unit.once", r.get_json()
    system.drain()
