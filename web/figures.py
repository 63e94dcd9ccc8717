"""The council's paperwork and reports of one campaign, as :class:`~web.document.Document`s.

Plain Python over what :func:`web.sources.gather` read: every figure is counted here, once,
and the three renderers only lay it out. What is counted:

* registered: registrations not withdrawn (registration);
* evaluated / passed: candidates whose evaluation failed or passed (evaluation);
* nominated: every nomination of the campaign, whatever became of it; awarded: those decided
  (awards);
* quota use: awards' own count of valid decisions against the award plan;
* exemplars: selected exemplars per phase and kind against the campaign's targets (registration).
"""
from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Any, Callable

from web.document import Document, Heading, Paragraph, Table, date_line, short_date
from web.sources import CampaignData

KIND = {"collective": "Tập thể", "individual": "Cá nhân"}
GROUP = {"collective": "Tập thể", "manager": "Cán bộ quản lý", "teacher": "Giáo viên", "staff": "Nhân viên",
         "worker": "Người lao động", "student": "Học sinh"}
STATUS = {"submitted": "Chờ thẩm định", "resubmitted": "Đã bổ sung, chờ thẩm định",
          "approved": "Đã thẩm định, chờ quyết định", "returned": "Trả lại để hoàn thiện",
          "rejected": "Không đạt", "decided": "Đã quyết định khen thưởng"}
NOMINATION_KIND = {"periodic": "Thường xuyên", "thematic": "Theo chuyên đề", "ad_hoc": "Đột xuất"}
LEVEL = {"prime_minister": "Trung ương (Chính phủ)", "minister": "Bộ", "province": "Tỉnh", "department": "Sở",
         "district": "Huyện", "commune": "Xã", "school": "Cơ sở giáo dục"}
APPLIES_TO = {"collective": "Tập thể", "individual": "Cá nhân", "both": "Tập thể và cá nhân"}
DEADLINES = (("registration_deadline", "Hạn đăng ký thi đua"), ("nominations", "Hạn gửi hồ sơ đề nghị khen thưởng"),
             ("preliminary_report", "Hạn gửi báo cáo sơ kết"), ("final_report", "Hạn gửi báo cáo tổng kết"))

WHO, UNIT, AWARD = "Họ và tên / Tập thể", "Đơn vị", "Danh hiệu / hình thức khen thưởng"


def _movement(title: str) -> str:
    """The campaign as a subtitle: its title, said to be a movement unless it says so itself."""
    return title if title.lower().startswith(("phong trào", "cao điểm", "đợt thi đua")) else f"Phong trào «{title}»"


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _group(row: dict[str, Any]) -> str:
    """collective, or the kind of individual (teacher, student...)."""
    return "collective" if row.get("participant_kind") == "collective" else (row.get("individual_kind") or "")


def _pct(part: int | None, whole: int | None) -> float | None:
    return round(100.0 * part / whole, 1) if whole and part is not None else None


class Facts:
    """The campaign's rows, joined once: each nomination knows its registration's group."""

    def __init__(self, data: CampaignData):
        self.data = data
        self.campaign = data.campaign
        self.registered = [r for r in data.registrations if r["status"] != "withdrawn"]
        self.evaluated = [c for c in data.candidates if c["status"] in ("passed", "failed")]
        self.passed = [c for c in data.candidates if c["status"] == "passed"]
        groups = {r["id"]: _group(r) for r in data.registrations}
        self.nominations = [{**n, "group": groups.get(n.get("registration_id")) or _group(n)}
                            for n in data.nominations]
        self.awarded = [n for n in self.nominations if n["status"] == "decided"]
        self.approved = [n for n in self.nominations if n["status"] == "approved"]

    def document(self, file_title: str, title: str, blocks: list, **kw) -> Document:
        c = self.campaign
        return Document(file_title=f"{file_title} - {c['title']}",
                        issuer=kw.pop("issuer", c["issuer"]), number=kw.pop("number", "Số: …"),
                        date_line=kw.pop("date_line"), title=title, subtitle=_movement(c["title"]),
                        blocks=tuple(blocks), **kw)


