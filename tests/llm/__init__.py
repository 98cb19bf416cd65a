"""Tests of tsrec.llm."""
