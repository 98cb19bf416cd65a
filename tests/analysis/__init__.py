"""Tests of tsrec.analysis."""
