"""The campaign's pictures: server-side SVG drawn by pygal, each with its numbers as a table.

A chart is a :class:`Chart`: its SVG as a ``data:`` URI for an ``<img>`` (pygal's interactive
JavaScript is left out, ``js=[]``, and an image runs no script at all, so the page loads nothing
from elsewhere), its caption (the image's ``alt``), and the same figures as rows for the table
under it, which is what a screen reader or a printout reads.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pygal
from pygal.style import Style

from web.figures import KIND

# Dark enough to keep 4.5:1 with white as text and lines (the site's own palette).
STYLE = Style(background="white", plot_background="white", foreground="#1a1a1a", foreground_strong="#1a1a1a",
              foreground_subtle="#767676", colors=("#0b4f8a", "#c25000", "#1e6b34", "#6b2c91"),
              font_family="'Noto Sans', 'DejaVu Sans', sans-serif", title_font_size=16, label_font_size=13,
              major_label_font_size=13, legend_font_size=13, value_font_size=12)
CONFIG = dict(style=STYLE, js=[], width=720, height=360, legend_at_bottom=True,
              print_values=False, show_minor_x_labels=True, truncate_legend=-1, truncate_label=-1)


@dataclass(frozen=True)
class Chart:
    key: str
    caption: str
    src: str  # data:image/svg+xml;base64,...
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def registrations_over_time(registrations: list[dict[str, Any]]) -> Chart:
    """Registrations per day and their running total (withdrawn ones counted on the day they came)."""
    per_day = Counter(r["registered_on"] for r in registrations if r.get("registered_on"))
    days = sorted(per_day)
    total, rows = 0, []
    for day in days:
        total += per_day[day]
        rows.append((_vn(day), per_day[day], total))
    chart = pygal.Line(title="Số đăng ký thi đua theo ngày", x_title="Ngày", y_title="Số đăng ký",
                       min_scale=1, **CONFIG)
    chart.x_labels = [r[0] for r in rows]
    chart.add("Cộng dồn", [r[2] for r in rows])
    chart.add("Trong ngày", [r[1] for r in rows])
    return Chart("dang-ky", "Đăng ký thi đua theo thời gian", _svg(chart),
                 ("Ngày", "Đăng ký trong ngày", "Cộng dồn"), tuple(rows))


def quota_use(quotas: list[dict[str, Any]], award_name) -> Chart:
    """Each award of the plan: decided so far against its maximum."""
    rows = tuple((award_name(q["award"]), q["used"], q.get("max"),
                  None if q.get("max") is None else max(0, q["max"] - q["used"])) for q in quotas)
    chart = pygal.HorizontalBar(title="Chỉ tiêu khen thưởng đã sử dụng", x_title="Số quyết định", **CONFIG)
    chart.x_labels = [r[0] for r in rows]
    chart.add("Đã quyết định", [r[1] for r in rows])
    chart.add("Tối đa", [r[2] for r in rows])
    return Chart("chi-tieu", "Chỉ tiêu khen thưởng và số đã quyết định", _svg(chart),
                 ("Danh hiệu / hình thức", "Đã quyết định", "Tối đa", "Còn lại"), rows)


def exemplar_progress(progress: list[dict[str, Any]]) -> Chart:
    """Exemplars selected per phase and kind, against the phase's target."""
    rows = tuple((p["phase"], KIND.get(p["kind"], p["kind"]), p["selected"], p["target"], p["remaining"])
                 for p in progress)
    chart = pygal.Bar(title="Điển hình tiên tiến theo giai đoạn", y_title="Số điển hình", min_scale=1, **CONFIG)
    chart.x_labels = [f"{r[0]} · {r[1]}" for r in rows]
    chart.add("Đã lựa chọn", [r[2] for r in rows])
    chart.add("Chỉ tiêu", [r[3] for r in rows])
    return Chart("dien-hinh", "Tiến độ điển hình tiên tiến theo giai đoạn", _svg(chart),
                 ("Giai đoạn", "Loại", "Đã lựa chọn", "Chỉ tiêu", "Còn thiếu"), rows)


def _svg(chart) -> str:
    return chart.render_data_uri()


def _vn(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")
