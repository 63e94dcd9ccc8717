"""The Vietnamese names people know for the codes the services answer with (GLOSSARY.md).

A code with no name here is shown as it is, never hidden.
"""
from __future__ import annotations

from web import figures

# the nominations' statuses and the groups as the reports name them (web/figures.py), and the rest
STATUS = {**figures.STATUS,
          "registered": "Đã đăng ký", "withdrawn": "Đã rút đăng ký",
          "awaiting_evaluation": "Chờ bình xét", "not_evaluated": "Chưa bình xét",
          "passed": "Bình xét đạt", "failed": "Bình xét không đạt", "revoked": "Đã thu hồi",
          "selected": "Đã lựa chọn, biểu dương"}
INDIVIDUAL_KINDS = {k: v for k, v in figures.GROUP.items() if k != "collective"}
PARTICIPANT_KINDS = figures.KIND
UNIT_KINDS = {"school": "Trường học", "kindergarten": "Trường mầm non", "center": "Trung tâm",
              "division": "Tổ, bộ phận", "office": "Phòng GD&ĐT", "department": "Sở GD&ĐT", "other": "Khác"}
GENDERS = {"female": "Nữ", "male": "Nam", "other": "Khác"}
# who decides at each level (the person whose signature a decision bears)
LEVELS = {"prime_minister": "Thủ tướng Chính phủ", "minister": "Bộ trưởng Bộ GD&ĐT",
          "province": "Chủ tịch UBND tỉnh", "department": "Giám đốc Sở GD&ĐT",
          "district": "Chủ tịch UBND cấp huyện", "commune": "Chủ tịch UBND cấp xã",
          "school": "Hiệu trưởng, thủ trưởng cơ sở giáo dục"}
OUTCOMES = {"approved": "Đạt — trình cấp có thẩm quyền quyết định",
            "returned": "Trả lại để đơn vị hoàn thiện hồ sơ", "rejected": "Không đạt"}
CRITERION_KINDS = {"quantitative": "Định lượng (số liệu)", "qualitative": "Định tính (hội đồng biểu quyết)"}
COMPARISONS = {">=": "ít nhất", ">": "trên", "<=": "không quá", "<": "dưới", "==": "bằng", "!=": "khác",
               "in": "thuộc"}
TARGET_GROUPS = figures.GROUP
NOMINATION_KINDS = {"periodic": "Khen thường xuyên (theo công trạng)", "thematic": "Khen chuyên đề"}
EXEMPLAR_STEPS = {"chon": "Lựa chọn, biểu dương", "tuyen-truyen": "Tuyên truyền, nhân rộng",
                  "hoc-tap": "Tổ chức học tập", "binh-xet": "Bình xét", "khen-thuong": "Khen thưởng, trình cấp trên"}
LEARNING_OUTCOMES = {"learned": "Học tập", "followed": "Làm theo", "caught_up": "Bắt kịp", "surpassed": "Vượt qua"}
CHANNELS = {"inbox": "Hộp thư của các đơn vị", "public_page": "Trang công khai", "press": "Báo chí",
            "meeting": "Hội nghị"}
RECOGNITION = {"commended": "Khen thưởng theo thẩm quyền", "nominated": "Trình cấp trên khen thưởng"}
# the council (README, Councils and conflicts of interest): a member's position, and why a member is recused from a candidate
POSITIONS = {"chair": "Chủ tịch hội đồng", "vice_chair": "Phó Chủ tịch hội đồng", "secretary": "Thư ký",
             "member": "Ủy viên"}
RECUSALS = {"is_candidate": "là người được xét", "candidate_unit": "thuộc đơn vị của người được xét",
            "declared_interest": "đã khai báo xung đột lợi ích với người được xét"}


def name(table: dict[str, str], code: str | None) -> str:
    return table.get(code or "", code or "—")


FILTERS = {"status": STATUS, "individual_kind": INDIVIDUAL_KINDS, "participant_kind": PARTICIPANT_KINDS,
           "unit_kind": UNIT_KINDS, "gender": GENDERS, "level": LEVELS, "outcome": OUTCOMES,
           "criterion_kind": CRITERION_KINDS, "comparison": COMPARISONS, "target_group": TARGET_GROUPS,
           "nomination_kind": NOMINATION_KINDS, "recognition": RECOGNITION,
           "learning_outcome": LEARNING_OUTCOMES, "position": POSITIONS, "recusal": RECUSALS}

