"""Evaluation's rules (bình xét), at the bus level: how each criterion is judged, and what is
refused, why, and what is (not) stored.

One in-process system serves the whole module (building one costs ~0.2 s); every test makes
its own campaign, registration and criteria set under fresh ids, so tests do not meet.
"""
from __future__ import annotations


import pytest

from tests.driver import InProcess
from tests.scenarios import criteria_set, evaluate, individual, launch, ok, register, uid
from tests.unit.conftest import SECRET, module_system

P = "86"  # Vĩnh Long


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "evaluation-rules")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


# -- helpers -------------------------------------------------------------------------------
def campaign(d) -> str:
    return launch(d, P, title="Phong trào thi đua dạy tốt, học tốt năm 2024", issuer="Sở GD&ĐT Vĩnh Long")["id"]


def teacher(d, cid: str | None = None, settle: bool = True) -> str:
    """A teacher registered to a (new) campaign; settled so that evaluation knows of it."""
    rid = ok(register(d, P, cid or campaign(d), individual("teacher", "Nguyễn Thị Lan"), on="2024-04-01"))["id"]
    if settle:
        d.settle()
    return rid


def quantitative(code="chi_tieu", metric="chi_so", comparison=">=", threshold=70, **extra) -> dict:
    return {"code": code, "label": f"Tiêu chí {code}", "kind": "quantitative", "metric": metric,
            "comparison": comparison, "threshold": threshold, **extra}


def a_set(d, criteria: list, applies_to=("teacher",)) -> str:
    set_id = uid("bo-tieu-chi")
    criteria_set(d, P, set_id, "Tiêu chí bình xét giáo viên", list(applies_to), criteria,
                 "Kế hoạch thi đua năm học 2024 của Sở GD&ĐT Vĩnh Long")
    return set_id


def result(reply, code: str) -> dict:
    body = ok(reply)
    return next(r for r in body["results"] if r["code"] == code)


def rounds(d, rid: str):
    return d.get("evaluation", f"/evaluations/{rid}", province=P)


# -- comparisons ------------------------------------------------------------------------------
@pytest.mark.parametrize("comparison,threshold,passing,failing,words", [
    (">=", 70, 70, 69, "ít nhất 70"),
    (">", 70, 71, 70, "trên 70"),
    ("<=", 2, 2, 3, "không quá 2"),
    ("<", 2, 1, 2, "dưới 2"),
    ("==", 0, 0, 1, "bằng 0"),
    ("in", ["hoan_thanh_tot", "hoan_thanh_xuat_sac"], "hoan_thanh_tot", "hoan_thanh_nhiem_vu", "thuộc"),
], ids=["ge", "gt", "le", "lt", "eq", "in"])
def test_each_comparison_passes_at_its_boundary_and_fails_just_beyond(d, comparison, threshold, passing,
                                                                      failing, words):
    set_id = a_set(d, [quantitative(comparison=comparison, threshold=threshold)])
    rid = teacher(d)
    good = result(evaluate(d, P, rid, set_id, {"chi_tieu": passing}), "chi_tieu")
    assert good["passed"] is True and good["value"] == passing
    assert good["reason"].startswith("Đạt") and words in good["reason"]
    bad = evaluate(d, P, rid, set_id, {"chi_tieu": failing})
    assert ok(bad)["passed"] is False
    assert bad.body["results"][0]["passed"] is False
    assert bad.body["results"][0]["reason"].startswith("Không đạt") and words in bad.body["results"][0]["reason"]


def test_a_value_that_cannot_be_compared_fails_with_a_reason_instead_of_an_error(d):
    set_id = a_set(d, [quantitative(comparison=">=", threshold=70)])
    r = result(evaluate(d, P, teacher(d), set_id, {"chi_tieu": "bảy mươi"}), "chi_tieu")
    assert r["passed"] is False and "không so sánh được" in r["reason"]


