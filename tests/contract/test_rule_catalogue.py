"""The rule catalogue as a contract: every rule code the code can refuse with has its Vietnamese name
and source, no entry names a rule nothing raises, and a refusal body cites it (issue 12: every refusal
is shown with the rule and its source).

The codes are read from the code itself, as tests/contract/test_event_schemas.py reads event types: a
``rule=`` keyword (an ApiError, a page's Refusal) or a ``"rule":`` key of a literal body. A ``rule=``
that is not a literal must be one of the known pass-throughs of a code raised elsewhere; anything else
(an f-string, a variable) is a code this scan cannot see, and fails the test until it is a literal."""
import ast
import re
from pathlib import Path

import pytest

from shared import rule_catalogue
from shared.errors import Forbidden, NotYetSeen, RuleViolation
from shared.eventstore import ConcurrencyError
from tests.unit.conftest import build_system, close_system, token

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# rule= values that are not codes of their own but a refusal's code carried on: (file, expression)
PASSED_ON = {("web/app.py", "exc.rule"), ("web/ui.py", "body.get('rule')"), ("web/reports.py", "rule"),
             ("web/documents.py", "exc.rule"), ("web/files.py", "exc.rule")}  # a file's refusal, shown in the page
SYSTEM = "Quy định của hệ thống: "
# a legal text's number and year (the rulebook writes "Nghị định 98/2023" without the suffix)
TEXT_NUMBER = re.compile(r"(?:Luật|Nghị định|Thông tư|Nghị quyết|Quyết định)\D{0,30}?(\d+/\d{4})")


def _code_files():
    for folder in ("services", "shared", "web", "identity"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _scan() -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """``({code: [where]}, [(file, expression) of every non-literal rule=]}``."""
    codes: dict[str, list[str]] = {}
    opaque: list[tuple[str, str]] = []
    for path in _code_files():
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), name)):
            values = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "rule"]
            elif isinstance(node, ast.Dict):
                values = [v for k, v in zip(node.keys, node.values)
                          if isinstance(k, ast.Constant) and k.value == "rule" and isinstance(v, ast.Constant)]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    codes.setdefault(value.value, []).append(f"{name}:{node.lineno}")
                elif not (isinstance(value, ast.Constant) and value.value is None):
                    opaque.append((name, ast.unparse(value)))
    return codes, opaque


CODES, OPAQUE = _scan()


def test_the_scan_sees_the_rules_of_every_service_and_of_the_gateway():
    # a scan that found nothing would pass everything below
    assert len(CODES) > 100
    for code in ("registration.deadline", "decision.quota", "award.cap", "exemplar.step_order",
                 "store.expected_version", "web.csrf", "identity.password", "auth.revoked"):
        assert code in CODES, code


def test_every_rule_the_code_can_raise_has_a_catalogue_entry():
    missing = {code: where for code, where in CODES.items() if code not in rule_catalogue.rules()}
    assert not missing, f"add these rules to shared/rule_catalogue.json (name and source): {missing}"


def test_no_catalogue_entry_names_a_rule_nothing_raises():
    unused = sorted(set(rule_catalogue.rules()) - set(CODES))
    assert not unused, f"nothing raises these rules: remove them from shared/rule_catalogue.json: {unused}"


def test_every_rule_code_is_a_dotted_literal_the_scan_can_read():
    assert all(CODE.match(code) for code in CODES), [c for c in CODES if not CODE.match(c)]
    unseen = [o for o in OPAQUE if o not in PASSED_ON]
    assert not unseen, f"a rule given as an expression the catalogue test cannot read: {unseen}"


@pytest.mark.parametrize("code", sorted(rule_catalogue.rules()))
def test_each_entry_has_a_vietnamese_name_and_a_source_that_says_what_it_rests_on(code):
    entry = rule_catalogue.rules()[code]
    assert set(entry) == {"name", "source"}
    assert 3 <= len(entry["name"]) <= 80 and not entry["name"].endswith(".")
    source = entry["source"]
    # the law (an article), the province's plan (a section of a seed plan), or the platform's own rule
    # saying what it protects
    cites_text = re.search(r"Điều \d+", source)
    cites_plan = re.search(r"Kế hoạch.*mục [IVX]+(\.\d+)*", source)
    own = source.startswith(SYSTEM) and len(source) > len(SYSTEM) + 10
    assert cites_text or cites_plan or own, source


