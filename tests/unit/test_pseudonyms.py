"""Keyed codes: stable, different for each use, useless without the secret."""

from __future__ import annotations

import hashlib
import hmac

from bot import pseudonyms

SECRET = "a-secret-of-the-organizers"
USER = 987654321


def test_each_use_has_its_own_code_for_the_same_number() -> None:
    codes = [pseudonyms.participant_id(SECRET, USER), pseudonyms.response_id(SECRET, USER),
             pseudonyms.log_id(SECRET, USER)]
    assert len({code[:12] for code in codes}) == 3
    assert [len(code) for code in codes] == [20, 20, 12]
    assert all(set(code) <= set("0123456789abcdef") for code in codes)
    unkeyed = hmac.digest(SECRET.encode(), str(USER).encode(), hashlib.sha256).hex()
    assert not any(unkeyed.startswith(code) for code in codes)  # the old, shared code


def test_codes_are_stable_and_depend_on_the_secret() -> None:
    for code in (pseudonyms.participant_id, pseudonyms.response_id, pseudonyms.log_id):
        assert code(SECRET, USER) == code(SECRET, USER)
        assert code(SECRET, USER) != code(SECRET + "x", USER)
        assert code(SECRET, USER) != code(SECRET, USER + 1)
        assert str(USER) not in code(SECRET, USER)