# -- evidence forms ------------------------------------------------------------------------------
def test_a_share_is_computed_in_per_cent_from_numerator_and_denominator(d):
    set_id = a_set(d, [quantitative(code="ldtt", metric="ldtt_share_pct", threshold=70, unit="%")])
    rid = teacher(d)
    exactly = result(evaluate(d, P, rid, set_id, {"ldtt": {"numerator": 21, "denominator": 30}}), "ldtt")
    assert exactly["passed"] is True and exactly["value"] == 70.0 and "70%" in exactly["reason"]
    short = result(evaluate(d, P, rid, set_id, {"ldtt": {"numerator": 20, "denominator": 30}}), "ldtt")
    assert short["passed"] is False and short["value"] == pytest.approx(66.67)
    assert "66.67%" in short["reason"] and "ít nhất 70%" in short["reason"]


def test_a_share_of_nobody_counts_as_zero_per_cent(d):
    set_id = a_set(d, [quantitative(code="ldtt", metric="ldtt_share_pct", threshold=70)])
    r = result(evaluate(d, P, teacher(d), set_id, {"ldtt": {"numerator": 0, "denominator": 0}}), "ldtt")
    assert r["passed"] is False and r["value"] == 0.0


def test_years_are_counted_only_inside_the_window_and_each_year_once(d):
    set_id = a_set(d, [quantitative(code="ttldxs", metric="ttldxs_years", threshold=2,
                                    window={"from": 2021, "to": 2025})])
    rid = teacher(d)
    two = result(evaluate(d, P, rid, set_id, {"ttldxs": [2020, 2021, 2023, 2023, 2026]}), "ttldxs")
    assert two["passed"] is True and two["value"] == 2  # 2021 and 2023; 2020, 2026 are outside
    one = result(evaluate(d, P, rid, set_id, {"ttldxs": [2019, 2020, 2022, 2026]}), "ttldxs")
    assert one["passed"] is False and one["value"] == 1


# -- qualitative judgement ---------------------------------------------------------------------------
QUALITATIVE = {"code": "sang_tao", "label": "Giải pháp đổi mới được tập thể ghi nhận", "kind": "qualitative",
               "vote_threshold_pct": 50}


def test_a_qualitative_judgement_below_the_vote_threshold_fails_naming_the_votes(d):
    set_id = a_set(d, [QUALITATIVE])
    r = result(evaluate(d, P, teacher(d), set_id,
                        {"sang_tao": {"judgement": "pass", "votes_for": 4, "members_total": 11}}), "sang_tao")
    assert r["passed"] is False and r["votes"] == {"for": 4, "members": 11}
    assert "4/11" in r["reason"] and "50" in r["reason"]


def test_a_qualitative_judgement_at_or_above_the_vote_threshold_passes(d):
    set_id = a_set(d, [QUALITATIVE])
    r = result(evaluate(d, P, teacher(d), set_id,
                        {"sang_tao": {"judgement": "pass", "votes_for": 6, "members_total": 11,
                                      "note": "Sáng kiến áp dụng toàn trường"}}), "sang_tao")
    assert r["passed"] is True and "Sáng kiến áp dụng toàn trường" in r["reason"]


def test_a_qualitative_pass_without_the_vote_count_fails_when_a_threshold_is_set(d):
    set_id = a_set(d, [QUALITATIVE])
    r = result(evaluate(d, P, teacher(d), set_id, {"sang_tao": {"judgement": "pass"}}), "sang_tao")
    assert r["passed"] is False and "votes_for" in r["reason"]


def test_a_council_that_judges_fail_fails_the_criterion_whatever_the_votes(d):
    set_id = a_set(d, [QUALITATIVE])
    r = result(evaluate(d, P, teacher(d), set_id,
                        {"sang_tao": {"judgement": "fail", "votes_for": 11, "members_total": 11}}), "sang_tao")
    assert r["passed"] is False and "không đạt" in r["reason"]


# -- missing and unknown evidence ------------------------------------------------------------------
def test_missing_evidence_fails_its_criterion_with_a_reason_and_the_evaluation_fails(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1), quantitative(code="b", metric="khac", threshold=1)])
    body = ok(evaluate(d, P, teacher(d), set_id, {"a": 3}))
    assert body["passed"] is False
    by_code = {r["code"]: r for r in body["results"]}
    assert by_code["a"]["passed"] is True
    assert by_code["b"]["passed"] is False and by_code["b"]["reason"] == "Thiếu minh chứng cho tiêu chí này"