def test_the_documents_the_catalogue_cites_are_the_ones_the_rulebook_cites():
    """No invented text: every law, decree and circular number in the catalogue is one the national
    rulebook (services/awards/rulebook.json, from RULES.md) cites."""
    rulebook = (ROOT / "services/awards/rulebook.json").read_text(encoding="utf-8")
    numbers = {n for e in rule_catalogue.rules().values()
               for n in TEXT_NUMBER.findall(e["source"])}
    assert numbers >= {"06/2022", "98/2023", "152/2025", "29/2023"}
    assert {n for n in numbers if n not in rulebook} == set()


def test_a_refusal_body_names_its_rule_and_cites_the_catalogue():
    body = RuleViolation("Đã quá hạn đăng ký thi đua", rule="registration.deadline").body()
    entry = rule_catalogue.rules()["registration.deadline"]
    assert (body["rule"], body["rule_name"], body["source"]) == ("registration.deadline", entry["name"],
                                                                entry["source"])
    assert "details" not in body


def test_a_source_the_raising_code_gave_wins_over_the_catalogue():
    """The rulebook cites each award's own article (awards' rule checks pass it in details)."""
    body = RuleViolation("«Tập thể lao động tiên tiến» chỉ dành cho tập thể", rule="award.applies_to",
                         details={"source": "Luật TĐKT 2022, Điều 28"}).body()
    assert body["source"] == "Luật TĐKT 2022, Điều 28"
    assert body["rule_name"] == rule_catalogue.rules()["award.applies_to"]["name"]
    assert body["details"] == {"source": "Luật TĐKT 2022, Điều 28"}


def test_a_refusal_without_a_rule_or_with_an_unknown_one_is_still_answered():
    assert "source" not in Forbidden("Không có quyền").body()
    body = NotYetSeen("Chưa thấy", rule="later.added_by_a_newer_service").body()
    assert body["rule"] == "later.added_by_a_newer_service" and body["retryable"] is True
    assert "source" not in body and "rule_name" not in body


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    system = build_system(tmp_path_factory.mktemp("rule-catalogue"))
    yield system
    close_system(system)


def test_a_concurrent_change_is_answered_retryable_with_its_rule_cited(system):
    """The store's expected version is refused outside any domain rule, by the service's error
    handler: as an ApiError too, so it is cited like the rest."""
    app = system.apps["registration"]
    with app.test_request_context("/campaigns", method="POST"):
        reply = app.make_response(app.handle_user_exception(ConcurrencyError("campaign-1", 3, 4)))
    body = reply.get_json()
    assert reply.status_code == 409 and body["retryable"] is True
    assert (body["rule"], body["details"]) == ("store.expected_version", {"stream": "campaign-1"})
    assert body["source"] == rule_catalogue.rules()["store.expected_version"]["source"]
    assert body["message"] == "Hồ sơ vừa được người khác thay đổi; hãy tải lại và thử lại"


CAMPAIGN = {"title": "Phong trào thử", "kind": "yearly", "period_start": "2024-01-01", "period_end": "2024-12-31",
            "registration_deadline": "2024-04-30"}


@pytest.mark.parametrize("headers, body, status, rule", [
    (token("department", ("86",)), {"title": "x"}, 422, "request.fields"),
    (token("department", ("86",)), "{not json", 400, "request.json"),
    (token("unit_head", ("86",)), CAMPAIGN, 403, "auth.role"),
    ({}, CAMPAIGN, 401, "auth.token"),
])
def test_the_refusals_of_the_plumbing_name_and_cite_their_rule(system, headers, body, status, rule):
    """Bad fields, a body that is not JSON, a role or a token refused before any domain rule."""
    client = system.client("registration")
    sent = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    r = client.post("/campaigns", headers=headers, **sent)
    answer = r.get_json()
    assert (r.status_code, answer["rule"]) == (status, rule), answer
    assert answer["source"] == rule_catalogue.rules()[rule]["source"]
    if status == 422:
        assert "title" in str(answer["errors"])  # the field is still named
