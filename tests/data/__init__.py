"""Tests of tsrec.data."""