# -- danh sách đề nghị khen thưởng -----------------------------------------------------------
def proposals(data: CampaignData, today: date) -> Document:
    f = Facts(data)
    by_award = _by_award(f.nominations)
    summary = Table("tong_hop", "Tổng hợp số đề nghị theo danh hiệu, hình thức khen thưởng",
                    ("STT", AWARD, "Tập thể", "Cá nhân", "Tổng số"),
                    tuple((i, name, _count(rows, "collective"), _count(rows, "individual"), len(rows))
                          for i, (name, rows) in enumerate(by_award, 1)), widths=(1, 8, 2, 2, 2))
    blocks: list = [Paragraph(f"Tổng số đề nghị: {len(f.nominations)} "
                              f"({_count(f.nominations, 'collective')} tập thể, "
                              f"{_count(f.nominations, 'individual')} cá nhân)."), summary]
    for i, (name, rows) in enumerate(by_award, 1):
        blocks.append(Heading(f"{_roman(i)}. {name} ({len(rows)} đề nghị)"))
        blocks.append(Table(f"de_nghi_{i}", name,
                            ("STT", WHO, UNIT, "Đối tượng", "Loại khen thưởng", "Trạng thái", "Cấp trình",
                             "Đơn vị đề nghị", "Ngày trình", "Số quyết định", "Ngày quyết định"),
                            tuple((j, n["name"], n["unit"], GROUP.get(n["group"], KIND.get(n["participant_kind"])),
                                   NOMINATION_KIND.get(n["kind"], n["kind"]), STATUS.get(n["status"], n["status"]),
                                   LEVEL.get(n["target_level"], n["target_level"]), n.get("proposer_unit"),
                                   _date(n.get("submitted_on")), n.get("decision_number"),
                                   _date(n.get("decision_date"))) for j, n in enumerate(rows, 1)),
                            widths=(1, 5, 5, 2.5, 2.5, 3.5, 2, 4, 2.5, 3, 2.5)))
    return f.document("Danh sách đề nghị khen thưởng", "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG", blocks,
                      date_line=date_line(today), signers=("NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ"), landscape=True)


def _by_award(nominations: list[dict]) -> list[tuple[str, list[dict]]]:
    rows = sorted(nominations, key=lambda n: (n["award_name"], n["participant_kind"], n["name"]))
    return [(name, list(group)) for name, group in groupby(rows, key=lambda n: n["award_name"])]


def _count(rows: list[dict], kind: str) -> int:
    return sum(1 for r in rows if r["participant_kind"] == kind)


def _who(rows: list[dict]) -> str:
    """``2 tập thể và 3 cá nhân``, ``1 cá nhân``: only the kinds there are."""
    parts = [f"{n} {KIND[k].lower()}" for k in ("collective", "individual") if (n := _count(rows, k))]
    return " và ".join(parts)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


# -- biên bản họp hội đồng ----------------------------------------------------------------------
def minutes(data: CampaignData, today: date) -> Document:
    f = Facts(data)
    ballots = [n for n in f.nominations if (n.get("dossier") or {}).get("council_minutes")]
    rows = []
    for i, n in enumerate(ballots, 1):
        m = n["dossier"]["council_minutes"]
        need = (data.award_rules.get(n["award"]) or {}).get("ballot_pct")
        share = _pct(m["votes_for"], m["members_total"])
        verdict = "Không yêu cầu bỏ phiếu kín" if need is None else \
            ("Đạt" if 100 * m["votes_for"] >= need * m["members_total"] else "Không đạt")
        rows.append((i, n["name"], n["unit"], n["award_name"], _date(m.get("meeting_date")), m["members_total"],
                     m["votes_for"], share, need, verdict))
    ballot = Table("bo_phieu", "Kết quả bỏ phiếu kín đề nghị khen thưởng",
                   ("STT", WHO, UNIT, AWARD, "Ngày họp", "Tổng số thành viên", "Số phiếu tán thành",
                    "Tỷ lệ tán thành (%)", "Tỷ lệ tối thiểu (%)", "Kết quả"), tuple(rows),
                   widths=(1, 4.5, 4.5, 5, 2.5, 2.2, 2.2, 2.2, 2.2, 3.5))
    votes = []
    nominated = {n["registration_id"]: n["name"] for n in f.nominations if n.get("registration_id")}
    for rid, name in nominated.items():  # once per registration, however many awards it is proposed for
        rounds = data.evaluations.get(rid) or []
        for result in (rounds[-1]["results"] if rounds else []):  # the round the nomination rests on
            v = result.get("votes") or {}
            if v.get("for") is not None and v.get("members"):
                votes.append((len(votes) + 1, name, result["label"], v["members"], v["for"],
                              _pct(v["for"], v["members"]), "Đạt" if result["passed"] else "Không đạt"))
    evaluation = Table("bieu_quyet_tieu_chi", "Kết quả biểu quyết các tiêu chí định tính khi bình xét",
                       ("STT", WHO, "Tiêu chí", "Tổng số thành viên", "Số phiếu tán thành", "Tỷ lệ tán thành (%)",
                        "Kết quả"), tuple(votes), widths=(1, 5, 9, 2.5, 2.5, 2.5, 2.5))
    meetings = sorted({r[4] for r in rows if r[4]})
    held = ", ".join(short_date(d) for d in meetings) or "…"
    blocks = [Paragraph(f"Hội đồng Thi đua - Khen thưởng họp (ngày {held}) xét đề nghị khen thưởng trong "
                        f"phong trào «{f.campaign['title']}» do {f.campaign['issuer']} phát động."),
              Paragraph(f"Số đề nghị được bỏ phiếu kín: {len(rows)}; đạt tỷ lệ tán thành theo quy định: "
                        f"{sum(1 for r in rows if r[-1] == 'Đạt')}."),
              Heading("I. Kết quả bỏ phiếu kín"), ballot,
              Heading("II. Biểu quyết các tiêu chí khi bình xét"), evaluation,
              Paragraph("Biên bản được lập thành 02 bản, đã được các thành viên Hội đồng thông qua.")]
    return f.document("Biên bản họp Hội đồng Thi đua - Khen thưởng",
                      "BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG", blocks, issuer="HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG",
                      date_line=date_line(today), signers=("THƯ KÝ HỘI ĐỒNG", "CHỦ TỊCH HỘI ĐỒNG"), landscape=True)


