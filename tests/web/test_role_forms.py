"""The role pages' forms turned into the services' request bodies (web/roles/forms.py)."""
import json

import pytest
from werkzeug.datastructures import MultiDict

from web.roles import forms
from web.roles.forms import FormError

SHARE = {"code": "ldtt", "label": "Tỷ lệ lao động tiên tiến", "kind": "quantitative", "metric": "ldtt_share_pct",
         "comparison": ">=", "threshold": 70, "unit": "%"}
YEARS = {"code": "ttlds", "label": "Số năm tập thể lao động xuất sắc", "kind": "quantitative", "metric": "years",
         "comparison": ">=", "threshold": 2, "window": {"from": 2021, "to": 2025}}
RATING = {"code": "xep_loai", "label": "Xếp loại", "kind": "quantitative", "metric": "rating", "comparison": "in",
          "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]}
YES_NO = {"code": "sk", "label": "Sáng kiến cấp tỉnh", "kind": "quantitative", "metric": "scope", "comparison": "==",
          "threshold": True}
VOTE = {"code": "dao_duc", "label": "Đạo đức", "kind": "qualitative", "vote_threshold_pct": 80}


def test_pledge_rows_without_content_are_left_out_though_their_dates_were_filled_in():
    form = MultiDict([("pledge_content", "Có sáng kiến"), ("pledge_area", ""), ("pledge_start", "2026-09-05"),
                      ("pledge_end", "2027-05-31"), ("pledge_content", ""), ("pledge_area", ""),
                      ("pledge_start", "2026-09-05"), ("pledge_end", "2027-05-31")])
    assert forms.pledges(form) == [{"content": "Có sáng kiến", "start": "2026-09-05", "end": "2027-05-31"}]


def test_the_evidence_of_each_kind_of_criterion_takes_the_shape_evaluation_reads():
    form = MultiDict({"ev_ldtt": "8/10", "ev_ttlds": "2022, 2023;2024", "ev_xep_loai": "hoan_thanh_tot",
                      "ev_sk": "true", "ev_dao_duc_judgement": "pass", "ev_dao_duc_votes_for": "9",
                      "ev_dao_duc_members_total": "11", "ev_dao_duc_note": ""})
    assert forms.evidence([SHARE, YEARS, RATING, YES_NO, VOTE], form) == {
        "ldtt": {"numerator": 8, "denominator": 10}, "ttlds": [2022, 2023, 2024], "xep_loai": "hoan_thanh_tot",
        "sk": True, "dao_duc": {"judgement": "pass", "votes_for": 9, "members_total": 11, "note": None}}


def test_a_criterion_left_empty_is_left_out_for_the_council_to_judge_as_missing():
    assert forms.evidence([SHARE, VOTE], MultiDict({"ev_ldtt": " "})) == {}


def test_a_decimal_comma_is_read_as_vietnamese_write_it():
    number = {**SHARE, "code": "diem", "threshold": 8.5}
    assert forms.evidence([number], MultiDict({"ev_diem": "8,75"})) == {"diem": 8.75}


@pytest.mark.parametrize("criterion,form,field", [
    (SHARE, {"ev_ldtt": "tám/10"}, "ev_ldtt"),
    (YEARS, {"ev_ttlds": "năm 2022"}, "ev_ttlds"),
    ({**SHARE, "code": "n"}, {"ev_n": "nhiều"}, "ev_n"),
    (VOTE, {"ev_dao_duc_judgement": "pass", "ev_dao_duc_votes_for": "chín"}, "ev_dao_duc_votes_for"),
])
def test_evidence_the_page_can_tell_is_wrong_is_refused_naming_its_field(criterion, form, field):
    with pytest.raises(FormError) as refused:
        forms.evidence([criterion], MultiDict(form))
    assert refused.value.field == field
    assert refused.value.reason


def test_the_dossier_carries_the_council_minutes_only_with_both_counts():
    form = MultiDict({"submission_letter": "TTr 12/TTr-THPT", "achievement_report": "Báo cáo",
                      "members_total": "11", "votes_for": "10", "meeting_date": "2026-12-01",
                      "certifications": "Sáng kiến cấp tỉnh\n\n Xếp loại xuất sắc "})
    assert forms.dossier(form) == {
        "submission_letter": "TTr 12/TTr-THPT", "achievement_report": "Báo cáo",
        "certifications": ["Sáng kiến cấp tỉnh", "Xếp loại xuất sắc"],
        "council_minutes": {"members_total": 11, "votes_for": 10, "meeting_date": "2026-12-01"}}
    assert "council_minutes" not in forms.dossier(MultiDict({"submission_letter": "TTr 1"}))
    with pytest.raises(FormError) as refused:
        forms.dossier(MultiDict({"votes_for": "10"}))
    assert refused.value.field == "members_total"


def test_criteria_rows_become_criteria_with_typed_thresholds():
    form = MultiDict([
        ("crit_code", "xep_loai"), ("crit_label", "Xếp loại"), ("crit_kind", "quantitative"), ("crit_metric", "rating"),
        ("crit_comparison", "in"), ("crit_threshold", "hoan_thanh_tot, hoan_thanh_xuat_sac"), ("crit_unit", ""),
        ("crit_vote_pct", ""),
        ("crit_code", "dao_duc"), ("crit_label", "Đạo đức"), ("crit_kind", "qualitative"), ("crit_metric", ""),
        ("crit_comparison", ""), ("crit_threshold", ""), ("crit_unit", ""), ("crit_vote_pct", "80"),
        ("crit_code", "sang_kien"), ("crit_label", "Sáng kiến"), ("crit_kind", "quantitative"),
        ("crit_metric", "initiatives"), ("crit_comparison", ">="), ("crit_threshold", "1"), ("crit_unit", ""),
        ("crit_vote_pct", "")])
    assert forms.criteria(form) == [
        {"code": "xep_loai", "label": "Xếp loại", "kind": "quantitative", "metric": "rating", "comparison": "in",
         "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]},
        {"code": "dao_duc", "label": "Đạo đức", "kind": "qualitative", "vote_threshold_pct": 80},
        {"code": "sang_kien", "label": "Sáng kiến", "kind": "quantitative", "metric": "initiatives",
         "comparison": ">=", "threshold": 1}]


def test_the_files_uploaded_for_a_dossier_ride_in_it_by_their_reference():
    ref = {"sha256": "a" * 64, "name": "Báo cáo thành tích.pdf", "media_type": "application/pdf", "size": 1024}
    form = MultiDict([("submission_letter", "TTr 1"), ("document", json.dumps(ref)), ("document", "")])
    assert forms.dossier(form)["documents"] == [ref]
    with pytest.raises(FormError) as refused:
        forms.dossier(MultiDict({"document": "not json"}))
    assert refused.value.field == "document"


def test_the_council_is_offered_the_campaigns_criteria_sets_first_then_those_of_the_candidates_group():
    from web.roles.council import _suitable
    sets = [{"id": "hs", "applies_to": ["student"]}, {"id": "chung", "applies_to": []},
            {"id": "gv", "applies_to": ["teacher"]}, {"id": "ke-hoach", "applies_to": ["collective"]}]
    teacher = {"participant_kind": "individual", "individual_kind": "teacher"}
    assert [s["id"] for s in _suitable(sets, teacher, ["ke-hoach"])] == ["ke-hoach", "chung", "gv", "hs"]


def test_a_saved_criteria_set_comes_back_as_the_rows_it_was_typed_in():
    typed = MultiDict([("crit_code", "xep_loai"), ("crit_label", "Xếp loại"), ("crit_kind", "quantitative"),
                       ("crit_metric", "rating"), ("crit_comparison", "in"),
                       ("crit_threshold", "hoan_thanh_tot, hoan_thanh_xuat_sac"), ("crit_unit", ""),
                       ("crit_vote_pct", ""), ("crit_code", "dao_duc"), ("crit_label", "Đạo đức"),
                       ("crit_kind", "qualitative"), ("crit_metric", ""), ("crit_comparison", ""),
                       ("crit_threshold", ""), ("crit_unit", ""), ("crit_vote_pct", "80")])
    saved = forms.criteria(typed)
    again = MultiDict([(f"crit_{k}", v) for row in map(forms.criterion_row, saved) for k, v in row.items()])
    assert forms.criteria(again) == saved
