"""Attaching files in the pages (web/files.py), over the in-process system: the council attaches
evidence to an evaluation, per criterion; the unit head attaches a dossier file to a nomination and it
reaches the nomination's dossier; a file too big or of a wrong type is refused in the page with its rule
and nothing is added; the council downloads the file from the appraisal page, a teacher is refused it.
"""
from __future__ import annotations

import html
import io
import json
import re
import uuid
from dataclasses import replace

import pytest

from tests import files
from tests.unit.conftest import module_system, token
from tests.web.conftest import csrf_of, seed_demo_units
from tests.web.inprocess import InProcessIssuer, InProcessServiceClient
from tests.web.test_accessibility import Page
from tests.web.test_role_pages import CRITERIA, P, person, post, text
from web.app import create_app
from web.settings import load

LIMIT = 64 * 1024  # the gateway's limit in these tests: a file just over it is refused before it is sent on
DOSSIER_FIELD = "tep-ho-so-dinh-kem"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "web-files")


@pytest.fixture(scope="module")
def app(system):
    settings = replace(load({}), retry_delays_s=(0.0, 0.0, 0.0), upload_max_bytes=LIMIT)
    return create_app(settings, client=InProcessServiceClient(system), clock=system.clock, issuer=InProcessIssuer())


def attach(client, via: str, service: str, field: str, content: bytes, name: str, criterion: str | None = None):
    """What the page's file field does: one file posted by htmx with the page's CSRF header."""
    query = f"key={field}" + (f"&criterion={criterion}" if criterion else "")
    return client.post(f"/tep/{service}?{query}", data={f"{field}-chon": (io.BytesIO(content), name)},
                       content_type="multipart/form-data",
                       headers={"X-CSRFToken": csrf_of(client.get(via)), "HX-Request": "true"})


def references(fragment) -> list[str]:
    """The hidden ``document`` inputs of a fragment or a page: the references the form will send."""
    return [html.unescape(v) for v in re.findall(r'name="document" value="([^"]*)"', text(fragment))]


@pytest.fixture(scope="module")
def evaluated(system, app):
    """A teacher of Trường THPT Lưu Văn Liệt registered by its head and evaluated by the council in
    the pages, with a piece of evidence attached to a criterion: the head may now nominate."""
    system.clock.set("2024-04-20")
    seed_demo_units(system)
    department = token("department", (P,), unit="so-gddt-vinh-long", unit_level="department")
    campaign = system.client("registration").post("/campaigns", headers=department, json={
        "title": f"Dạy tốt, học tốt {uuid.uuid4().hex[:4]}", "kind": "yearly", "period_start": "2023-09-05",
        "period_end": "2024-05-31", "registration_deadline": "2024-04-30",
        "award_plan": [{"award": "bang_khen_chu_tich_tinh", "max": 15}]}).get_json()
    cid, mai, tam = campaign["id"], person(app, "mai.tt"), person(app, "tam.lv")
    who = f"gv-{uuid.uuid4().hex[:6]}"
    assert post(mai, "/don-vi/thanh-vien", {"unit_id": "thpt-luu-van-liet", "name": "Nguyễn Thị Hồng Nhung",
                                           "person_id": who, "position": "Giáo viên Toán",
                                           "individual_kind": "teacher", "gender": "female"},
                "/don-vi/").status_code == 302
    page = f"/don-vi/phong-trao/{cid}"
    assert post(mai, f"{page}/dang-ky", [
        ("participant", f"person:thpt-luu-van-liet:{who}"), ("pledge_content", "Có sáng kiến được công nhận"),
        ("pledge_area", "Đổi mới phương pháp dạy học"), ("pledge_start", "2023-09-05"),
        ("pledge_end", "2024-05-31")], page).status_code == 302
    system.drain()
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    assert post(tam, "/hoi-dong/bo-tieu-chi", [("id", set_id), ("name", "Tiêu chí giáo viên"),
                                               ("source", "Kế hoạch thi đua của Sở GD&ĐT Vĩnh Long"),
                                               ("applies_to", "teacher"), *CRITERIA],
                "/hoi-dong/bo-tieu-chi").status_code == 302
    [rid] = [r["id"] for r in system.client("registration").get(f"/campaigns/{cid}/registrations",
                                                                 headers=department).get_json()
             if r["participant_id"] == who]
    form = f"/hoi-dong/binh-xet/{rid}"
    shown = text(tam.get(form))
    assert 'for="tep-sang_kien-chon"' in shown and 'for="tep-minh-chung-chon"' in shown  # labelled file fields
    assert Page(shown).unlabelled() == []
    evidence = attach(tam, form, "evaluation", "tep-sang_kien", files.pdf("Quyet dinh cong nhan sang kien"),
                      "qd-sang-kien.pdf", criterion="sang_kien")
    assert evidence.status_code == 201, text(evidence)
    [ref] = references(evidence)
    assert '"criterion": "sang_kien"' in ref and "qd-sang-kien.pdf" in text(evidence)
    done = post(tam, form, [("criteria_set_id", set_id), ("ev_sang_kien", "2"), ("ev_dao_duc_judgement", "pass"),
                            ("ev_dao_duc_votes_for", "10"), ("ev_dao_duc_members_total", "11"),
                            ("document", ref)], form)
    assert done.status_code == 302, text(done)
    system.drain()
    return {"campaign_id": cid, "registration_id": rid, "page": page, "mai": mai, "tam": tam}