# -- dự thảo quyết định, với phụ lục danh sách ----------------------------------------------------
LEVEL_ORDER = tuple(LEVEL)


def draft_decision(data: CampaignData, today: date) -> Document:
    """One decision per level that decides (the nominations appraised and awaiting a decision),
    each with its annex list; the draft is left undated and unnumbered for the issuer to fill in."""
    f = Facts(data)
    levels = sorted({n["target_level"] for n in f.approved}, key=LEVEL_ORDER.index)
    authority = {lv: (data.authorities.get(lv) or {}).get("name") or LEVEL[lv] for lv in levels}
    blocks: list = []
    if not levels:
        blocks.append(Paragraph("Chưa có đề nghị nào đã thẩm định đạt và đang chờ quyết định khen thưởng."))
    for lv in levels:
        rows = sorted((n for n in f.approved if n["target_level"] == lv),
                      key=lambda n: (n["award_name"], n["participant_kind"], n["name"]))
        blocks.append(Heading(f"QUYẾT ĐỊNH của {authority[lv]} về việc khen thưởng"))
        gifts = [f"{name} cho {_who(group)}" for name, group in _by_award(rows)]
        blocks.append(Paragraph(f"Điều 1. Tặng {'; '.join(gifts)} (có danh sách kèm theo) đã có thành tích xuất sắc "
                                f"trong phong trào «{f.campaign['title']}»."))
        blocks += [Paragraph("Điều 2. Quyết định này có hiệu lực kể từ ngày ký."),
                   Paragraph("Điều 3. Thủ trưởng các cơ quan, đơn vị có liên quan và các tập thể, cá nhân có tên "
                             "tại Điều 1 chịu trách nhiệm thi hành Quyết định này."),
                   Heading(f"PHỤ LỤC: DANH SÁCH KHEN THƯỞNG (kèm theo Quyết định của {authority[lv]})"),
                   Table(f"phu_luc_{lv}", f"Phụ lục danh sách — {authority[lv]}",
                         ("STT", WHO, UNIT, "Đối tượng", AWARD, "Đơn vị đề nghị", "Cấp quyết định"),
                         tuple((i, n["name"], n["unit"], GROUP.get(n["group"], KIND.get(n["participant_kind"])),
                                n["award_name"], n.get("proposer_unit"), authority[lv])
                               for i, n in enumerate(rows, 1)), widths=(1, 5, 5, 2.5, 5, 4, 4))]
    # one deciding level: the draft is that authority's; several: the organiser's, for each to sign its own
    single = authority[levels[0]].upper() if len(levels) == 1 else None
    return f.document("Dự thảo quyết định khen thưởng", "DỰ THẢO QUYẾT ĐỊNH",
                      blocks, issuer=single or f.campaign["issuer"], number="Số: …/QĐ-…",
                      date_line=date_line(None, today.year), signers=(single or "NGƯỜI CÓ THẨM QUYỀN",),
                      landscape=True)


# -- báo cáo sơ kết, tổng kết ------------------------------------------------------------------
def preliminary(data: CampaignData, today: date) -> Document:
    return _report(data, today, "preliminary_report", "sơ kết")


def final(data: CampaignData, today: date) -> Document:
    return _report(data, today, "final_report", "tổng kết")


