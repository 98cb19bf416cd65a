"""Tests of tsrec.online."""
