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


def test_export_codes_are_the_same_hmac_computed_once_per_key() -> None:
    # ExportCodes prepares the key's SHA-256 states once; every secret length (a key
    # longer than SHA-256's block is hashed first) must give the module functions' codes.
    for secret in ("", "k", "é" * 31, "x" * 64, "y" * 65, "z" * 200, SECRET):
        codes = pseudonyms.ExportCodes(secret)
        for number in (0, 1, USER, -7, 10**18):
            assert codes.participant_id(number) == pseudonyms.participant_id(secret, number)
            assert codes.response_id(number) == pseudonyms.response_id(secret, number)
            assert codes.participant_id(number) == hmac.new(
                secret.encode(), b"consultbot/export/participant:" + str(number).encode(),
                hashlib.sha256).hexdigest()[:20]
