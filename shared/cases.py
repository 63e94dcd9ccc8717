"""A case: one registration's story through the four services, under one correlation id.

registered → evaluated → nominated → (escalated) → appraised → decided → notified. Every
service records the case's events under ``registration-<registration id>`` (the commands
of a case pass it with ``own_story``, see :func:`shared.service.execute`), so that one
case is one correlation id end to end, and its audit (:mod:`shared.audit`) finds each
service's part of it by that id alone.
"""
from __future__ import annotations

# The case's events as its users name them; an event type not here is told by its type.
STEPS = {
    "registration.participant.registered": "Đăng ký thi đua (registered)",
    "registration.participant.withdrawn": "Rút đăng ký (withdrawn)",
    "evaluation.registration.evaluated": "Bình xét, đánh giá (evaluated)",
    "awards.nomination.submitted": "Đề nghị khen thưởng (nominated)",
    "awards.nomination.escalated": "Trình cấp trên (escalated)",
    "awards.nomination.appraised": "Thẩm định (appraised)",
    "awards.nomination.resubmitted": "Bổ sung hồ sơ (resubmitted)",
    "awards.award.decided": "Quyết định khen thưởng (decided)",
    "awards.award.revoked": "Thu hồi khen thưởng (revoked)",
}
BEGINS = "registration.participant.registered"


def correlation(registration_id: str) -> str:
    return f"registration-{registration_id}"
