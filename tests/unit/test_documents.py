"""Dossier and evidence files (issue 12, item 2): uploaded, checked by their content and size, kept in
the service's blob store, named by events by their hash, and handed back only to those who may see
the dossier.

One in-process system serves the module, with files of at most 100 KB (``DOCUMENTS_MAX_BYTES``).
"""
from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest

from services.awards import projections
from shared import blobs, config
from tests import files, scenarios as s
from tests.driver import InProcess
from tests.scenarios import ok, uid
from tests.unit.conftest import SECRET, build_system, close_system
from tests.unit.test_award_rules import (BALLOT_8, TEACHER_EVIDENCE, Unchanged, nominate_, refused, teacher)
from tests.unit.test_award_trust import head_of
from tools import demo

P, OTHER = "86", "83"
LIMIT = 100_000
PDF_MEDIA = "application/pdf"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("documents")
    env = {"JWT_SECRET": SECRET, "DATA_DIR": str(data_dir), "DOCUMENTS_MAX_BYTES": str(LIMIT)}
    system = build_system(settings_for=lambda name: config.load(name, env))
    system.data_dir = data_dir
    yield system
    close_system(system)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


class Answer:
    def __init__(self, r):
        self.status, self.body, self.data, self.headers = r.status_code, r.get_json(silent=True), r.data, r.headers

    def __repr__(self):
        return f"Answer({self.status}, {self.body!r})"


def upload(d, content: bytes, filename="to-trinh.pdf", service="awards", role="unit_head", province=P,
           media_type=PDF_MEDIA, field="file", **claims) -> Answer:
    """A page's multipart upload; the browser's media type is whatever it says, and is not believed."""
    r = d.system.client(service).post("/documents", data={field: (io.BytesIO(content), filename, media_type)},
                                      headers=d.token(role, province, **claims), content_type="multipart/form-data")
    return Answer(r)


def download(d, path: str, service="awards", role="council", province=P, **claims) -> Answer:
    return Answer(d.system.client(service).get(path, headers=d.token(role, province, **claims)))


def with_file(d, e, *refs, on="2024-12-01"):
    return ok(nominate_(d, e, "chien_si_thi_dua_co_so", on, minutes=BALLOT_8, documents=list(refs)))


