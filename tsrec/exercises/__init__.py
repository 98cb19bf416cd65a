"""Check functions for the exercises at the end of each chapter: they say whether an answer is right.

One module per chapter (``tsrec.exercises.ch01`` ...); every check is also importable from here, so a
notebook calls ``exercises.ch01_ndcg(answer)``. Expected answers are computed with tsrec itself, never typed
in, so a check stays true to the code.
"""
from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []
for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in dir(_mod):
        if _name.startswith("ch") and callable(getattr(_mod, _name)):
            globals()[_name] = getattr(_mod, _name)
            __all__.append(_name)
