"""Appendix B (environment, command-line training, HTTP deployment): values a wrong implementation would not
produce (smoke parameters; the default run satisfies them too)."""
from __future__ import annotations


def check(records):
    smoke = records["smoke"]
    assert all(v is True for k, v in records.items() if k.startswith("exercise:")), "a solution cell fails its check"
    assert len([k for k in records if k.startswith("exercise:")]) >= 4
    # environment: the Makefile's targets, what `make setup` runs, and the pinned versions are the installed ones
    assert {"setup", "data", "test", "book", "chapter", "bench"} <= set(records["makefile_targets"])
    assert records["make_setup_commands"] >= 5
    assert records["pins_total"] > 100 and records["pins_mismatched"] == [] and records["key_pins_ok"] is True

    # training: the command succeeds; the checkpoint carries config and id maps; reloading is exact
    from tsrec.models.sequential import SASRec

    assert records["cli_train_returncode"] == 0
    assert records["ckpt_n_items"] == records["ckpt_n_item_ids"] == 1682
    assert records["ckpt_parameters"] == sum(p.numel() for p in SASRec(1682, max_len=50, hidden=64).parameters())
    assert records["reload_max_abs_diff"] == 0.0 and records["reload_same_id_maps"] is True
    cli, again = records["cli_test_metrics"], records["reload_test_metrics"]
    for k in ("HR@10", "NDCG@10", "MRR@10"):
        assert abs(cli[k] - again[k]) <= 5.1e-5, (k, cli[k], again[k])
    assert again["HR@10"] > 0.05                                   # random ranking: about 0.006
    # popularity on the same split (the anchor of benchmarks/anchors.md), and SASRec against it, paired
    pop = records["pop_test_metrics"]
    assert abs(pop["HR@10"] - 0.0859) < 5e-4 and abs(pop["NDCG@10"] - 0.0449) < 5e-4
    d, half = records["sasrec_minus_pop_ndcg"]
    assert abs(d - (again["NDCG@10"] - pop["NDCG@10"])) < 1e-4 and half > 0
    assert abs(records["sasrec_over_pop_ndcg"] - again["NDCG@10"] / pop["NDCG@10"]) < 1e-3

    # serving: health, recommendations that react to posted events and never repeat seen items
    h = records["health"]
    assert h["status"] == "ok" and h["items"] == 1682 and h["events"] == 100_000 and h["users"] == 943
    before, after, posted = records["recs_before"], records["recs_after"], records["posted_items"]
    assert len(before) == len(after) == 10 and before != after
    assert not set(posted) & set(after)
    assert records["history_before_after"] == [272, 275]           # the prose: three events against 272 earlier ones
    assert records["kept_in_top10"] == len(set(before) & set(after)) < 10
    if not smoke:        # the prose: SASRec's test metrics; three horror events turn the list around
        assert abs(cli["HR@10"] - 0.2131) < 2e-3 and abs(cli["NDCG@10"] - 0.1044) < 2e-3
        assert abs(records["sasrec_over_pop_ndcg"] - 2.3) < 0.05
        d, half = records["sasrec_minus_pop_ndcg"]
        assert abs(d - 0.0596) < 2e-3 and abs(half - 0.0174) < 1e-3 and d > half
        assert records["horror_in_top10_before_after"] == [0, 7] and records["kept_in_top10"] == 1
    # cold start: recent popularity of the log, so the three films just posted (the only recent events) lead
    assert records["cold_start_flags"] == [True, False]
    cold, warm = records["cold_then_warm_items"]
    assert set(cold[:3]) == set(posted)
    assert not {50, 181} & set(warm)

    # bad input: 422 with a message, nothing logged
    assert set(records["bad_status"].values()) == {422} and len(records["bad_status"]) == 7
    assert "unknown item" in records["bad_unknown_item_message"]
    assert records["bad_requests_changed_state"] is False
    m = records["metrics_counts"]
    assert m["events_accepted"] == 5 and m["events_rejected"] == 6 and m["cold_start"] == 1
    assert m["history_loaded"] == 100_000 and m["replayed"] == 0

    # latency is measured and ordered; a restart replays every acknowledged event; the process is gone
    assert records["latency_get_p50_ms"] > 0 and records["latency_server_p50_ms"] > 0  # measured, not compared
    assert records["latency_post_p50_ms"] > 0
    assert records["latency_server_p50_ms"] < records["latency_get_p50_ms"]   # the server's part of the round trip
    assert records["sigterm_returncode"] in (0, -15)
    assert records["restart_replayed"] == records["restart_accepted_before"] > 5
    assert records["restart_same_recs"] is True and records["restart_same_events"] is True
    assert records["server_final_returncode"] in (0, -15) and records["server_terminated"] is True

    if "bench" in records:                                        # the default run: the load benchmark
        b = records["bench"]
        assert b["returncode"] == 0 and b["lost"] == 0 and 0 < b["acknowledged"] <= b["sent"]