# == upload: what is taken ======================================================================
@pytest.mark.parametrize("kind,make,name", [
    ("application/pdf", files.pdf, "Tờ trình 12-TTr.pdf"),
    ("image/png", files.png, "bang-khen.png"),
    ("image/jpeg", files.jpeg, "anh-hoat-dong.jpg"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", files.docx, "Báo cáo.docx"),
])
def test_a_head_uploads_each_accepted_kind_and_gets_its_reference_by_content_hash(d, system, kind, make, name):
    content = make()
    ref = ok(upload(d, content, filename=name, media_type="application/octet-stream"))
    assert ref == {"sha256": hashlib.sha256(content).hexdigest(), "name": name, "media_type": kind,
                   "size": len(content)}
    h = ref["sha256"]
    stored = Path(system.data_dir) / "documents" / "awards" / h[:2] / h[2:4] / h
    assert stored.read_bytes() == content


def test_the_same_content_uploaded_twice_is_one_file_with_one_reference(d, system):
    content = files.pdf(uid("same"))
    first, again = ok(upload(d, content)), ok(upload(d, content, role="authority", authority="province"))
    assert first == again
    h = first["sha256"]
    assert len(list((Path(system.data_dir) / "documents" / "awards" / h[:2] / h[2:4]).glob(f"{h}*"))) == 1


def test_a_folder_in_the_file_name_is_dropped_from_its_name(d):  # the name is shown, never a path
    assert ok(upload(d, files.pdf(), filename="../../Desktop/to-trinh.pdf"))["name"] == "to-trinh.pdf"


def test_a_token_of_two_provinces_names_the_province_it_uploads_for(d, system):
    content = files.pdf(uid("hai-tinh"))
    r = d.system.client("awards").post(f"/documents?province={OTHER}", content_type="multipart/form-data",
                                       data={"file": (io.BytesIO(content), "a.pdf", PDF_MEDIA)},
                                       headers=d.token("unit_head", (P, OTHER)))
    ref = ok(Answer(r))
    rt = system.apps["awards"].extensions["runtime"]
    with rt.db.read() as conn:
        assert projections.uploads.find(conn, OTHER, ref["sha256"]) is not None
        assert projections.uploads.find(conn, P, ref["sha256"]) is None
    unsaid = upload(d, files.pdf(uid("hai-tinh")), province=(P, OTHER))
    assert unsaid.status == 403 and "nêu tỉnh" in unsaid.body["message"]


# == upload: what is refused, naming the field ==================================================
def test_a_file_over_the_limit_is_refused_with_the_limit(d):
    content = files.pdf() + b"\n%" + b"x" * LIMIT
    body = refused(upload(d, content), "documents.size", "Tệp quá lớn", status=413)
    assert set(body["errors"]) == {"file"} and body["details"] == {"max_bytes": LIMIT}


def test_a_request_far_over_the_limit_is_refused_while_it_is_read_the_same_way(d):
    body = refused(upload(d, files.pdf() + b"x" * (10 * LIMIT)), "documents.size", "Tệp quá lớn", status=413)
    assert set(body["errors"]) == {"file"}


def test_a_program_renamed_pdf_is_refused_by_its_content(d):
    body = refused(upload(d, files.exe(), filename="bao-cao.pdf", media_type=PDF_MEDIA), "documents.type",
                   "Loại tệp không được chấp nhận", "application/x-msdownload", status=415)
    assert set(body["errors"]) == {"file"} and "application/pdf" in body["details"]["accepted"]


def test_text_that_says_it_is_a_pdf_is_refused_and_an_empty_file_too(d):
    refused(upload(d, b"%PDX not really\n" * 10, filename="x.pdf"), "documents.type", "không nhận ra", status=415)
    assert set(refused(upload(d, b""), "documents.type", "rỗng", status=422)["errors"]) == {"file"}


def test_an_upload_without_its_file_field_names_the_field(d):
    r = upload(d, files.pdf(), field="tep")
    assert r.status == 422 and "file" in r.body["errors"]["files"], r


def test_only_those_who_make_dossiers_upload_to_awards_and_only_councils_to_evaluation(d):
    assert upload(d, files.pdf(), role="participant").status == 403
    assert upload(d, files.pdf() + b"x" * (10 * LIMIT), role="participant").status == 403  # before it is read
    assert upload(d, files.pdf(), role="department").status == 403
    assert upload(d, files.pdf(), service="evaluation", role="unit_head").status == 403
    assert upload(d, files.pdf(), service="evaluation", role="council").status == 201


def test_a_store_that_is_down_is_a_retryable_503_and_nothing_is_recorded(d, system, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    rt = system.apps["awards"].extensions["runtime"]
    kept, rt.blobs = rt.blobs, blobs.LocalBlobStore(tmp_path / "a-file" / "awards")
    content = files.pdf(uid("down"))
    try:
        body = refused(upload(d, content), "documents.store", "thử lại", status=503)
    finally:
        rt.blobs = kept
    assert body["retryable"] is True
    with rt.db.read() as conn:
        assert projections.uploads.find(conn, P, hashlib.sha256(content).hexdigest()) is None


# == a dossier names its files ==================================================================
def test_a_nomination_names_its_uploaded_files_and_they_are_downloaded_by_those_who_see_the_dossier(d):
    e = teacher(d)
    letter, photo = ok(upload(d, files.pdf("To trinh 12"))), ok(upload(d, files.png(), filename="anh.png"))
    n = with_file(d, e, letter, photo)
    assert n["dossier"]["documents"] == [letter, photo]
    path = f"/nominations/{n['id']}/documents/{letter['sha256']}"
    for who in ({"role": "council"}, {"role": "authority", "authority": "province"}, {"role": "department"},
                head_of(e, d)):
        got = download(d, path, **{"province": P, **who})
        assert got.status == 200, (who, got)
        assert got.data == files.pdf("To trinh 12")
        assert got.headers["Content-Type"] == PDF_MEDIA
        assert got.headers["Content-Disposition"].startswith("attachment")
        assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_never_uploaded_is_refused_naming_the_field_and_nothing_is_stored(d):
    e = teacher(d)
    ghost = {"sha256": hashlib.sha256(b"never sent").hexdigest(), "name": "ma.pdf", "media_type": PDF_MEDIA,
             "size": 10}
    d.at("2024-12-01")
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8, documents=[ghost]),
                       "documents.uploaded", "chưa được tải lên", status=422)
    assert set(body["errors"]) == {"dossier.documents.0.sha256"}


