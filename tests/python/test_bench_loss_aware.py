"""The loss-aware harness (bench/loss_aware.py, la_report.py): the budget search brackets each target's bpb, the
matched-quality ratio and its paired standard error, and the CLI helpers it relies on (roles from the encoder,
option detection)."""
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import la_report  # noqa: E402
import loss_aware  # noqa: E402
import sdcodec_cli  # noqa: E402
from la_points import LaPoint  # noqa: E402
from lmeval import Score  # noqa: E402

N_WIN = 50
BYTES = np.full(N_WIN, 100, dtype=np.int64)


def bpb_of(nbytes):
    """A smooth, decreasing rate-quality curve: bpb falls with log bytes."""
    return 1.0 + 2.0 / np.log(nbytes)


class FakeRun:
    """Stands in for ModelRun: an 'encode' at a budget fills 97 % of it and scores bpb_of(bytes), per window."""

    def __init__(self):
        self.calls, self.scores = [], {}

    def score_for(self, key, bpb, seed):
        noise = np.random.default_rng(seed).normal(0, 0.02, N_WIN)
        bits = (bpb + noise - noise.mean()) * BYTES
        self.scores[key] = Score(bits, BYTES.copy())
        return self.scores[key]

    def sdcodec(self, binary, label, args, budget):
        self.calls.append(budget)
        nbytes = int(0.97 * budget)
        p = LaPoint(label, f"budget {budget}", f"s{budget}", nbytes=nbytes, bpb=bpb_of(nbytes), budget=budget)
        self.score_for(p.key, p.bpb, budget)
        return p

    def score_of(self, p):
        return self.scores[p.key]


def target(run, nbytes, name):
    p = LaPoint("record pipeline", name, name, nbytes=nbytes, bpb=bpb_of(nbytes * 1.3))  # worse than sdcodec
    run.score_for(p.key, p.bpb, nbytes)
    return p


def test_budget_search_brackets_every_target_within_tolerance():
    run = FakeRun()
    targets = [target(run, n, f"t{n}") for n in (20_000, 60_000, 90_000)]
    pts = loss_aware.search_budgets(run, None, "sdcodec scalar", (), targets)
    assert len(run.calls) <= loss_aware.MAX_ENCODES_PER_TARGET * len(targets)
    for t in targets:
        m = la_report.matched(run, pts, t)
        lo, hi = m["between"]
        assert lo.bpb >= t.bpb >= hi.bpb
        assert hi.nbytes <= loss_aware.BRACKET_TOLERANCE * lo.nbytes
        # sdcodec's curve reaches the target's bpb at about 1.3x its bytes (the fake's construction)
        assert m["ratio"] == pytest.approx(1.3, rel=0.01)


def test_matched_reports_paired_error_of_the_interpolated_score():
    run = FakeRun()
    curve = [run.sdcodec(None, "s", (), b) for b in (10_000, 12_000, 30_000)]
    t = target(run, 10_000, "t")
    m = la_report.matched(run, curve, t)
    assert m["se"] > 0 and m["lo"] <= m["ratio"] <= m["hi"]
    assert not m["bound"]
    # a target better than anything on the curve is outside it
    best = LaPoint("record pipeline", "x", "x", nbytes=1000, bpb=0.5)
    run.score_for(best.key, best.bpb, 1)
    assert la_report.matched(run, curve, best)["bytes"] is None
    # a target worse than the curve's cheapest file: that file's bytes are an upper bound
    worst = LaPoint("record pipeline", "w", "w", nbytes=8_000, bpb=5.0)
    run.score_for(worst.key, worst.bpb, 2)
    m = la_report.matched(run, curve, worst)
    assert m["bound"] and m["bytes"] == curve[0].nbytes and m["ratio"] == pytest.approx(curve[0].nbytes / 8_000)


def test_stories_record_targets_are_the_scaled_threshold_curve():
    thr = 474
    bs = loss_aware.record_baselines(260_032, quantizes_at_65536=False, lrzip=True)
    names = [b.config for b in bs]
    assert sum("65,536" in n for n in names) == 1                    # fp16 there: only the int6 point
    assert sum(f"≤ {thr:,}" in n and "lrzip" not in n for n in names) == 8   # int3-6, two k variants
    assert any("lrzip" in n for n in names)
    p = LaPoint("record pipeline", f"int4, k per role, keep-fp16 ≤ {thr:,}", "k", nbytes=1, bpb=1.0)
    assert loss_aware.is_target(p, thr)
    assert not loss_aware.is_target(LaPoint("record pipeline (lrzip)", p.config, "k", nbytes=1, bpb=1.0), thr)


