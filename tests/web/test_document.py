"""How a report writes dates and file names."""
from datetime import date

from web.document import date_line
from web.reports import ascii_name, content_disposition


def test_a_date_is_written_as_a_vietnamese_document_writes_it():
    assert date_line(date(2024, 2, 5)) == "ngày 05 tháng 02 năm 2024"  # days below 10, months 1 and 2: a zero
    assert date_line(date(2024, 11, 20)) == "ngày 20 tháng 11 năm 2024"
    assert date_line(date(2024, 6, 1)) == "ngày 01 tháng 6 năm 2024"
    assert date_line(None, 2024) == "ngày … tháng … năm 2024"  # a draft, dated when signed


def test_a_file_name_falls_back_to_ascii_and_keeps_its_exact_name():
    assert ascii_name("Dự thảo quyết định - Đồng Khởi mới «2024–2025».pdf") == "Du-thao-quyet-dinh-Dong-Khoi-moi-2024-2025.pdf"
    assert content_disposition("Đề nghị.csv") == \
        "attachment; filename=\"De-nghi.csv\"; filename*=UTF-8''%C4%90%E1%BB%81%20ngh%E1%BB%8B.csv"