def test_a_reference_that_lies_about_its_type_or_size_is_refused(d):
    e = teacher(d)
    ref = ok(upload(d, files.pdf(uid("lie"))))
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8,
                                 documents=[{**ref, "media_type": "image/png", "size": 1}]),
                       "documents.uploaded", status=422)
    assert set(body["errors"]) == {"dossier.documents.0.media_type", "dossier.documents.0.size"}


def test_a_reference_of_the_wrong_shape_is_a_422_naming_the_field(d):
    e = teacher(d)
    r = nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8,
                  documents=[{"sha256": "abc", "name": "x.pdf", "media_type": "text/html", "size": 3}])
    assert r.status == 422 and set(r.body["errors"]["json"]["dossier"]["documents"]["0"]) == {"sha256", "media_type"}, r


def test_a_file_uploaded_in_another_province_is_not_this_provinces_to_name(d):
    e = teacher(d)
    theirs = ok(upload(d, files.pdf(uid("theirs")), province=OTHER))
    body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8, documents=[theirs]),
                   "documents.uploaded", status=422)
    assert set(body["errors"]) == {"dossier.documents.0.sha256"}


# == who gets a dossier's file ==================================================================
def test_someone_elses_dossier_is_refused_to_another_schools_head_and_to_the_teacher(d):
    e = teacher(d)
    ref = ok(upload(d, files.pdf(uid("mine"))))
    n = with_file(d, e, ref)
    path = f"/nominations/{n['id']}/documents/{ref['sha256']}"
    other_head = refused(download(d, path, **{**head_of(e, d), "unit": uid("truong-khac")}), "documents.readers",
                         "thủ trưởng", status=403)
    assert n["proposer_unit"] in other_head["message"]
    refused(download(d, path, role="participant", subject=e.pid), "documents.readers", status=403)


def test_another_provinces_dossier_is_as_if_it_did_not_exist(d):
    e = teacher(d)
    ref = ok(upload(d, files.pdf(uid("here"))))
    n = with_file(d, e, ref)
    elsewhere = download(d, f"/nominations/{n['id']}/documents/{ref['sha256']}", province=OTHER)
    missing = download(d, f"/nominations/{uid('khong-co')}/documents/{ref['sha256']}")
    assert elsewhere.status == missing.status == 404 and "Không có đề nghị" in elsewhere.body["message"]


def test_a_file_the_dossier_does_not_name_is_not_served_through_it(d):
    e = teacher(d)
    n = with_file(d, e, ok(upload(d, files.pdf(uid("named")))))
    unnamed = ok(upload(d, files.pdf(uid("unnamed"))))
    refused(download(d, f"/nominations/{n['id']}/documents/{unnamed['sha256']}"), "documents.referenced",
            status=404)


def test_a_returned_dossiers_first_files_stay_readable_after_the_resubmission(d):
    e = teacher(d)
    first, second = ok(upload(d, files.pdf(uid("v1")))), ok(upload(d, files.docx(uid("v2")), filename="bs.docx"))
    n = with_file(d, e, first)
    ok(d.post("awards", f"/nominations/{n['id']}/appraisal", {"outcome": "returned", "reason": "Thiếu biên bản"},
              role="council", province=P))
    dossier = {"submission_letter": "Tờ trình 12/TTr", "achievement_report": "Báo cáo bổ sung",
               "council_minutes": BALLOT_8, "documents": [second]}
    again = ok(d.post("awards", f"/nominations/{n['id']}/resubmission", {"dossier": dossier}, **head_of(e, d)))
    assert again["dossier"]["documents"] == [second]
    for ref in (first, second):
        assert download(d, f"/nominations/{n['id']}/documents/{ref['sha256']}").status == 200


