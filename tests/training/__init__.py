"""Tests of tsrec.training."""
