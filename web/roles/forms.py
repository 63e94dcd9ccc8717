"""What the role pages' forms become: the bodies of the services' requests.

A browser form is flat text (repeated fields for the rows of a list); the services take
JSON. The turning is here, in plain functions, so the pages stay small and the rules of
reading a form are tested on their own. A value the page can tell is wrong before any
service sees it (a vote that is not a whole number, a share without its two numbers) is
refused with :class:`FormError`, which the page shows as a service's 422;
everything else (ranges, dates, rules) is the services' to judge.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from werkzeug.datastructures import MultiDict


class FormError(Exception):
    """A field of the form that cannot become a request, and why (shown as a 422 by the page)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def text(form: Mapping[str, str], name: str) -> str | None:
    """A field's text, trimmed; None when left empty (the service then applies its default)."""
    value = (form.get(name) or "").strip()
    return value or None


def rows(form: MultiDict, prefix: str, names: tuple[str, ...]) -> list[dict[str, str | None]]:
    """The rows of a repeated group (``<prefix>_<name>`` fields, one per row), blank rows left out."""
    columns = {n: form.getlist(f"{prefix}_{n}") for n in names}
    count = max((len(c) for c in columns.values()), default=0)
    out = []
    for i in range(count):
        row = {n: ((columns[n][i] if i < len(columns[n]) else "") or "").strip() or None for n in names}
        if any(row.values()):
            out.append(row)
    return out


PLEDGE_FIELDS = ("content", "area", "start", "end")


def pledges(form: MultiDict) -> list[dict[str, Any]]:
    """Nội dung đăng ký thi đua: content, area, start, end per row; a row with no content or area is an
    empty one (its dates are only the campaign's, filled in beforehand)."""
    return [{k: v for k, v in row.items() if v is not None} for row in rows(form, "pledge", PLEDGE_FIELDS)
            if row["content"] or row["area"]]


def whole(value: str | None, field: str, what: str) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{1,9}", value):
        raise FormError(field, f"{what} phải là số nguyên, 0 trở lên (a whole number)")
    return int(value)


def number(value: str, field: str, what: str) -> int | float:
    """A number as Vietnamese write it too: ``1,5`` is one and a half."""
    plain = value.replace(" ", "").replace(",", ".")
    if re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if re.fullmatch(r"-?\d*\.\d+", plain):
        return float(plain)
    raise FormError(field, f"{what} phải là một số (a number)")


def dossier(form: MultiDict) -> dict[str, Any]:
    """Hồ sơ đề nghị: tờ trình, báo cáo thành tích, biên bản họp hội đồng (kết quả bỏ phiếu), chứng nhận,
    and the files uploaded for it (``document`` fields)."""
    out: dict[str, Any] = {"submission_letter": text(form, "submission_letter"),
                           "achievement_report": text(form, "achievement_report"),
                           "certifications": [line.strip() for line in (form.get("certifications") or "").splitlines()
                                              if line.strip()]}
    documents = [_document(value) for value in form.getlist("document") if value.strip()]
    if documents:
        out["documents"] = documents
    members = whole(text(form, "members_total"), "members_total", "Tổng số thành viên hội đồng")
    votes = whole(text(form, "votes_for"), "votes_for", "Số phiếu tán thành")
    if members is not None or votes is not None:
        if members is None or votes is None:
            missing = "members_total" if members is None else "votes_for"
            raise FormError(missing, "Biên bản họp hội đồng cần cả tổng số thành viên và số phiếu tán thành")
        out["council_minutes"] = {"members_total": members, "votes_for": votes,
                                  "meeting_date": text(form, "meeting_date")}
    return out


def _document(value: str) -> dict[str, Any]:
    """A dossier file already uploaded (``POST /documents/awards`` of the gateway, web/documents.py),
    carried by the form as the reference that upload answered: ``{"sha256", "name", "media_type", "size"}``."""
    try:
        ref = json.loads(value)
    except ValueError:
        ref = None
    if not isinstance(ref, dict) or not isinstance(ref.get("sha256"), str):
        raise FormError("document", "Tệp hồ sơ không đọc được; hãy tải tệp lên lại (a file reference is not valid)")
    return {k: ref[k] for k in ("sha256", "name", "media_type", "size") if k in ref}


