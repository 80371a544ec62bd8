#!/usr/bin/env python3
"""plan --solve against real files: rates measured on stories260K encoded at a fixed setting, the largest
value of a shape parameter that fits a budget, then that shape built from stories260K's own weights
(tools/llama_shape.py) and encoded at the same setting. Prints one row per case: the solved value, the
predicted and the real bytes, and the error. tests/python/test_plan_solve.py runs a few of these cases.

Usage: bench/plan_solve.py [--sdcodec build/sdcodec] [--out bench/results/plan_solve.md]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORIES = {"vocab": 512, "dim": 64, "layers": 5, "hidden": 172, "heads": 8, "kv_heads": 4}
SETTINGS = {"b4": ["--bits", "4"], "b6": ["--bits", "6"], "b5g32": ["--bits", "5", "--group", "32"],
            "vq": ["--method", "codebook", "--k", "256", "--dim", "4"]}
CASES = [(setting, solve, budget, vocab) for setting in ("b4", "b6", "b5g32", "vq")
         for solve in ("dim", "hidden", "layers", "unique-layers") for budget in (1_000_000, 2_000_000)
         for vocab in (512,)] + [("b6", "dim", 1_500_000, v) for v in (256, 1024, 4096)]


def _run(*args):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"{args[:2]} failed: {p.stderr.strip()}")
    return p.stdout


def shape_args(shape, solve):
    """The shape's options less vocab and the solved parameter (but dim: hidden follows --hidden / --dim)."""
    return [a for k, v in shape.items() if k != "vocab" and (k.replace("_", "-") != solve or k == "dim")
            for a in (f"--{k.replace('_', '-')}", str(v))]


def check(sdcodec, stories, measured, setting_args, solve, budget, vocab, work):
    """Solves, builds and encodes one case in directory `work`; returns the plan and the real file's report."""
    shape = dict(STORIES, layers=40) if solve == "unique-layers" else STORIES  # 40 layers, some unique
    plan = json.loads(_run(sdcodec, "plan", "--from", measured, "--vocab", vocab, *shape_args(shape, solve),
                           "--solve", solve, "--budget", budget, "--json"))[0]
    s = plan["shape"]
    _run(sys.executable, ROOT / "tools" / "llama_shape.py", stories, work / "m.safetensors", "--vocab", s["vocab"],
         "--dim", s["dim"], "--blocks", s["unique_layers"], "--hidden", s["hidden"], "--heads", s["heads"],
         "--kv-heads", s["kv_heads"])
    _run(sdcodec, "encode", work / "m.safetensors", "-o", work / "m.sdc", "--quiet", *setting_args)
    return plan, json.loads(_run(sdcodec, "inspect", work / "m.sdc", "--json"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sdcodec", default=str(ROOT / "build" / "sdcodec"))
    p.add_argument("--out", help="also write the table (Markdown) here")
    a = p.parse_args()
    rows = ["| setting | solve | budget | vocab | value (shape) | predicted | real | error | real fits |",
            "|---|---|---:|---:|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        stories = d / "stories260K.safetensors"
        _run(sys.executable, ROOT / "tools" / "llama2c_to_safetensors.py", ROOT.parent / "shared" / "models" /
             "stories260K.bin", stories)
        measured = {}
        for name, args in SETTINGS.items():
            measured[name] = d / f"{name}.sdc"
            _run(a.sdcodec, "encode", stories, "-o", measured[name], "--quiet", *args)
        for setting, solve, budget, vocab in CASES:
            plan, real = check(a.sdcodec, stories, measured[setting], SETTINGS[setting], solve, budget, vocab, d)
            s, size = plan["shape"], real["file_bytes"]
            err = plan["total_bytes"] / size - 1
            shape = f"d{s['dim']} h{s['hidden']} {s['unique_layers']}/{s['layers']} blocks"
            rows.append(f"| {setting} | {solve} | {budget:,} | {vocab} | {plan['solve']['value']} ({shape}) | "
                        f"{plan['total_bytes']:,.0f} | {size:,} | {err:+.2%} | {'yes' if size <= budget else 'no'} |")
            print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n"
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