def test_evidence_for_an_unknown_criterion_is_refused_naming_it_and_nothing_is_stored(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    r = evaluate(d, P, rid, set_id, {"a": 3, "khong_co": 1})
    assert r.status == 422 and "evidence.khong_co" in r.body["errors"], r
    assert "evidence.a" not in r.body["errors"]
    assert rounds(d, rid).status == 404
    assert ok(d.get("evaluation", f"/candidates/{rid}", province=P), 200)["status"] == "awaiting_evaluation"


@pytest.mark.parametrize("criterion,evidence", [
    (quantitative(code="y", threshold=2, window={"from": 2021, "to": 2025}), ["năm 2021", 2022]),
    (quantitative(code="y", threshold=70), {"numerator": "hai mươi", "denominator": 30}),
    (quantitative(code="y", threshold=70), {"numerator": 20}),
    (dict(QUALITATIVE, code="y"), 5),
    (dict(QUALITATIVE, code="y"), {"judgement": "pass", "votes_for": "nhiều", "members_total": 11}),
    (dict(QUALITATIVE, code="y"), {"judgement": "pass", "votes_for": 12, "members_total": 11}),
], ids=["years-not-years", "share-of-text", "share-without-denominator", "judgement-not-an-object",
        "votes-not-a-number", "more-votes-than-members"])
def test_malformed_evidence_is_refused_naming_its_criterion_and_nothing_is_stored(d, criterion, evidence):
    set_id = a_set(d, [criterion, quantitative(code="khac", metric="khac", threshold=1)])
    rid = teacher(d)
    r = evaluate(d, P, rid, set_id, {"y": evidence, "khac": 2})
    assert r.status == 422, r
    assert set(r.body["errors"]) == {"evidence.y"}
    assert rounds(d, rid).status == 404


# -- which criteria set, which participant -------------------------------------------------------------
def test_a_criteria_set_for_other_participants_is_refused(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)], applies_to=("student", "collective"))
    rid = teacher(d)
    r = evaluate(d, P, rid, set_id, {"a": 3})
    assert r.status == 409 and r.body["rule"] == "evaluation.criteria_set_applies", r
    assert "teacher" in r.body["message"]
    assert rounds(d, rid).status == 404


def test_a_criteria_set_of_another_province_answers_exactly_as_a_missing_one(d):
    other, missing = uid("bo-khac"), uid("bo-khac")
    criteria_set(d, "52", other, "Tiêu chí của tỉnh khác", ["teacher"], [quantitative(code="a", threshold=1)],
                 "Kế hoạch của tỉnh khác")
    rid = teacher(d)
    used, absent = evaluate(d, P, rid, other, {"a": 3}), evaluate(d, P, rid, missing, {"a": 3})
    assert used.status == absent.status == 409 and used.body["rule"] == "evaluation.criteria_set_exists", used
    assert used.body == {**absent.body, "message": absent.body["message"].replace(missing, other)}
    shown, unknown = (d.get("evaluation", f"/criteria-sets/{i}", province=P) for i in (other, missing))
    assert shown.status == unknown.status == 404
    assert shown.body == {**unknown.body, "message": unknown.body["message"].replace(missing, other)}
    assert other not in [c["id"] for c in ok(d.get("evaluation", "/criteria-sets", province=P), 200)]
    assert rounds(d, rid).status == 404


def test_two_provinces_define_the_same_criteria_set_id_each_its_own(d):
    set_id = uid("gv-2025")
    mine = criteria_set(d, P, set_id, "Tiêu chí giáo viên Vĩnh Long", ["teacher"],
                        [quantitative(code="a", threshold=1)], "Kế hoạch của Sở GD&ĐT Vĩnh Long")
    theirs = criteria_set(d, "52", set_id, "Tiêu chí giáo viên Bình Định", ["teacher"],
                          [quantitative(code="a", threshold=5)], "Kế hoạch của Sở GD&ĐT Bình Định")
    assert mine["version"] == theirs["version"] == 1  # a first definition in each province, not a new version
    assert ok(d.get("evaluation", f"/criteria-sets/{set_id}", province=P), 200)["name"] == "Tiêu chí giáo viên Vĩnh Long"
    assert ok(d.get("evaluation", f"/criteria-sets/{set_id}", province="52"), 200)["criteria"][0]["threshold"] == 5
    result = ok(evaluate(d, P, teacher(d), set_id, {"a": 3}))  # by this province's set: 3 >= 1
    assert result["passed"] is True and result["criteria_set_version"] == 1


