"""Per-chapter checks of the values a smoke run records (see tests/test_notebooks.py)."""
