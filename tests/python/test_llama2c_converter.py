"""tools/llama2c_to_safetensors.py against the llama2.c layout documented in ../shared/models/README.md."""
import struct

import numpy as np
from safetensors.numpy import load_file

from conftest import MODELS


def test_converter_keeps_every_weight(stories):
    t = load_file(str(stories))
    assert sum(v.size for v in t.values()) == 260_032
    raw = (MODELS / "stories260K.bin").read_bytes()
    dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack("<7i", raw[:28])
    floats = np.frombuffer(raw, dtype="<f4", offset=28)
    assert np.array_equal(t["tok_embeddings.weight"].ravel(), floats[: vocab * dim])
    # wq of layer 0 follows the embedding and the 5 attention norms.
    off = vocab * dim + layers * dim
    assert np.array_equal(t["layers.0.attention.wq.weight"].ravel(), floats[off: off + dim * dim])
    assert t["layers.4.feed_forward.w2.weight"].shape == (dim, hidden)
    assert "output.weight" not in t  # tied classifier