def threshold(value: str | None, comparison: str | None, field: str) -> Any:
    """A criterion's threshold as typed: a list for ``in`` (comma-separated), a number, yes/no, else text."""
    if value is None:
        return None
    if comparison == "in":
        return [v.strip() for v in value.split(",") if v.strip()]
    if value.lower() in ("true", "có", "co"):
        return True
    if value.lower() in ("false", "không", "khong"):
        return False
    try:
        return number(value, field, "Ngưỡng")
    except FormError:
        return value


CRITERION_FIELDS = ("code", "label", "kind", "metric", "comparison", "threshold", "unit", "vote_pct")


def criteria(form: MultiDict) -> list[dict[str, Any]]:
    """Các tiêu chí of a criteria set, one row each; empty cells are left to the service's defaults."""
    out = []
    for i, row in enumerate(rows(form, "crit", CRITERION_FIELDS)):
        criterion = {k: row[k] for k in ("code", "label", "kind", "metric", "comparison", "unit") if row[k]}
        criterion.setdefault("kind", "quantitative")
        if row["threshold"] is not None:
            criterion["threshold"] = threshold(row["threshold"], row["comparison"], f"crit_threshold[{i}]")
        if row["vote_pct"] is not None:
            criterion["vote_threshold_pct"] = number(row["vote_pct"], f"crit_vote_pct[{i}]", "Tỷ lệ phiếu cần đạt")
        out.append(criterion)
    return out


def criterion_row(criterion: dict[str, Any]) -> dict[str, str]:
    """A criterion of a saved set as the fields of its form row (the inverse of :func:`criteria`)."""
    value = criterion.get("threshold")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else \
        ("true" if value is True else "false" if value is False else "" if value is None else str(value))
    pct = criterion.get("vote_threshold_pct")
    return {"code": criterion["code"], "label": criterion["label"], "kind": criterion["kind"],
            "metric": criterion.get("metric") or "", "comparison": criterion.get("comparison") or "",
            "threshold": shown, "unit": criterion.get("unit") or "",
            "vote_pct": "" if pct is None else f"{pct:g}"}


def criteria_set_form(criteria_set: dict[str, Any]) -> MultiDict:
    """A saved set's own fields (its rows come from :func:`criterion_row`)."""
    fields = MultiDict({k: criteria_set[k] for k in ("id", "name", "source")})
    for group in criteria_set["applies_to"]:
        fields.add("applies_to", group)
    return fields


def evidence(criteria_: list[dict[str, Any]], form: MultiDict) -> dict[str, Any]:
    """Minh chứng for each criterion of the set, as :mod:`services.evaluation.domain` reads it;
    a criterion left empty is left out (the council then judges it as missing evidence)."""
    out: dict[str, Any] = {}
    for c in criteria_:
        name = f"ev_{c['code']}"
        if c["kind"] == "qualitative":
            judgement = text(form, f"{name}_judgement")
            if judgement is None:
                continue
            out[c["code"]] = {"judgement": judgement,
                              "votes_for": whole(text(form, f"{name}_votes_for"), f"{name}_votes_for",
                                                 f"Số phiếu tán thành ({c['label']})"),
                              "members_total": whole(text(form, f"{name}_members_total"), f"{name}_members_total",
                                                     f"Tổng số thành viên ({c['label']})"),
                              "note": text(form, f"{name}_note")}
            continue
        value = text(form, name)
        if value is not None:
            out[c["code"]] = _measured(c, value, name)
    return out


def _measured(criterion: dict[str, Any], value: str, field: str) -> Any:
    """One quantitative criterion's evidence: a share ``a/b``, years for a windowed count, yes/no,
    a number for a numeric threshold, else the text (a rating code)."""
    label = criterion["label"]
    if "/" in value:
        numerator, _, denominator = value.partition("/")
        return {"numerator": number(numerator.strip(), field, f"Tử số ({label})"),
                "denominator": number(denominator.strip(), field, f"Mẫu số ({label})")}
    if criterion.get("window"):
        years = [y for y in re.split(r"[,;\s]+", value) if y]
        if not all(re.fullmatch(r"\d{4}", y) for y in years):
            raise FormError(field, f"{label}: hãy nêu các năm, cách nhau bởi dấu phẩy (e.g. 2022, 2023)")
        return [int(y) for y in years]
    limit = criterion.get("threshold")
    if isinstance(limit, bool):
        return value == "true"
    if isinstance(limit, (int, float)):
        return number(value, field, label)
    return value
