"""Tests of tsrec.serve."""
