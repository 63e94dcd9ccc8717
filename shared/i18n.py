"""Validation messages in Vietnamese, the language of the people who read them.

marshmallow speaks English; the 422 answers of every service pass through
:func:`translate`, which keeps the structure (field → reasons) and rewrites each
reason it knows. A reason it does not know stays as it is rather than be lost.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

_EXACT = {
    "Missing data for required field.": "Thiếu trường bắt buộc.",
    "Field may not be null.": "Không được để trống.",
    "Invalid value.": "Giá trị không hợp lệ.",
    "Not a valid string.": "Phải là chuỗi ký tự.",
    "Not a valid integer.": "Phải là số nguyên.",
    "Not a valid number.": "Phải là số.",
    "Not a valid date.": "Không phải ngày hợp lệ (YYYY-MM-DD).",
    "Not a valid datetime.": "Không phải thời điểm hợp lệ (ISO 8601).",
    "Not a valid boolean.": "Phải là true hoặc false.",
    "Not a valid list.": "Phải là danh sách.",
    "Not a valid mapping type.": "Phải là đối tượng JSON.",
    "Not a valid email address.": "Địa chỉ thư điện tử không hợp lệ.",
    "Not a valid UUID.": "Không phải UUID hợp lệ.",
    "Invalid type.": "Sai kiểu dữ liệu.",
    "Invalid input type.": "Sai kiểu dữ liệu.",
    "Unknown field.": "Trường không được hỗ trợ.",
    "String does not match expected pattern.": "Không đúng định dạng.",
}
_PATTERNS = [
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"Độ dài phải từ \1 đến \2."),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"Ngắn hơn độ dài tối thiểu \1."),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"Dài hơn độ dài tối đa \1."),
    (re.compile(r"^Must be one of: (.*)\.$"), r"Phải là một trong: \1."),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     r"Phải từ \1 đến \2."),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"Phải lớn hơn hoặc bằng \1."),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"Phải nhỏ hơn hoặc bằng \1."),
    (re.compile(r"^Must be equal to (.*)\.$"), r"Phải bằng \1."),
]


def translate(messages: Any) -> Any:
    if isinstance(messages, dict):
        return {k: translate(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [translate(m) for m in messages]
    if isinstance(messages, str):
        if messages in _EXACT:
            return _EXACT[messages]
        for pattern, replacement in _PATTERNS:
            if pattern.match(messages):
                return pattern.sub(replacement, messages)
    return messages


def unmarked(text: str) -> str:
    """Vietnamese without its diacritics: ``Trần Thị Bích`` -> ``Tran Thi Bich`` (đ is a letter of
    its own, not a d with a mark, so it is mapped by hand)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c))


def search_key(text: str) -> str:
    """What a name is searched by: unmarked, lower case, single spaces — so ``tran thi bich``,
    ``TRẦN THỊ BÍCH`` and ``Trần  Thị Bích`` all find ``Trần Thị Bích``."""
    return " ".join(unmarked(text).lower().split())
