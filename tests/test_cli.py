"""Tests of tsrec.cli, the one ``tsrec`` command: data, train, prequential (serve runs in tests/serve)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tsrec import cli, data
from tsrec.serve import load_model

REPO = Path(__file__).resolve().parents[1]


def test_help_lists_every_command():
    proc = subprocess.run([sys.executable, "-m", "tsrec", "--help"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0
    for command in ("data", "book", "train", "serve", "prequential"):
        assert command in proc.stdout
    sub = cli.parser()._subparsers._group_actions[0].choices
    assert set(sub) == {"data", "book", "train", "serve", "prequential"}


def test_the_old_entry_point_is_gone():
    proc = subprocess.run([sys.executable, "-m", "tsrec.data", "verify"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0 and "cannot be directly executed" in proc.stderr  # it is `tsrec data` now


def test_data_verify(capsys):
    assert cli.main(["data", "verify", "ml-100k"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ml-100k") and "ok" in out and "ml-100k.inter" in out
    assert cli.main(["data", "verify", "ml-1m"]) == 2  # an unknown data set: a one-line error, exit status 2
    assert "unknown data set" in capsys.readouterr().err


def test_train_writes_a_servable_model(tmp_path, capsys):
    out = tmp_path / "pop.pkl"
    assert cli.main(["train", "--data", "synthetic", "--model", "popularity", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "popularity on synthetic" in printed and str(out) in printed
    served = load_model(out, allow_pickle=True)                 # a popularity list is pickled (we made it)
    split_items = data.synthetic().interactions["item"].nunique()
    assert served.n_items == split_items and served.info["data"] == "synthetic" and served.info["model"] == "popularity"
    assert set(served.info["test"]) == {"HR@10", "NDCG@10", "MRR@10"}


def test_train_a_sequence_model_from_a_file(tmp_path):
    events = tmp_path / "events.csv"
    data.synthetic(n_users=20, n_items=30, events_per_user=8).interactions.to_csv(events, index=False)
    out = tmp_path / "gru.pt"
    args = ["train", "--data", str(events), "--model", "gru4rec", "--epochs", "1", "--max-len", "8", "--hidden", "8",
            "--out", str(out), "--quiet"]
    assert cli.main(args) == 0
    served = load_model(out)
    assert served.name == "GRU4Rec" and served.model.max_len == 8 and served.model.train_config["epochs"] == 1


def test_prequential_prints_a_summary_and_writes_the_events(tmp_path, capsys):
    out = tmp_path / "preq.csv"
    args = ["prequential", "--data", "synthetic", "--learner", "popularity", "--every", "25", "--out", str(out),
            "--quiet"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "HR@10" in printed and "events" in printed
    res = pd.read_csv(out)
    assert (res["event"] % 25 == 0).all() and {"rank", "HR@10", "NDCG@10"} <= set(res.columns)


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--model", "nope", "--out", "x"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([])


def test_own_files_are_cleaned_with_a_report_and_bad_ones_named(tmp_path, capsys):
    log = data.synthetic(n_users=20, n_items=30, events_per_user=8).interactions
    dirty = pd.concat([log, log.iloc[:50]], ignore_index=True)          # 50 exact duplicates
    dirty.loc[100, "timestamp"] = -5                                   # a clock error
    (tmp_path / "dirty.csv").write_text(dirty.to_csv(index=False))
    out = tmp_path / "pop.pkl"
    assert cli.main(["train", "--data", str(tmp_path / "dirty.csv"), "--model", "popularity", "--out", str(out),
                     "--quiet"]) == 0
    report = capsys.readouterr().err
    assert "dirty.csv: clean:" in report and "exact duplicate of an earlier row: 50" in report
    assert "timestamp outside" in report

    ms = log.assign(timestamp=log["timestamp"] * 1000)
    (tmp_path / "ms.csv").write_text(ms.to_csv(index=False))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "latin1.csv").write_bytes("user,item,timestamp\n1,caf\xe9,1\n".encode("latin-1"))
    for name, fragment in [("ms.csv", "milliseconds"), ("empty.csv", "empty.csv"), ("latin1.csv", "UTF-8")]:
        code = cli.main(["train", "--data", str(tmp_path / name), "--model", "popularity", "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and fragment in err and name in err and "Traceback" not in err, err
