"""Sign-in, sign-out and the home page of each role: where every person starts."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for

from web import ui
from web.signin import IssuerUnavailable, SignInRefused, who

blp = Blueprint("pages", __name__)  # templates and static files: the app's, web/templates and web/static

# The work of each role, in the order the home page offers it: (title, endpoint, what it is).
# Other blueprints add theirs with :func:`offer` when they are imported.
WORK: dict[str, list[tuple[str, str, str]]] = {role: [] for role in ui.ROLE_NAMES}
EVERYONE: list[tuple[str, str, str]] = []


def offer(roles: tuple[str, ...] | None, title: str, endpoint: str, what: str) -> None:
    """Put a page on the home page of ``roles`` (None: of everyone signed in)."""
    for bucket in ([EVERYONE] if roles is None else [WORK[r] for r in roles]):
        if all(e != endpoint for _, e, _ in bucket):
            bucket.append((title, endpoint, what))


@blp.get("/")
def home():
    person = ui.caller()
    if person is None:
        return ui.render("welcome.html")
    work = [(role, WORK.get(role, [])) for role in person.roles]
    return ui.render("home.html", work=work, everyone=EVERYONE)


@blp.route("/dang-nhap", methods=["GET", "POST"])
def sign_in():
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return ui.render("sign_in.html", next=target)
    username = request.form.get("username", "").strip()
    errors = {k: ["Bắt buộc nhập (required)"] for k in ("username", "password") if not request.form.get(k)}
    if errors:
        refusal = ui.Refusal(422, "Hãy nhập tên đăng nhập và mật khẩu", errors=errors)
        return ui.render("sign_in.html", refusal=refusal, form=request.form, next=target), 422
    try:
        signed = current_app.extensions["web"].issuer.sign_in(username, request.form["password"])
    except SignInRefused as refused:
        refusal = ui.Refusal(401, refused.message, rule="identity.password")
        return ui.render("sign_in.html", refusal=refusal, form=request.form, next=target), 401
    except IssuerUnavailable:
        refusal = ui.Refusal(503, "Máy chủ đăng nhập không trả lời; hãy thử lại sau (the issuer did not answer)")
        return ui.render("sign_in.html", refusal=refusal, form=request.form, next=target), 503
    session.clear()
    session.update(token=signed.access_token, expires_at=signed.expires_at)
    flash(f"Xin chào {who(signed.access_token).name or username}", "success")
    return redirect(target or url_for("pages.home"))


@blp.post("/dang-xuat")
def sign_out():
    held = session.get("token")
    session.clear()
    if held:
        try:
            current_app.extensions["web"].issuer.sign_out(held)
        except IssuerUnavailable:
            flash("Đã đăng xuất khỏi trang; máy chủ đăng nhập chưa thu hồi được mã (the issuer did not answer)",
                  "warning")
            return redirect(url_for("pages.sign_in"))
    flash("Đã đăng xuất (signed out)", "success")
    return redirect(url_for("pages.sign_in"))


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?") or None
