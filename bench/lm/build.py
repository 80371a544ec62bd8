"""Builds the proving-ground models: tokenizer, training, fp16 export into bench/lm/models/NAME/.

    cd bench && python3 -m lm.build [NAME ...] [--models-dir DIR] [--force] [--tiny] [--hessians]

Each model is looked up in the cache (store.py) under the hash of code + configs + corpus; only a miss trains.
The committed copy is rewritten only when its card's key differs. `--tiny` swaps every spec for a few-step,
few-dimension version (CI: seconds) and needs --models-dir, so it never touches the committed models.
`--hessians` builds nothing: it writes NAME/hessians.safetensors beside each model as it is in the models folder
(E[x xᵀ] per 2-D tensor over the calibration split, the file `sdcodec encode --hessians` reads; not committed:
6-21 MB per model, seconds to make). A build would retrain a committed model whose key no longer matches the code
and libraries here, so exporting Hessians never builds.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time

from . import corpus, store, zoo
from . import model as M
from . import tokenizer as tokz
from . import train as T

HESSIANS = "hessians.safetensors"   # beside model.safetensors; .gitignore keeps it out of the repository


def tiny(spec: zoo.Spec) -> zoo.Spec:
    """The same architecture at toy size: 4 training steps of 2 windows of 32 tokens."""
    m = dataclasses.replace(spec.model, dim=16, hidden=32, heads=2, ctx=32,
                            factor_rank=min(spec.model.factor_rank, 8),
                            vocab=min(spec.model.vocab, 300) if spec.model.vocab > 256 else 256)
    return zoo.Spec(m, T.TrainConfig(steps=4, batch=2, warmup=1, seed=spec.train.seed), spec.about + " (tiny)")


def tokenizer_json(vocab: int, splits, log=print) -> bytes:
    key = store.key_of("tokenizer", vocab, corpus.corpus_hash(splits))
    path = store.cache_dir() / "tokenizers" / f"bpe{vocab}-{key}.json"
    if not path.exists():
        t0 = time.perf_counter()
        data = tokz.train(splits["train"], vocab).to_str().encode()
        store.write_atomic(path, data)
        log(f"tokenizer: BPE {vocab} trained in {time.perf_counter() - t0:.1f} s")
    return path.read_bytes()


def build(name: str, spec: zoo.Spec, out_root: pathlib.Path, force: bool = False, log=print) -> pathlib.Path:
    splits = zoo._splits()
    tok_json = tokenizer_json(spec.model.vocab, splits, log)
    key = store.key_of("model", spec.model.to_dict(), spec.train.to_dict(), corpus.corpus_hash(splits))
    cached = store.cache_dir() / "models" / f"{name}-{key}"
    if force or not (cached / "model.safetensors").exists():
        ids = tokz.encode(tokz.from_json(tok_json), corpus.split_text(splits["train"]))
        log(f"{name}: training {M.n_params(spec.model):,} parameters for {spec.train.steps} steps "
            f"({len(ids):,} train tokens)")
        params, stats = T.train(spec.model, spec.train, ids, log)
        card = {"name": name, "about": spec.about, "key": key, "model": spec.model.to_dict(),
                "train": spec.train.to_dict(), "stats": stats, "train_tokens_available": int(len(ids)),
                "corpus_sha256": corpus.corpus_hash(splits)}
        store.save_model(cached, params, tok_json, card)
    out = out_root / name
    _, _, card = store.load_model(cached)
    if force or not (out / "card.json").exists() or store.load_model(out)[2].get("key") != key:
        store.save_model(out, store.load_model(cached)[0], tok_json, card)
        log(f"{name}: written to {out}")
    else:
        log(f"{name}: up to date ({key})")
    return out


def write_hessians(name: str, models_dir: pathlib.Path) -> pathlib.Path:
    """models_dir/name/hessians.safetensors: the model's calibration Hessians in sdcodec's --hessians format."""
    path = models_dir / name / HESSIANS
    store.save_tensors_atomic(path, zoo.load(name, models_dir).hessians())
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"models to build (default: all of {', '.join(zoo.names())})")
    ap.add_argument("--models-dir", type=pathlib.Path, default=None)
    ap.add_argument("--force", action="store_true", help="retrain even when the cache has the model")
    ap.add_argument("--tiny", action="store_true", help="toy-size versions (CI), into --models-dir")
    ap.add_argument("--hessians", action="store_true",
                    help="build nothing: write hessians.safetensors (sdcodec's --hessians file) beside each model")
    a = ap.parse_args(argv)
    unknown = [n for n in a.names if n not in zoo.SPECS]
    if unknown:
        print(f"lm.build: unknown model {unknown[0]!r} (known: {', '.join(zoo.names())})", file=sys.stderr)
        return 2
    if a.tiny and a.models_dir is None:
        print("lm.build: --tiny needs --models-dir (the committed models are full size)", file=sys.stderr)
        return 2
    out_root = a.models_dir or store.MODELS_DIR
    try:
        for n in a.names or zoo.names():
            if a.hessians:
                print(f"{n}: {write_hessians(n, out_root)}")
            else:
                build(n, tiny(zoo.SPECS[n]) if a.tiny else zoo.SPECS[n], out_root, a.force)
    except (corpus.CorpusError, FileNotFoundError) as e:
        print(f"lm.build: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