# == evaluation's evidence ======================================================================
def _evaluated_with(d, e, *refs):
    set_id = ok(d.get("evaluation", f"/evaluations/{e.registration_id}", role="council", province=P), 200)[0][
        "criteria_set_id"]
    d.at("2024-11-25")
    return d.post("evaluation", "/evaluations", {"registration_id": e.registration_id, "criteria_set_id": set_id,
                                                  "evidence": TEACHER_EVIDENCE, "documents": list(refs)},
                  role="council", province=P)


def test_a_council_evaluates_with_evidence_files_and_they_are_read_back_by_those_who_see_the_evaluation(d):
    e = teacher(d)
    content = files.pdf(uid("minh-chung"))
    ref = ok(upload(d, content, service="evaluation", role="council"))
    rounds = ok(_evaluated_with(d, e, {**ref, "criterion": "sang_kien"}))
    assert rounds["documents"] == [{**ref, "criterion": "sang_kien"}]
    path = f"/evaluations/{e.registration_id}/documents/{ref['sha256']}"
    by_council = download(d, path, service="evaluation")
    assert by_council.status == 200 and by_council.data == content
    head = download(d, path, service="evaluation", **head_of(e, d))
    assert head.status == 200 and head.headers["Content-Type"] == PDF_MEDIA
    refused(download(d, path, service="evaluation", **{**head_of(e, d), "unit": uid("khac")}),
            "documents.readers", status=403)
    refused(download(d, path, service="evaluation", role="participant"), "documents.readers", status=403)
    assert download(d, path, service="evaluation", province=OTHER).status == 404


def test_evidence_never_uploaded_or_for_a_criterion_not_in_the_set_is_refused_naming_the_field(d):
    e = teacher(d)
    ref = ok(upload(d, files.png(), filename=uid("anh") + ".png", service="evaluation", role="council"))
    ghost = {**ref, "sha256": hashlib.sha256(b"ghost").hexdigest()}
    assert set(refused(_evaluated_with(d, e, ghost), "documents.uploaded", status=422)["errors"]) == \
        {"documents.0.sha256"}
    r = _evaluated_with(d, e, ref, {**ref, "criterion": "khong_co"})
    assert r.status == 422 and set(r.body["errors"]) == {"documents.1.criterion"}, r
    assert len(ok(d.get("evaluation", f"/evaluations/{e.registration_id}", role="council", province=P), 200)) == 1


def test_an_evaluation_without_files_keeps_its_event_as_it_was(d, system):
    e = teacher(d)
    rounds = ok(d.get("evaluation", f"/evaluations/{e.registration_id}", role="council", province=P), 200)
    assert rounds[0]["documents"] == []
    rt = system.apps["evaluation"].extensions["runtime"]
    with rt.db.read() as conn:
        [event] = rt.store.load(conn, f"evaluation-{e.registration_id}")
    assert "documents" not in event.data


# == step 5: an exemplar proposed upward carries its dossier's files ============================
def test_an_exemplar_proposed_upward_names_its_files_and_refuses_one_never_uploaded(d):
    setup = s.exemplar_setup(d, P)
    exemplar_id = s.register_exemplar(d, P, setup)
    for number in range(1, 5):
        ok(s.step(d, number, P, exemplar_id, setup))
        d.settle()
    _, service, path, role, body = demo.step_requests(exemplar_id, setup)[4]
    claims = demo.claims(role, body, setup)
    ref = ok(upload(d, files.pdf(uid("to-trinh-dien-hinh")), role=role, **claims))
    ghost = {**ref, "sha256": hashlib.sha256(b"not sent").hexdigest()}
    with_ghost = {**body, "dossier": {**body["dossier"], "documents": [ghost]}}
    refused(d.post(service, path, with_ghost, role=role, province=P, **claims), "documents.uploaded", status=422)
    recognition = ok(d.post(service, path, {**body, "dossier": {**body["dossier"], "documents": [ref]}},
                            role=role, province=P, **claims))
    n = ok(d.get("awards", f"/nominations/{recognition['nomination_id']}", province=P), 200)
    assert n["dossier"]["documents"] == [ref]
    got = download(d, f"/nominations/{n['id']}/documents/{ref['sha256']}")
    assert got.status == 200 and got.headers["Content-Type"] == PDF_MEDIA
