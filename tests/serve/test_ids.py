"""Tests of tsrec.serve.ids: the one grammar of user and item ids and of times, with short, named errors."""
from __future__ import annotations

import math

import pytest

from tsrec.serve.ids import MAX_ID_LENGTH, MAX_TIME, InvalidInput, parse_id, parse_time, quote


def test_ids_that_are_kept():
    assert parse_id(7) == parse_id("7") == 7 and parse_id("-3") == -3
    assert parse_id("007") == "007" and parse_id("alice.b_c~d-e") == "alice.b_c~d-e"
    assert parse_id(2**63 - 1) == 2**63 - 1 and parse_id(str(-(2**63))) == -(2**63)
    assert parse_id("a" * MAX_ID_LENGTH) == "a" * MAX_ID_LENGTH


@pytest.mark.parametrize("value, fragment", [
    ("²", "letters, digits"),                      # str.isdigit() is true for it; int() is not
    ("a/b", "letters, digits"), ("a b", "letters, digits"), ("", "1 to 128"),
    ("1" * 5000, "1 to 128"), ("a" * (MAX_ID_LENGTH + 1), "1 to 128"),
    (10**30, "64-bit"), (2**63, "64-bit"), (10**5000, "64-bit"),
    (True, "integer or a string"), (3.5, "integer or a string"), (None, "integer or a string"),
], ids=lambda v: f"{type(v).__name__}-{len(v) if isinstance(v, str) else v.bit_length() if isinstance(v, int) else v}")
def test_ids_that_are_refused_name_the_field_and_quote_little(value, fragment):
    with pytest.raises(InvalidInput, match=fragment) as err:
        parse_id(value, "user")
    assert str(err.value).startswith("user ") and len(str(err.value)) < 300


@pytest.mark.parametrize("value, fragment", [
    (1e19, "between 0"), (-1, "between 0"), (MAX_TIME + 1, "between 0"), (float("nan"), "finite"),
    (math.inf, "finite"), ("5", "a number"), (True, "a number"),
])
def test_times_that_are_refused(value, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        parse_time(value, "now")


def test_times_and_quotes():
    assert parse_time(1.5e9) == 1_500_000_000 and parse_time(0) == 0
    assert quote("x" * 50_000).endswith("(50,000 characters)") and len(quote("x" * 50_000)) < 130
    assert quote(10**5000) == f"an integer of {(10**5000).bit_length():,} bits"