def test_the_councils_evidence_file_is_kept_with_its_criterion_and_linked_from_the_evaluation(system, evaluated):
    rid = evaluated["registration_id"]
    [round_] = system.client("evaluation").get(f"/evaluations/{rid}", headers=token("council", (P,))).get_json()
    [doc] = round_["documents"]
    assert (doc["name"], doc["criterion"], doc["media_type"]) == ("qd-sang-kien.pdf", "sang_kien", "application/pdf")
    page = text(evaluated["tam"].get(f"/hoi-dong/binh-xet/{rid}"))
    link = f'/evaluations/{rid}/documents/{doc["sha256"]}'
    assert link in page
    got = evaluated["tam"].get(link)
    assert got.status_code == 200 and got.data.startswith(b"%PDF-")


def test_a_dossier_file_attached_in_the_form_reaches_the_nomination_and_the_council_downloads_it(system, app,
                                                                                                evaluated):
    mai, tam, rid = evaluated["mai"], evaluated["tam"], evaluated["registration_id"]
    form = f"{evaluated['page']}/de-nghi/{rid}"
    shown = text(mai.get(form))
    assert f'<label for="{DOSSIER_FIELD}-chon"' in shown and 'hx-encoding="multipart/form-data"' in shown
    assert f'id="{DOSSIER_FIELD}-danh-sach"' in shown and 'aria-live="polite"' in shown
    assert Page(shown).unlabelled() == []
    content = files.pdf("To trinh de nghi khen thuong")
    added = attach(mai, form, "awards", DOSSIER_FIELD, content, "tờ-trình.pdf")
    assert added.status_code == 201, text(added)
    assert "tờ-trình.pdf" in text(added) and "Bỏ tệp" in text(added)
    assert f'id="{DOSSIER_FIELD}-loi"' in text(added) and 'hx-swap-oob="true"' in text(added)  # a past refusal cleared
    [ref] = references(added)
    sent = post(mai, form, [("award", "bang_khen_chu_tich_tinh"), ("kind", "periodic"),
                            ("submission_letter", "Tờ trình 15/TTr-THPT"),
                            ("achievement_report", "Báo cáo thành tích năm học 2023–2024"), ("document", ref)], form)
    assert sent.status_code == 302, text(sent)
    [nomination] = [n for n in system.client("awards").get(f"/campaigns/{evaluated['campaign_id']}/nominations",
                                                          headers=token("council", (P,))).get_json()
                    if n["registration_id"] == rid]
    [doc] = nomination["dossier"]["documents"]
    assert (doc["name"], doc["size"], doc["media_type"]) == ("tờ-trình.pdf", len(content), "application/pdf")

    appraisal = text(tam.get(f"/hoi-dong/tham-dinh/{nomination['id']}"))
    link = f"/nominations/{nomination['id']}/documents/{doc['sha256']}"
    assert link in appraisal and "tờ-trình.pdf" in appraisal
    got = tam.get(link)
    assert got.status_code == 200 and got.data == content

    # a teacher may not read a dossier's files: refused in a page, with its rule
    refused = person(app, "lan.ht").get(link, headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "documents.readers" in text(refused) and b"%PDF" not in refused.data

    # returned to the head: the file is still in the resubmission form, with its download link
    returned = post(tam, f"/hoi-dong/tham-dinh/{nomination['id']}",
                    {"outcome": "returned", "reason": "Bổ sung biên bản họp hội đồng"},
                    f"/hoi-dong/tham-dinh/{nomination['id']}")
    assert returned.status_code == 302, text(returned)
    system.drain()
    again = mai.get(f"/don-vi/de-nghi/{nomination['id']}/bo-sung")
    assert link in text(again) and [json.loads(r)["sha256"] for r in references(again)] == [doc["sha256"]]


@pytest.mark.parametrize("content, name, status, rule, words", [
    (b"%PDF-1.4\n" + b"0" * LIMIT, "bao-cao-lon.pdf", 413, "documents.size", "Tệp quá lớn"),
    (files.exe(), "bao-cao.pdf", 415, "documents.type", "PDF"),
])
def test_a_file_too_big_or_of_a_wrong_type_is_refused_in_place_and_nothing_is_added(
        system, evaluated, content, name, status, rule, words):
    mai, rid = evaluated["mai"], evaluated["registration_id"]
    form = f"{evaluated['page']}/de-nghi/{rid}"
    answer = attach(mai, form, "awards", DOSSIER_FIELD, content, name)
    assert answer.status_code == status
    shown = text(answer)
    assert f'id="{DOSSIER_FIELD}-loi"' in shown and 'hx-swap-oob="true"' in shown and 'role="alert"' in shown
    assert words in shown and f"<code>{rule}</code>" in shown and "Không đính kèm được tệp" in shown
    assert references(answer) == [] and "<li" not in shown  # nothing added to the list


def test_a_files_size_reads_as_vietnamese_write_it_and_a_field_not_holding_a_reference_is_none():
    from web.files import reference, size
    assert [size(474), size(49357), size(20 * 2**20), size(None)] == ["474 B", "48,2 KB", "20 MB", ""]
    assert reference('{"sha256": "ab", "name": "a.pdf"}') == {"sha256": "ab", "name": "a.pdf"}
    assert [reference(v) for v in ("", "không phải JSON", "[1]", '{"name": "a.pdf"}')] == [None] * 4
