"""Chapter 7.1 (next-basket recommendation on The Complete Journey, simulated data): its records."""
from __future__ import annotations


def check(records):
    assert "smoke" in records
    for name in ("ch07_1_repeat_share", "ch07_1_produce_interval", "ch07_1_recall20"):
        assert records[f"exercise:{name}"] is True
    rec, paired = records["recall"], records["paired"]
    assert 0 < records["repeat_share"] < 1
    # buy-again (frequency) beats popularity on the repeat part beyond the interval (the classic result)
    d, c = paired["buy-again, beta = 0 (frequency) - popularity: repeat"]
    assert d - c > 0
    for name, (a, r, e) in rec.items():
        assert 0 <= e <= r <= 1 or e <= a
    assert -1 <= records["timing_spearman"] <= 1
    # promotions: the shares are of the full log (the same in smoke and default runs)
    import pytest
    sh = records["promo_share"]
    assert [round(sh[k], 3) for k in ("display or mailer", "on display", "in the mailer", "loyalty-card discount",
                                      "coupon")] == [0.223, 0.108, 0.164, 0.501, 0.015]
    camp = records["campaigns"]
    assert camp["Type A"][:2] == [4, 3647] and [round(camp[t][3], 3) for t in ("Type A", "Type B", "Type C")] == [
        0.166, 0.065, 0.059]
    assert round(records["redeemed_first_half"], 2) == 0.67
    for not_p, with_p, diff, half in records["promo_response"].values():
        assert diff - half > 0 and diff == pytest.approx(with_p - not_p, abs=0.01)  # promoted weeks: more purchases
    assert str(records["promo_weight"]) == max(records["promo_valid"], key=records["promo_valid"].get)
    assert records["promo_counts"][0] == 1469307 and records["promo_counts"][3:] == [801, 2469]
    assert records["cli_returncode"] == 0 and records["cli_items"] == 5  # tsrec train -> model.pt -> tsrec serve
    if not records["smoke"]:
        import pytest
        assert records["sample"] == [600, 346081, 37130]
        assert records["split"][1] == 13004 and records["split"][3] == 1356
        assert records["repeat_share"] == pytest.approx(0.550, abs=0.0005)
        assert d == pytest.approx(0.182, abs=0.0005) and c == pytest.approx(0.028, abs=0.0005)
        assert rec["buy-again, beta = 0 (frequency)"][1] == pytest.approx(0.343, abs=0.0005)
        assert rec["popularity"][1] == pytest.approx(0.161, abs=0.0005)
        assert records["beta"] == 0.0
        r = records["promo_response"]["display or mailer"]
        assert [round(v, 3) for v in r] == [0.082, 0.153, 0.071, 0.005] and 1.85 < r[1] / r[0] < 1.95  # "1.9 times"
        assert records["promo_weight"] == 0.1 and records["promo_counts"][1:3] == [33899, 543]
        # the time-aware model's gains on each of three seeds of its negative sample, and over the seeds
        from tsrec.metrics import mean_ci
        sd = records["seed_diffs"]
        ta, tx = "time-aware (MiniLM text)", "time-aware + 1 explore"
        for key in (f"{ta}: repeat", f"{ta}: all", f"{tx}: explore", f"{tx}: repeat"):
            assert len(sd[key]) == 3 and all(d - h > 0 for d, h in sd[key]), key
        assert [round(d, 4) for d, _ in sd[f"{ta}: repeat"]] == [0.0210, 0.0185, 0.0239]
        for key, (mean, half) in {f"{ta}: repeat": (0.0212, 0.0067), f"{tx}: explore": (0.0028, 0.0002),
                                  f"{tx}: repeat": (0.0146, 0.0024)}.items():
            m_, h_ = mean_ci([d for d, _ in sd[key]])
            # the last digit of a seed's difference has moved between runs (a tied score in the 10th place)
            assert round(m_, 4) == mean and h_ == pytest.approx(half, abs=1.5e-4), key
        spread = max(max(d for d, _ in v) - min(d for d, _ in v) for k, v in sd.items() if "explore" not in k or tx in k)
        assert spread <= 0.0055  # "moves these differences by at most 0.005"
        v = records["promo_valid"]
        assert [round(v[w], 4) for w in ("0.0", "0.1", "1.0")] == [0.2370, 0.2391, 0.2127]
        for part, (mean, half) in {"all": (0.0009, 0.0019), "repeat": (0.0040, 0.0042)}.items():
            d_, c_ = records["promo_boost"][part]
            assert abs(d_) < c_ and round(d_, 4) == mean and round(c_, 4) == half, part  # "no gain is shown"
        dt, ct = paired["buy-again, beta = 1 (time) - buy-again, beta = 0 (frequency): repeat"]
        assert dt + ct < 0 and dt == pytest.approx(-0.032, abs=0.0005)
        assert rec["buy-again, beta = 1 (time)"][1] == pytest.approx(0.311, abs=0.0005)
        gains = records["dept_time_gain"]
        assert [k for k, (g, h) in gains.items() if abs(g) > h] == ["PRODUCE"]
        assert gains["PRODUCE"][0] == pytest.approx(-0.034, abs=0.0005)
        assert records["timing_spearman"] == pytest.approx(0.32, abs=0.005)
        rx = paired["RepeatExplore (1 explore) - buy-again, beta = 0 (tuned): explore"]
        assert rx[0] - rx[1] > 0 and rx[0] == pytest.approx(0.0018, abs=0.00005)
        rr = paired["RepeatExplore (1 explore) - buy-again, beta = 0 (tuned): repeat"]
        assert rr[0] + rr[1] < 0 and rr[0] == pytest.approx(-0.010, abs=0.0005)
        assert max(v[2] for v in rec.values()) == pytest.approx(0.011, abs=0.0005)
        # the time-aware model: better on repeat with no slot, better on both parts with the validated slot
        assert records["text_dim"] == 384 and records["explore_slots"] == 1
        ta = "time-aware (MiniLM text)"
        assert rec[ta][1] == pytest.approx(0.364, abs=0.0005)
        for key, (mean, half) in {f"{ta} - buy-again, beta = 0 (tuned): repeat": (0.021, 0.014),
                                  f"{ta} - buy-again, beta = 0 (tuned): all": (0.015, 0.010),
                                  "time-aware + 1 explore - buy-again, beta = 0 (tuned): explore": (0.0028, 0.0024),
                                  "time-aware + 1 explore - buy-again, beta = 0 (tuned): repeat": (0.015, 0.013)}.items():
            d_, c_ = paired[key]
            assert d_ - c_ > 0, key
            assert d_ == pytest.approx(mean, abs=0.5 * 10 ** -len(str(mean).split(".")[1])), key
            assert c_ == pytest.approx(half, abs=0.5 * 10 ** -len(str(half).split(".")[1])), key
        for key, (mean, half) in {f"{ta} - time-aware, no text: all": (0.0020, 0.0059),
                                  f"{ta} - time-aware, no text: explore": (-0.0007, 0.0008)}.items():
            d_, c_ = paired[key]
            assert abs(d_) < c_ and d_ == pytest.approx(mean, abs=0.00005) and c_ == pytest.approx(half, abs=0.00005)
        # where text helps: by how often a product was bought before the test weeks
        tp = records["text_by_popularity"]
        assert set(tp) == {"5–19", "20–99", "100–499", "500+"}
        for key, (d, h) in {"5–19": (0.0058, 0.0029), "20–99": (0.0081, 0.0037), "100–499": (0.0027, 0.0078),
                            "500+": (-0.0314, 0.0129)}.items():
            assert (round(tp[key][1], 4), round(tp[key][2], 4)) == (d, h), key
        assert all(tp[k][1] - tp[k][2] > 0 for k in ("5–19", "20–99")) and abs(tp["100–499"][1]) < tp["100–499"][2]
        assert tp["500+"][1] + tp["500+"][2] < 0

