#!/usr/bin/env python3
"""A researcher's path under a byte cap, end to end: plan a shape for the cap, train it briefly, build the
submission with the kit, load it back with nothing but the kit's decoder, and compare bits per byte.

    python3 examples/plan_train_submit.py [--cap 1000000] [--bits 4] [--steps 120] [--out work/example]

1. The code counts against the cap (parameter golf counts it), so the room for the artifact is the cap less
   the kit's decoder and this script, in raw bytes.
2. `sdcodec plan --solve dim` finds the widest model that fits that room. Its rates are measured on a pilot
   (a model trained with the same recipe, here the proving ground's pg-unique) encoded with the very setting
   the submission will use: `--bits B` with the pilot's Hessians, the tokenizer stored as an asset.
3. The solved shape is trained on the proving ground's corpus (bench/lm, JAX on the CPU), briefly: the point
   is the workflow, not the model.
4. The kit (sdcodec.submission) encodes the trained weights at that setting with their own calibration
   Hessians, writes the artifact, the minified single-file decoder and the byte report, and refuses with the
   exact overshoot if the whole does not fit.
5. The artifact is loaded back through the written decoder (numpy + zstandard only) and scored on held-out
   text next to the unquantised weights.

Prints the plan against the real file, the kit's byte report and a bits-per-byte table. Needs the sdcodec
package (pip install ., done by scripts/setup.sh), the CLI (build/sdcodec) and the proving ground's
dependencies (jax, optax, tokenizers). `--tiny` runs the same steps on toy sizes in seconds (the test does).
"""
import argparse
import importlib.util
import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from lm import build as B  # noqa: E402  (the proving ground: corpus, tokenizers, training, scoring)
from lm import model as M  # noqa: E402
from lm import train as T  # noqa: E402
from lm import zoo  # noqa: E402

from sdcodec import encode_file, submission  # noqa: E402

TOKENIZER = "tokenizer.json"


def code_bytes(script: pathlib.Path) -> int:
    """What the cap counts besides the artifact: the kit's decoder and this script, raw bytes."""
    return len(submission.decoder_source().encode()) + script.stat().st_size


def plan_dim(sdcodec: str, rates: pathlib.Path, room: int, a) -> dict:
    """`sdcodec plan --solve dim` for the room. Every head must have an even width (rotary embedding), so plan
    is given twice the heads: it then steps dim by 2 x heads, and heads do not change a Llama shape's bytes."""
    out = subprocess.run([sdcodec, "plan", "--from", str(rates), "--vocab", str(a.vocab), "--layers", str(a.layers),
                          "--heads", str(2 * a.heads), "--mlp-ratio", str(a.mlp_ratio), "--budget", str(room),
                          "--solve", "dim", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"plan_train_submit: sdcodec plan: {out.stderr.strip()}")
    return json.loads(out.stdout)[0]


def load_with_written_decoder(out_dir: pathlib.Path) -> dict:
    """The artifact back as numpy arrays through the kit's sdc_decoder.py alone (not the sdcodec package)."""
    spec = importlib.util.spec_from_file_location("sdc_decoder", out_dir / submission.DECODER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.load(str(out_dir / submission.ARTIFACT), as_torch=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=int, default=1_000_000, help="bytes for artifact + decoder + this script")
    ap.add_argument("--bits", type=int, default=4, help="the encode setting: --bits B with Hessians")
    ap.add_argument("--pilot", type=pathlib.Path, default=ROOT / "bench/lm/models/pg-unique",
                    help="a model trained with the same recipe, whose encoded file gives plan its rates")
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=3.0)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "work/example")
    ap.add_argument("--sdcodec", default=str(ROOT / "build/sdcodec"))
    ap.add_argument("--tiny", action="store_true", help="toy sizes (seconds): the test's version")
    a = ap.parse_args(argv)
    if a.tiny:
        a.ctx, a.steps, a.batch = 32, 4, 2
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    # 1. The room the cap leaves the artifact.
    code = code_bytes(pathlib.Path(__file__))
    room = a.cap - code
    print(f"cap {a.cap:,} B; code (kit decoder + {pathlib.Path(__file__).name}) {code:,} B; room {room:,} B")

    # 2. Rates from the pilot at the submission's setting, then the widest dim that fits.
    pilot = zoo.ProvingGroundLM("pilot", a.pilot)
    rates = a.out / "pilot.sdc"
    encode_file(str(a.pilot / "model.safetensors"), str(rates), bits=a.bits, hessians=pilot.hessians(),
                assets=pilot.assets())
    plan = plan_dim(a.sdcodec, rates, room, a)
    dim = plan["solve"]["value"]
    if dim == 0:
        sys.exit(f"plan_train_submit: no width fits {room:,} bytes at --bits {a.bits}")
    hidden = plan["shape"]["hidden"]
    print(f"plan: rates from {a.pilot.name} at --bits {a.bits} with Hessians; dim {dim} (hidden {hidden}) "
          f"predicted {plan['total_bytes']:,.0f} B; dim {plan['solve']['next']['shape']['dim']} would take "
          f"{plan['solve']['next']['total_bytes']:,.0f} B")

    # 3. Train the solved shape briefly (cached by the proving ground under a hash of code, config and corpus).
    cfg = M.ModelConfig(vocab=a.vocab, dim=dim, hidden=hidden, heads=a.heads, unique_blocks=a.layers, ctx=a.ctx)
    spec = zoo.Spec(cfg, T.TrainConfig(steps=a.steps, batch=a.batch, warmup=min(20, a.steps // 4)),
                    f"planned for {room:,} B at --bits {a.bits}")
    model_dir = B.build("planned", spec, a.out / "models", log=lambda s: print(f"  {s}"))
    lm = zoo.ProvingGroundLM("planned", model_dir)

    # 4. The submission: artifact at the setting plan assumed, decoder, byte report; refused if over the cap.
    sub = a.out / "submission"
    report = submission.build(str(model_dir / "model.safetensors"), str(sub), scripts=[__file__],
                              assets=lm.assets(), cap=a.cap, bits=a.bits, hessians=lm.hessians())
    print()
    print(submission.report_text(report), end="")
    real = report["files"][0]["bytes"]
    print(f"plan predicted the artifact at {plan['total_bytes']:,.0f} B; real {real:,} B "
          f"({100 * (plan['total_bytes'] / real - 1):+.2f} %)")

    # 5. Back through the written decoder alone, and scored next to the unquantised weights.
    restored = load_with_written_decoder(sub)
    before, after = lm.score(lm.weights()), lm.score(restored)
    print()
    print(f"{'model':<34}{'params':>10}{'tokens seen':>13}{'bpb fp16':>10}{'bpb round trip':>16}{'Δbpb':>9}")
    card = lm.card["stats"]
    print(f"{f'planned (dim {dim}, {a.layers} layers)':<34}{card['params']:>10,}{card['tokens_seen']:>13,}"
          f"{before.bpb:>10.4f}{after.bpb:>16.4f}{after.bpb - before.bpb:>+9.4f}")
    summary = {"cap": a.cap, "code": code, "room": room, "dim": dim, "hidden": hidden,
               "predicted": plan["total_bytes"], "next_dim": plan["solve"]["next"]["shape"]["dim"],
               "next_predicted": plan["solve"]["next"]["total_bytes"], "artifact": real, "total": report["total"],
               "bpb_before": before.bpb, "bpb_after": after.bpb, "round_trip": report["round_trip"]["result"]}
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\n{time.perf_counter() - t0:.0f} s; outputs in {a.out} (summary.json: these figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
