"""Check functions for the exercises at the end of each chapter: they say whether an answer is right.

One module per chapter (``tsrec.exercises.ch01`` ...); every check is also importable from here, so a
notebook calls ``exercises.ch01_ndcg(answer)``. Expected answers are computed with tsrec itself, never typed
in, so a check stays true to the code. Called from here, a check answers an unfilled ``answer = ...`` (the
student copy's stub) at once, without computing anything.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable

from tsrec.book import record

__all__: list[str] = []


def _unfilled_answers_fail(check: Callable[..., bool]) -> Callable[..., bool]:
    """``check`` that says "Not yet" (and records False) straight away when the answer is still ``...``."""
    @functools.wraps(check)
    def checked(answer: object, *args: object, **kwargs: object) -> bool:
        if answer is Ellipsis:
            record(f"exercise:{check.__name__}", False)
            print("Not yet: replace `...` with your answer, computed by running code.")
            return False
        return check(answer, *args, **kwargs)

    return checked


for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in dir(_mod):
        if _name.startswith("ch") and callable(getattr(_mod, _name)):
            globals()[_name] = _unfilled_answers_fail(getattr(_mod, _name))
            __all__.append(_name)
