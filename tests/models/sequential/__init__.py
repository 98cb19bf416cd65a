"""Tests of tsrec.models.sequential."""
