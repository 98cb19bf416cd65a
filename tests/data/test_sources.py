"""Tests of tsrec.data.sources: every fetched file is checked against its recorded sha256, offline."""
from __future__ import annotations

import hashlib

import pytest

from tsrec import data


def test_checksum_mismatch_is_reported(tmp_path, copy_dataset):
    dst = copy_dataset(tmp_path, "ml-100k")
    with open(dst / "ml-100k.inter", "ab") as f:
        f.write(b"1\t2\t3\t4\n")
    with pytest.raises(data.ChecksumError, match="make data"):
        data.load_movielens_100k(root=tmp_path)


def test_sha256_and_verify_of_the_fetched_files(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"tsrec" * 100_000)  # more than one read chunk
    assert data.sha256(blob) == hashlib.sha256(b"tsrec" * 100_000).hexdigest()
    paths = data.verify("ml-100k")
    assert set(paths) == set(data.SOURCES["ml-100k"].files)
    for local, path in paths.items():
        assert path == data.dataset_dir("ml-100k") / local
        assert data.sha256(path) == data.SOURCES["ml-100k"].files[local][1]
    with pytest.raises(data.DataError, match="unknown data set"):
        data.verify("ml-1m")
    with pytest.raises(data.MissingDataError, match="is missing"):
        data.verify("ml-100k", root=tmp_path)  # an empty directory: nothing fetched there
    # fetch() of files that already check out downloads nothing (there is no network here)
    assert data.fetch("ml-100k") == paths