def test_a_set_defined_before_ids_were_each_provinces_own_lives_on_in_its_province(d, system):
    from shared.aggregate import CommandContext, record
    from shared.envelope import Actor
    from services.evaluation import domain
    from services.evaluation.projections import OWN_EVENTS
    set_id = uid("cu")
    rt = system.apps["evaluation"].extensions["runtime"]
    with rt.db.write() as conn:  # as the service wrote it before: stream criteria-<id>
        record(rt.store, conn, f"criteria-{set_id}", domain.CriteriaSet(set_id), domain.CRITERIA_SET_DEFINED,
               {"criteria_set_id": set_id, "set_version": 1, "name": "Bộ tiêu chí cũ", "applies_to": ["teacher"],
                "criteria": [quantitative(code="a", threshold=1)], "source": "Kế hoạch cũ"},
               CommandContext("evaluation", P, Actor("tester", "council"), "c", "c"), project=OWN_EVENTS)
    assert ok(evaluate(d, P, teacher(d), set_id, {"a": 3}))["criteria_set_version"] == 1
    redefined = criteria_set(d, P, set_id, "Bộ tiêu chí cũ (sửa đổi)", ["teacher"],
                             [quantitative(code="a", threshold=5)], "Kế hoạch sửa đổi")
    assert redefined["version"] == 2  # the same set, its history kept
    with rt.db.read() as conn:
        assert rt.store.version(conn, f"criteria-{set_id}") == 2
        assert rt.store.version(conn, f"criteria-{P}:{set_id}") == 0
    elsewhere = criteria_set(d, "52", set_id, "Bộ tiêu chí của tỉnh khác", ["teacher"],
                             [quantitative(code="a", threshold=1)], "Kế hoạch khác")
    assert elsewhere["version"] == 1  # the old stream is Vĩnh Long's, not Bình Định's


