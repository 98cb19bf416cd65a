"""Tests of tsrec.metrics."""
