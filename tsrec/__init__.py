"""tsrec: the shared package of the book's chapter notebooks.

Modules, each with one job: ``config`` (seeds, device, paths), ``data`` (loaders, fetch),
``prep`` (cleaning, features, ids, splits), ``metrics`` and ``evaluate``, ``timeseries`` and
``windows``, ``models``, ``train``, ``llm``, ``stream``, ``serve``, ``book`` (notebook records).
"""
from tsrec.config import cache_home, data_home, device, seed_everything, set_threads

__all__ = ["cache_home", "data_home", "device", "seed_everything", "set_threads"]
__version__ = "0.1.0"