def test_redefining_a_criteria_set_makes_a_new_version_used_by_new_evaluations(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    first = ok(evaluate(d, P, rid, set_id, {"a": 3}))
    assert first["criteria_set_version"] == 1 and first["passed"] is True
    redefined = criteria_set(d, P, set_id, "Tiêu chí bình xét giáo viên (sửa đổi)", ["teacher"],
                             [quantitative(code="a", threshold=5)], "Kế hoạch sửa đổi")
    assert redefined["version"] == 2 and redefined["criteria"][0]["threshold"] == 5
    second = ok(evaluate(d, P, rid, set_id, {"a": 3}))
    assert second["criteria_set_version"] == 2 and second["passed"] is False and second["round"] == 2
    history = ok(rounds(d, rid), 200)
    assert [(h["round"], h["criteria_set_version"], h["passed"]) for h in history] == [(1, 1, True), (2, 2, False)]


def test_evaluating_a_registration_evaluation_has_not_seen_yet_is_retryable(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d, settle=False)
    r = evaluate(d, P, rid, set_id, {"a": 3})
    assert r.status == 409 and r.body["retryable"] is True, r
    assert r.body["rule"] == "evaluation.registration_known"
    d.settle()
    assert ok(evaluate(d, P, rid, set_id, {"a": 3}))["passed"] is True


def test_a_withdrawn_registration_is_not_evaluated(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    ok(d.post("registration", f"/registrations/{rid}/withdrawal", {"reason": "Chuyển công tác"},
              role="department", province=P))
    d.settle()
    r = evaluate(d, P, rid, set_id, {"a": 3})
    assert r.status == 409 and r.body["rule"] == "evaluation.withdrawn", r
    assert rounds(d, rid).status == 404


# -- bad criteria definitions ------------------------------------------------------------------------
def define(d, criteria, role="council"):
    set_id = uid("bo-sai")
    reply = d.post("evaluation", "/criteria-sets", {"id": set_id, "name": "Bộ tiêu chí", "applies_to": ["teacher"],
                                                     "criteria": criteria, "source": "Kế hoạch"},
                   role=role, province=P)
    return set_id, reply


def criterion_errors(reply, index=0) -> dict:
    assert reply.status == 422, reply
    return reply.body["errors"]["json"]["criteria"][str(index)]


def test_a_quantitative_criterion_without_a_metric_is_refused_naming_the_field(d):
    bad = {k: v for k, v in quantitative().items() if k != "metric"}
    set_id, r = define(d, [bad])
    assert set(criterion_errors(r)) == {"metric"}
    assert d.get("evaluation", f"/criteria-sets/{set_id}", province=P).status == 404


def test_an_in_comparison_with_a_threshold_that_is_not_a_list_is_refused_naming_the_threshold(d):
    set_id, r = define(d, [quantitative(code="ok", threshold=1),
                           quantitative(code="xep_loai", metric="rating", comparison="in",
                                        threshold="hoan_thanh_tot")])
    assert set(criterion_errors(r, 1)) == {"threshold"}
    assert "list" in criterion_errors(r, 1)["threshold"][0]
    assert d.get("evaluation", f"/criteria-sets/{set_id}", province=P).status == 404


def test_duplicate_criterion_codes_are_refused(d):
    set_id, r = define(d, [quantitative(code="a"), quantitative(code="a", metric="khac")])
    assert r.status == 422 and "criteria" in r.body["errors"], r
    assert d.get("evaluation", f"/criteria-sets/{set_id}", province=P).status == 404


# -- roles --------------------------------------------------------------------------------------------
def test_a_unit_head_cannot_evaluate_and_nothing_is_stored(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    r = d.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                              "evidence": {"a": 3}}, role="unit_head", province=P)
    assert r.status == 403 and "council" in r.body["message"], r
    assert rounds(d, rid).status == 404


def test_a_unit_head_cannot_define_criteria(d):
    set_id, r = define(d, [quantitative()], role="unit_head")
    assert r.status == 403, r
    assert d.get("evaluation", f"/criteria-sets/{set_id}", province=P).status == 404


def test_an_evaluation_passes_only_when_every_criterion_passes_and_awards_learns_the_metrics(d):
    set_id = a_set(d, [quantitative(code="ldtt", metric="ldtt_share_pct", threshold=70),
                       quantitative(code="xep_loai", metric="rating", comparison="in",
                                    threshold=["hoan_thanh_tot", "hoan_thanh_xuat_sac"])])
    cid = campaign(d)
    rid = teacher(d, cid)
    assert ok(evaluate(d, P, rid, set_id, {"ldtt": {"numerator": 8, "denominator": 10},
                                           "xep_loai": "hoan_thanh_tot"}))["passed"] is True
    d.settle()
    [participant] = ok(d.get("awards", f"/campaigns/{cid}/participants", province=P), 200)
    assert participant["evaluation"] == "passed"
    assert ok(d.get("evaluation", f"/candidates/{rid}", province=P), 200)["status"] == "passed"



# -- the server's date ------------------------------------------------------------------------------
def test_an_evaluation_is_dated_by_the_server_and_a_date_in_the_body_is_refused(d):
    set_id = a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    d.at("2024-05-10")
    back_dated = d.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                                       "evidence": {"a": 3}, "evaluated_on": "2023-01-01"},
                        role="council", province=P)
    assert back_dated.status == 422 and "evaluated_on" in back_dated.body["errors"]["json"], back_dated
    assert rounds(d, rid).status == 404
    assert ok(evaluate(d, P, rid, set_id, {"a": 3}, on="2024-05-12"))["evaluated_on"] == "2024-05-12"


