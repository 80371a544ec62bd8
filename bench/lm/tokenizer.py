"""Byte-level BPE tokenizers (the `tokenizers` package), and the UTF-8 bytes each token spells.

A vocabulary of 256 is the byte alphabet alone (no merges): every model, byte-level included, goes through the
same code path and ships its tokenizer.json as an asset. Bits per byte needs the exact UTF-8 bytes of every token;
byte-level BPE maps each byte to one printable character (GPT-2's table, `bytes_to_unicode` below), so a token's
bytes are its characters mapped back.
"""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> character table, which the ByteLevel pre-tokenizer of `tokenizers` uses."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def train(texts: list[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE of `vocab_size` tokens (256 = bytes only) trained on `texts`; deterministic."""
    if vocab_size < 256:
        raise ValueError(f"vocab_size {vocab_size} < 256: a byte-level vocabulary holds every byte")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[], show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    if tok.get_vocab_size() != vocab_size:
        raise ValueError(f"BPE training gave {tok.get_vocab_size()} tokens, asked for {vocab_size}")
    return tok


def from_json(data: bytes) -> Tokenizer:
    return Tokenizer.from_str(data.decode("utf-8"))


def token_bytes(tok: Tokenizer) -> np.ndarray:
    """int64 [vocab]: UTF-8 bytes spelled by each token id."""
    back = {c: b for b, c in bytes_to_unicode().items()}
    out = np.zeros(tok.get_vocab_size(), dtype=np.int64)
    for piece, i in tok.get_vocab().items():
        out[i] = sum(1 for c in piece if c in back)
        if out[i] != len(piece):
            raise ValueError(f"token {i} ({piece!r}) is not byte-level")
    return out


def encode(tok: Tokenizer, text: str, tb: np.ndarray | None = None) -> np.ndarray:
    """Token ids (int32) of `text`; checked to spell exactly its UTF-8 bytes (`tb`: token_bytes(tok))."""
    ids = np.asarray(tok.encode(text).ids, dtype=np.int32)
    spelled = int((token_bytes(tok) if tb is None else tb)[ids].sum())
    if spelled != len(text.encode("utf-8")):
        raise ValueError(f"tokens spell {spelled} bytes, the text has {len(text.encode('utf-8'))}")
    return ids