def test_cli_helpers_detect_options_and_read_roles_from_the_encoder(sdcodec, stories):
    b = sdcodec_cli.snapshot_binary(pathlib.Path(sdcodec), wait_s=30)
    assert b.supports("--importance") and b.supports("--budget")
    assert not b.supports("--no-such-option")
    roles = sdcodec_cli.roles_of(b, stories)
    assert roles["tok_embeddings.weight"] == "embedding"
    assert roles["layers.0.attention.wq.weight"] == "attention"
    assert roles["layers.4.feed_forward.w2.weight"] == "mlp"
    assert roles["norm.weight"] == "norm"


def test_unknown_model_is_a_one_line_error():
    with pytest.raises(loss_aware.BenchError, match="no-such-model"):
        loss_aware.load_model("no-such-model")


def test_args_take_extra_settings_and_refuse_bad_ones():
    a = loss_aware.parse_args(["--setting", "sdcodec codebook=--method codebook --k 256", "--no-lrzip"])
    assert a.no_lrzip and a.models == "stories260K" and not a.no_sdcodec
    s = loss_aware.parse_settings(a.setting)
    assert s["sdcodec codebook"] == ("--method", "codebook", "--k", "256")
    assert "sdcodec scalar" in s
    for bad in ("codebook=--k 2", "sdcodec x=--role 'a", "sdcodec x"):
        with pytest.raises(loss_aware.BenchError):
            loss_aware.parse_settings([bad])


class ToyLM:
    """A LanguageModel whose 'loss' is the squared weight error, split over 10 windows (no describe(): keyed by
    its reference score)."""

    name = "toy"

    def __init__(self):
        rng = np.random.default_rng(0)
        self.w = {"layers.0.mlp.fc.weight": (rng.standard_normal((96, 64)) * 0.05).astype(np.float32),
                  "layers.0.attn.c_q.weight": (rng.standard_normal((64, 64)) * 0.05).astype(np.float32),
                  "norm.weight": np.ones(64, np.float32)}
        x = rng.standard_normal((256, 64))
        self.h = {k: (x.T @ x / 256).astype(np.float32) for k, v in self.w.items() if v.ndim == 2}

    def weights(self):
        return {k: v.copy() for k, v in self.w.items()}

    def roles(self):
        return {}

    def hessians(self):
        return {k: v.copy() for k, v in self.h.items()}

    def assets(self):
        return {}

    def score(self, weights):
        err = np.zeros(10)
        for k, v in self.w.items():
            d = (weights[k].astype(np.float64) - v).ravel() ** 2
            err += np.array([d[i::10].sum() for i in range(10)])
        return Score(100.0 + 1e3 * err + np.arange(10), np.full(10, 50, dtype=np.int64))


def test_model_run_measures_caches_and_pairs_baseline_points(tmp_path, monkeypatch):
    import la_points
    import record_pipeline as rp
    monkeypatch.setattr(la_points, "WORK", tmp_path)
    roles = {"layers.0.mlp.fc.weight": "mlp", "layers.0.attn.c_q.weight": "attention", "norm.weight": "norm"}
    run = la_points.ModelRun(ToyLM(), roles)
    base = [rp.RecordPipeline("record pipeline", f"int{b}", f"r{b}", rp.RecordConfig(b, 100)) for b in (3, 6)]
    p3, p6 = [run.baseline(b) for b in base]
    assert p3.ok and p6.ok and p3.nbytes < p6.nbytes
    assert p3.dbpb > p6.dbpb > 0 and 0 < p6.dbpb_se
    assert run.score_of(p6).bpb == pytest.approx(p6.bpb)
    assert (tmp_path / "loss_aware" / "toy" / "weights.safetensors").is_file()
    again = la_points.ModelRun(ToyLM(), roles)
    q6 = again.baseline(base[1])
    assert again.cache_hits == 1 and q6.nbytes == p6.nbytes and q6.bpb == p6.bpb
    assert again.eval_id == run.eval_id
    la_points.write_csv(tmp_path / "t.csv", [p3, p6])
    assert (tmp_path / "t.csv").read_text().count("\n") == 3