def _report(data: CampaignData, today: date, deadline_key: str, what: str) -> Document:
    f = Facts(data)
    c, deadlines = f.campaign, f.campaign.get("deadlines") or {}
    due = _date(deadlines.get(deadline_key))
    stages = (("Đăng ký thi đua", f.registered), ("Đã bình xét", f.evaluated), ("Đạt tiêu chuẩn", f.passed),
              ("Được đề nghị khen thưởng", f.nominations), ("Được khen thưởng", f.awarded))
    totals = Table("tong_hop", "Kết quả chung", ("Chỉ tiêu", "Tập thể", "Cá nhân", "Tổng số"),
                   tuple((label, _count(rows, "collective"), _count(rows, "individual"), len(rows))
                         for label, rows in stages), widths=(6, 2, 2, 2))
    present = {_group(r) for r in data.registrations} | set(c.get("target_groups") or [])
    groups = [g for g in GROUP if g in present]
    by_group = Table("theo_doi_tuong", "Theo đối tượng",
                     ("Đối tượng",) + tuple(label for label, _ in stages),
                     tuple((GROUP[g],) + tuple(sum(1 for r in rows if _row_group(r) == g) for _, rows in stages)
                           for g in groups), widths=(4, 2, 2, 2, 2.5, 2.5))
    awards = sorted({n["award"] for n in f.nominations} | {q["award"] for q in data.quotas}, key=data.award_name)
    by_award = Table("theo_danh_hieu", "Theo danh hiệu, hình thức khen thưởng",
                     (AWARD, "Đề nghị: tập thể", "Đề nghị: cá nhân", "Khen thưởng: tập thể", "Khen thưởng: cá nhân",
                      "Tổng số được khen thưởng"),
                     tuple((data.award_name(a),) + _award_counts(f, a) for a in awards), widths=(6, 2, 2, 2, 2, 2))
    quotas = Table("chi_tieu", "Chỉ tiêu khen thưởng và số đã quyết định",
                   (AWARD, "Áp dụng cho", "Tối đa", "Tối thiểu", "Đã quyết định", "Còn lại"),
                   tuple((data.award_name(q["award"]), APPLIES_TO.get(q["applies_to"], q["applies_to"]), q.get("max"),
                          q.get("min"), q["used"], None if q.get("max") is None else max(0, q["max"] - q["used"]))
                         for q in data.quotas), widths=(6, 3, 1.5, 1.5, 2, 1.5))
    exemplars = Table("dien_hinh", "Điển hình tiên tiến theo giai đoạn",
                      ("Giai đoạn", "Loại", "Chỉ tiêu", "Đã lựa chọn", "Còn thiếu", "Kết quả"),
                      tuple((p["phase"], KIND.get(p["kind"], p["kind"]), p["target"], p["selected"], p["remaining"],
                             "Đạt" if p["remaining"] == 0 else "Chưa đạt") for p in data.exemplar_progress),
                      widths=(3, 2, 2, 2, 2, 2))
    timeline = Table("thoi_han", "Các mốc thời gian của phong trào", ("Mốc thời gian", "Ngày"),
                     (("Bắt đầu", _date(c["period_start"])), ("Kết thúc", _date(c["period_end"])))
                     + tuple((label, _date(c.get(key) or deadlines.get(key))) for key, label in DEADLINES),
                     widths=(6, 3))
    blocks = [Paragraph(f"Thực hiện phong trào «{c['title']}» do {c['issuer']} phát động "
                        f"({short_date(_date(c['period_start']))} – {short_date(_date(c['period_end']))}), "
                        f"báo cáo {what} kết quả đến {date_line(today)} như sau."),
              Paragraph(f"Thời hạn gửi báo cáo {what}: {short_date(due) if due else 'chưa quy định'}"
                        + (" (đã quá hạn)." if due and today > due else ".")),
              Heading("I. Kết quả chung"), totals, Heading("II. Theo đối tượng"), by_group,
              Heading("III. Theo danh hiệu, hình thức khen thưởng"), by_award,
              Heading("IV. Chỉ tiêu khen thưởng"), quotas,
              Heading("V. Xây dựng, nhân rộng điển hình tiên tiến"), exemplars,
              Heading("VI. Các mốc thời gian"), timeline]
    return f.document(f"Báo cáo {what}", f"BÁO CÁO {what.upper()}", blocks, date_line=date_line(today),
                      number="Số: …/BC-…", signers=("THỦ TRƯỞNG ĐƠN VỊ",))


def _row_group(row: dict[str, Any]) -> str:
    return row.get("group") or _group(row)


def _award_counts(f: Facts, award: str) -> tuple[int, ...]:
    nominated = [n for n in f.nominations if n["award"] == award]
    awarded = [n for n in f.awarded if n["award"] == award]
    return (_count(nominated, "collective"), _count(nominated, "individual"), _count(awarded, "collective"),
            _count(awarded, "individual"), len(awarded))


REPORTS: dict[str, Callable[[CampaignData, date], Document]] = {
    "proposals": proposals, "minutes": minutes, "draft-decision": draft_decision,
    "preliminary": preliminary, "final": final}
NEEDS_EVALUATIONS = {"minutes"}
