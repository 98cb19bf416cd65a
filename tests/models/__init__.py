"""Tests of tsrec.models."""
