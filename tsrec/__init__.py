"""tsrec: the shared package of the book's chapter notebooks.

From the bottom layer up (each imports only from the layers before it): ``config`` and ``times``; ``data``;
``prep`` and ``splits``; ``queries``; ``metrics``; ``timeseries`` and ``windows``; ``evaluate``; ``models``;
``training``; ``analysis``; ``llm``; ``online``; ``serve``; and ``book``, ``profiles``, ``references``, ``plots``,
``exercises``, ``cli``.
"""
from tsrec.config import cache_home, data_home, device, seed_everything, set_threads

__all__ = ["cache_home", "data_home", "device", "seed_everything", "set_threads"]
__version__ = "0.1.0"
