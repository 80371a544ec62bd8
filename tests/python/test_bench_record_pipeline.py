"""The top parameter-golf record's export as a baseline (bench/record_pipeline.py): its tensor treatment, LQER,
the blob -> weights round trip (equal to the in-memory dequantization), the per-group layout, determinism."""
import pathlib
import pickle
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import compressors as cz  # noqa: E402
import gptq  # noqa: E402
import record_pipeline as rp  # noqa: E402


def toy_model(seed=0, layers=2, dim=64, hidden=160, vocab=256):
    """A small Llama-shaped state dict with Hessians and roles as the harness would pass them."""
    rng = np.random.default_rng(seed)
    st, roles, H = {}, {}, {}

    def add(name, shape, role, scale=0.05):
        st[name] = (rng.standard_normal(shape) * scale * rng.uniform(0.5, 2.0, (shape[0], 1))).astype(np.float32)
        roles[name] = role
        x = rng.standard_normal((4 * shape[1], shape[1])) @ (np.eye(shape[1]) + 0.3 * rng.standard_normal(
            (shape[1], shape[1])) / np.sqrt(shape[1]))
        H[name] = (x.T @ x / len(x)).astype(np.float32)

    add("tok_embeddings.weight", (vocab, dim), "embedding", 0.5)
    for i in range(layers):
        for w, shape in (("wq", (dim, dim)), ("wk", (dim // 2, dim)), ("wv", (dim // 2, dim)), ("wo", (dim, dim))):
            add(f"layers.{i}.attention.{w}.weight", shape, "attention")
        for w, shape in (("w1", (hidden, dim)), ("w3", (hidden, dim)), ("w2", (dim, hidden))):
            add(f"layers.{i}.feed_forward.{w}.weight", shape, "mlp")
        st[f"layers.{i}.attention_norm.weight"] = np.ones(dim, np.float32)
        roles[f"layers.{i}.attention_norm.weight"] = "norm"
    st["layers.0.attn_gate.weight"] = (rng.standard_normal((8, 256)) * 0.1).astype(np.float32)
    roles["layers.0.attn_gate.weight"] = "attention"
    st["step"] = np.array([7], dtype=np.int64)
    return st, H, roles


THR = 2100  # keeps wk/wv (32x64 = 2048) in fp16, quantizes the rest


def test_tensor_treatment_follows_the_record():
    st, H, roles = toy_model()
    obj, info = rp.quantize_record(st, H, roles, rp.RecordConfig(6, THR))
    m, w = obj["m"], obj["w"]
    assert m["step"] == "passthrough" and w["step"].dtype == np.int64
    assert m["layers.0.attention_norm.weight"] == "passthrough (float16)"
    assert m["layers.0.attention.wk.weight"] == "passthrough (float16)"       # 2,048 ≤ threshold
    assert m["layers.0.attn_gate.weight"] == "gate int8"                       # 2-D gate of 2,048 elements
    assert m["tok_embeddings.weight"].startswith("gptq (int7)")
    assert np.abs(w["tok_embeddings.weight.q"]).max() <= 63
    assert m["layers.1.feed_forward.w2.weight"].startswith("gptq (int6)")
    assert np.abs(w["layers.1.feed_forward.w2.weight.q"]).max() <= 31
    assert info["k"]["tok_embeddings.weight"] == 14.0
    assert info["k"]["layers.0.attention.wq.weight"] == 13.0
    assert info["k"]["layers.0.feed_forward.w1.weight"] == 11.5
    s = w["layers.0.attention.wq.weight.scale"]
    assert s.dtype == np.float16
    assert np.array_equal(s, gptq.sdclip_scale(st["layers.0.attention.wq.weight"], 13.0, 6))


def test_lqer_corrects_the_three_largest_errors():
    st, H, roles = toy_model()
    obj, info = rp.quantize_record(st, H, roles, rp.RecordConfig(6, THR))
    w = obj["w"]
    errs = {}
    for name, kind in obj["m"].items():
        if kind.startswith("gptq"):
            errs[name] = np.linalg.norm(st[name] - gptq.dequantize_rows(w[name + ".q"], w[name + ".scale"]))
    top3 = sorted(errs, key=lambda n: -errs[n])[:3]
    assert sorted(info["lqer"]) == sorted(top3)
    recon = rp.dequantize_record(obj, st)
    for name in top3:
        assert "+lqer" in obj["m"][name]
        assert np.linalg.norm(st[name] - recon[name]) < errs[name]
        if name + ".lqA_a" in w:   # asymmetric form: A int2 in [-2, 1], B int4 in [-8, 7], a scale per 64
            assert w[name + ".lqA_a"].min() >= -2 and w[name + ".lqA_a"].max() <= 1
            assert np.abs(w[name + ".lqB_a"]).max() <= 8
            assert w[name + ".lqBs_a"].size == w[name + ".lqB_a"].size // 64
    others = [n for n in errs if n not in top3]
    assert all("+lqer" not in obj["m"][n] for n in others)


def test_blob_round_trip_equals_in_memory_dequantization_and_is_deterministic():
    st, H, roles = toy_model()
    cfg = rp.RecordConfig(5, THR)
    obj, _ = rp.quantize_record(st, H, roles, cfg)
    in_memory = rp.dequantize_record(obj, st)
    a = rp.RecordPipeline("f", "c", "k", cfg).run(st, H, roles)
    b = rp.RecordPipeline("f", "c", "k", cfg).run(st, H, roles)
    assert a.blob == b.blob
    assert a.nbytes == len(a.blob) < sum(t.nbytes for t in st.values())
    assert set(a.recon) == set(st)
    for name in st:
        assert a.recon[name].dtype == st[name].dtype
        assert np.array_equal(a.recon[name], in_memory[name]), name
    # the blob really is the records' format: brotli over a byte-shuffled pickle of {"w", "m"}
    back = pickle.loads(cz.decompress_brotli_shuffled(a.blob))
    assert set(back) == {"w", "m"}


def test_k_grid_variant_has_no_larger_h_weighted_error_than_the_record_k():
    st, H, roles = toy_model(seed=4, layers=1)
    rec, _ = rp.quantize_record(st, H, roles, rp.RecordConfig(4, THR, lqer=False))
    grid, info = rp.quantize_record(st, H, roles, rp.RecordConfig(4, THR, "grid", lqer=False))
    for name, kind in rec["m"].items():
        if not kind.startswith("gptq"):
            continue
        e = [gptq.h_weighted_error(st[name] - gptq.dequantize_rows(o["w"][name + ".q"], o["w"][name + ".scale"]),
                                   H[name]) for o in (rec, grid)]
        assert e[1] <= e[0], name
    assert min(info["k"].values()) < 11.5


def test_pergroup_layout_round_trips(monkeypatch):
    # The grouping, row reordering and transposition, with lrzip replaced by the identity (lrzip itself is tested
    # below when it is installed).
    monkeypatch.setattr(cz, "compress_lrzip", lambda b: b)
    monkeypatch.setattr(cz, "decompress_lrzip", lambda b: b)
    st, H, roles = toy_model(seed=2)
    cfg = rp.RecordConfig(6, THR, compressor="lrzip")
    obj, _ = rp.quantize_record(st, H, roles, cfg)
    blob = rp.serialize(obj, cfg, roles)
    streams = cz.unpack_streams(blob)
    groups = sorted({rp._group_key(n) for n in obj["w"] if n.endswith(".q")})
    assert len(streams) == len(groups) + 2
    # the embedding group is its codes with rows reordered by the L1 chain, transposed
    emb = obj["w"]["tok_embeddings.weight.q"]
    order = rp.similarity_order_l1(emb)
    assert streams[groups.index("tok_embeddings.weight.q")] == np.ascontiguousarray(emb[order].T).tobytes()
    back = rp.deserialize(blob, cfg, roles)
    assert set(back["w"]) == set(obj["w"])
    for k, v in obj["w"].items():
        assert np.array_equal(np.asarray(back["w"][k]), np.asarray(v)), k


def test_similarity_order_is_a_greedy_l1_chain():
    m = np.array([[0, 0], [9, 9], [1, 0], [8, 9], [2, 1]], dtype=np.int8)
    assert rp.similarity_order_l1(m).tolist() == [0, 2, 4, 3, 1]


def test_keep_float_threshold_scales_with_the_model():
    assert rp.scaled_keep_float_threshold(rp.RECORD_PARAMS) == 65_536
    assert rp.scaled_keep_float_threshold(260_032) == 474
    assert rp.scaled_keep_float_threshold(10) == 1


@pytest.mark.skipif(cz.lrzip_path() is None, reason="Debian's lrzip is not installed (apt-get install lrzip)")
def test_lrzip_variant_round_trips_through_real_lrzip():
    st, H, roles = toy_model(seed=3, layers=1)
    a = rp.RecordPipeline("f", "c", "k", rp.RecordConfig(6, THR, compressor="lrzip")).run(st, H, roles)
    obj, _ = rp.quantize_record(st, H, roles, rp.RecordConfig(6, THR))
    ref = rp.dequantize_record(obj, st)
    for name in st:
        assert np.array_equal(a.recon[name], ref[name]), name