# -- a unit's council evaluates in its unit -----------------------------------------------------------
def units(d) -> dict:
    """A district office and two schools under it, as registration knows them (and evaluation learns)."""
    ids = {"office": uid("phong"), "school": uid("thcs"), "other": uid("thcs")}
    ok(d.post("registration", "/units", {"id": ids["office"], "name": "Phòng GD&ĐT Long Hồ", "kind": "office"},
              province=P))
    for key in ("school", "other"):
        ok(d.post("registration", "/units", {"id": ids[key], "name": f"Trường THCS {key}", "kind": "school",
                                             "parent_id": ids["office"]}, province=P))
    return ids


def teacher_of(d, unit_id: str) -> str:
    who = individual("teacher", "Lê Văn Tư", unit_id=unit_id)
    rid = ok(register(d, P, campaign(d), who, on="2024-04-01"))["id"]
    d.settle()
    return rid


def by_council(d, rid, set_id, unit=None):
    return d.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                                 "evidence": {"a": 3}}, role="council", province=P, unit=unit)


def test_a_schools_council_cannot_evaluate_another_schools_candidate(d):
    ids, set_id = units(d), a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher_of(d, ids["other"])
    r = by_council(d, rid, set_id, unit=ids["school"])
    assert r.status == 403 and r.body["rule"] == "evaluation.council_scope", r
    assert ids["school"] in r.body["message"]
    assert rounds(d, rid).status == 404
    assert ok(by_council(d, rid, set_id, unit=ids["other"]))["passed"] is True  # its own school's council


def test_a_councils_unit_covers_the_units_under_it_and_the_provinces_council_covers_all(d):
    ids, set_id = units(d), a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher_of(d, ids["school"])
    assert ok(by_council(d, rid, set_id, unit=ids["office"]))["round"] == 1
    assert ok(by_council(d, rid, set_id))["round"] == 2
    assert ok(d.get("evaluation", f"/candidates/{rid}", province=P), 200)["unit_id"] == ids["school"]


def test_a_candidate_registered_without_a_unit_is_left_to_the_provinces_council(d):
    ids, set_id = units(d), a_set(d, [quantitative(code="a", threshold=1)])
    rid = teacher(d)
    r = by_council(d, rid, set_id, unit=ids["office"])
    assert r.status == 403 and r.body["rule"] == "evaluation.council_scope", r
    assert ok(by_council(d, rid, set_id))["passed"] is True


def test_an_exemplar_review_is_dated_by_the_server_and_a_date_in_the_body_is_refused(d):
    from tests import scenarios
    from tools import demo
    setup = scenarios.exemplar_setup(d, P)
    exemplar_id = scenarios.register_exemplar(d, P, setup)
    for number in (1, 2, 3):
        ok(scenarios.STEP_CALLS[number](d, P, exemplar_id, setup))
        d.settle()
    _, service, path, role, body = demo.step_requests(exemplar_id, setup)[3]
    d.at("2024-10-02")
    back_dated = d.post(service, path, {**body, "reviewed_on": "2024-09-01"}, role=role, province=P)
    assert back_dated.status == 422 and "reviewed_on" in back_dated.body["errors"]["json"], back_dated
    assert d.get(service, path, province=P).status == 404
    assert ok(d.post(service, path, body, role=role, province=P))["reviewed_on"] == "2024-10-02"


def test_a_units_council_reviews_only_how_its_own_units_learned_from_an_exemplar(d):
    from tests import scenarios
    from tools import demo
    setup = scenarios.exemplar_setup(d, P)  # the Sở, and two schools under it: the exemplar and the learner
    exemplar_id = scenarios.register_exemplar(d, P, setup)
    for number in (1, 2, 3):
        ok(scenarios.STEP_CALLS[number](d, P, exemplar_id, setup))
        d.settle()
    _, service, path, role, body = demo.step_requests(exemplar_id, setup)[3]
    other = d.post(service, path, body, role=role, province=P, unit=setup["school"])
    assert other.status == 403 and other.body["rule"] == "exemplar.review_scope", other
    assert setup["learner"] in other.body["message"]
    assert d.get(service, path, province=P).status == 404
    ok(d.post(service, path, body, role=role, province=P, unit=setup["root"]))  # the Sở's own council
