"""The demo province of the embedded default (``make run``): Vĩnh Long (86), its units and its people.

One person of every role, with the unit their token names; the units are registered in
registration too, so that what a token says exists there. Seeding is idempotent: a person,
client or unit already there is left as it is (a password changed since stays changed).
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from identity.directory import Directory

PROVINCE = "86"
SIGN_IN_CLIENT = "thidua-web"  # the public client a person signs in through (no secret)

# (id, name, kind, parent_id): registration's units, parents before children.
UNITS = (
    ("ubnd-vinh-long", "Ủy ban nhân dân tỉnh Vĩnh Long", "other", None),
    ("so-gddt-vinh-long", "Sở Giáo dục và Đào tạo Vĩnh Long", "department", "ubnd-vinh-long"),
    ("thpt-luu-van-liet", "Trường THPT Lưu Văn Liệt", "school", "so-gddt-vinh-long"),
    ("thpt-chuyen-nguyen-binh-khiem", "Trường THPT chuyên Nguyễn Bỉnh Khiêm", "school", "so-gddt-vinh-long"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    role: str
    unit: str | None
    unit_level: str
    authority: str | None
    what: str  # who they are, for the printed table

    @property
    def password(self) -> str:
        return f"{self.username}-86"  # a demo's password, printed at start: never a real installation's


USERS = (
    DemoUser("hung.nv", "Nguyễn Văn Hùng", "department", "so-gddt-vinh-long", "department", None,
             "chuyên viên thi đua, Sở GD&ĐT"),
    DemoUser("mai.tt", "Trần Thị Mai", "unit_head", "thpt-luu-van-liet", "school", "school",
             "Hiệu trưởng Trường THPT Lưu Văn Liệt"),
    DemoUser("tam.lv", "Lê Văn Tâm", "council", "so-gddt-vinh-long", "department", None,
             "Thường trực Hội đồng Thi đua - Khen thưởng ngành"),
    DemoUser("chau.pm", "Phạm Minh Châu", "authority", "ubnd-vinh-long", "province", "province",
             "Chủ tịch UBND tỉnh"),
    DemoUser("son.vt", "Võ Thanh Sơn", "authority", "so-gddt-vinh-long", "department", "department",
             "Giám đốc Sở GD&ĐT"),
    DemoUser("lan.ht", "Huỳnh Thị Lan", "participant", "thpt-luu-van-liet", "school", None,
             "giáo viên Trường THPT Lưu Văn Liệt"),
    DemoUser("bao.dq", "Đặng Quốc Bảo", "operator", "so-gddt-vinh-long", "department", None,
             "quản trị hệ thống, Sở GD&ĐT"),
    DemoUser("hoa.bt", "Bùi Thị Hoa", "ministry", None, "ministry", None,
             "Vụ Thi đua - Khen thưởng, Bộ GD&ĐT (đọc số liệu toàn quốc)"),
)


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    scopes: tuple[str, ...]

    @property
    def secret(self) -> str:
        return f"{self.client_id}-secret"


CLIENTS = (DemoClient("qlns-vinh-long", "Phần mềm quản lý nhân sự ngành giáo dục Vĩnh Long",
                      ("registration:read", "awards:read", "webhooks")),)


def seed_directory(directory: Directory) -> None:
    """The sign-in client, the demo people and the integrator client, those not there yet."""
    if directory.client(SIGN_IN_CLIENT) is None:
        directory.add_client(SIGN_IN_CLIENT, "Trang đăng nhập của hệ thống thi đua, khen thưởng", "password")
    for u in USERS:
        if directory.user(u.username) is None:
            directory.add_user(u.username, u.name, PROVINCE, [u.role], u.password, u.unit, u.unit_level, u.authority)
    for c in CLIENTS:
        if directory.client(c.client_id) is None:
            directory.add_client(c.client_id, c.name, "client_credentials", c.secret, PROVINCE, c.scopes)


def seed_units(registration_url: str, token: str) -> None:
    """The units the demo people's tokens name, registered over registration's API (409 ``unit.once``:
    already there, from an earlier start)."""
    headers = {"Authorization": f"Bearer {token}"}
    for unit_id, name, kind, parent in UNITS:
        answer = requests.post(f"{registration_url}/units", headers=headers, timeout=10,
                               json={"id": unit_id, "name": name, "kind": kind, "parent_id": parent})
        if answer.status_code != 201 and not (answer.status_code == 409 and answer.json().get("rule") == "unit.once"):
            raise RuntimeError(f"unit {unit_id} not seeded: {answer.status_code} {answer.text}")


def table() -> str:
    """The demo people and clients with their passwords, as ``make run`` prints them."""
    lines = [f"  {'username':<10} {'password':<14} {'role':<12} {'unit':<20} {'authority':<10} who"]
    lines += [f"  {u.username:<10} {u.password:<14} {u.role:<12} {u.unit or '-':<20} {u.authority or '-':<10} "
              f"{u.name}, {u.what}" for u in USERS]
    lines += [f"  client {c.client_id} secret {c.secret} (client_credentials; {' '.join(c.scopes)})"
              for c in CLIENTS]
    return "\n".join(lines)
