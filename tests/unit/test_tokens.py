"""Bearer tokens: a verified token is remembered until it expires, and not a moment longer."""
import time

import pytest

from shared import auth
from shared.errors import Unauthorized

SECRET = "s" * 40


def test_a_token_names_its_principal_every_time_it_is_presented():
    token = auth.mint(SECRET, "teacher-1", "participant", ["83"])
    first = auth.decode(token, SECRET)
    assert first == auth.decode(token, SECRET) == auth.Principal("teacher-1", "participant", ("83",))


def test_a_remembered_token_is_refused_once_it_has_expired():
    token = auth.mint(SECRET, "teacher-2", "participant", ["83"], ttl_s=2)
    assert auth.decode(token, SECRET).subject == "teacher-2"  # verified and remembered
    time.sleep(2.1)
    with pytest.raises(Unauthorized, match="expired"):
        auth.decode(token, SECRET)


def test_a_token_signed_with_another_key_is_refused_even_after_a_good_one():
    token = auth.mint(SECRET, "teacher-3", "participant", ["83"])
    auth.decode(token, SECRET)
    with pytest.raises(Unauthorized):
        auth.decode(token, "k" * 40)
    with pytest.raises(Unauthorized):
        auth.decode(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), SECRET)
