"""Markdown and CSV of the rate-distortion benchmark: every point, the matched-quality comparisons (sdcodec's
bytes at the best baseline's quality, quality at matched bytes), the verdict lines and the notes."""

from __future__ import annotations

import csv
import datetime
import math
import platform
import shlex
from dataclasses import asdict
from pathlib import Path

import scalar_vs_baseline as svb
from bench_common import rel
from curves import bytes_needed, pareto, quality_at_bytes
from rd_context import Context, Point
from sdcodec_cli import Binary


def q_snr(p: Point) -> float | None:
    return p.snr_all if p.snr_all is not None and math.isfinite(p.snr_all) else None


BPB_FLOOR = 1e-5


def q_bpb(p: Point) -> float | None:
    """Quality from Δbpb as a 'higher is better' number: -log10(max(Δbpb, 1e-5))."""
    if p.dbpb is None:
        return None
    return -math.log10(max(p.dbpb, BPB_FLOOR))


def front(points: list[Point], qf) -> list[tuple[float, float]]:
    """The Pareto front of the measured points under quality function qf (curves.pareto)."""
    return pareto([(p.nbytes, qf(p)) for p in points if p.ok and qf(p) is not None])


def f(x, fmt="{:.2f}", none="–"):
    if x is None:
        return none
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return fmt.format(x)


def render_points(points: list[Point], with_bpb: bool) -> list[str]:
    head = ["family", "configuration", "mode", "budget", "bytes", "bits/weight", "SNR all (dB)", "worst 2-D (dB)",
            "SNR norm (dB)", "R(D) bound", "gap (b/w)"]
    if with_bpb:
        head += ["bpb", "Δbpb"]
    head += ["VQ share", "scalar bits", "bank bytes", "enc s", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in points:
        cells = [p.family, p.config, p.mode, f(p.budget, "{:,}"), f(p.nbytes, "{:,}"), f(p.bpw, "{:.3f}"),
                 f(p.snr_all), f(p.snr_worst), f(p.snr_norm), f(p.bound, "{:.3f}"), f(p.gap, "{:+.3f}")]
        if with_bpb:
            cells += [f(p.bpb, "{:.4f}"), f(p.dbpb, "{:+.4f}")]
        st = p.status if not p.error else f"{p.status}: {p.error}"
        cells += [f(p.cb_share, "{:.0%}"), f(p.scalar_mean_bits, "{:.2f}"), f(p.bank_bytes, "{:,}"),
                  f(p.enc_s, "{:.1f}"), st.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_csv(path: Path, points: list[Point]) -> None:
    fields = list(asdict(points[0]).keys()) if points else []
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for p in points:
            w.writerow(asdict(p))


def group_curves(points: list[Point]) -> dict[str, list[Point]]:
    """Curves: one per sdcodec configuration (fixed and budget points together), one per baseline family."""
    curves: dict[str, list[Point]] = {}
    for p in points:
        if not p.ok:
            continue
        if p.mode == "baseline":
            name = p.family
        else:
            label = p.config.split(" (")[0]
            label = " ".join(w for w in label.split() if not w.endswith("-bit"))
            name = f"{p.family} {label}".strip()
        curves.setdefault(name, []).append(p)
    return curves


def matched_tables(ctx: Context, points: list[Point], budgets: list[int], with_bpb: bool) -> tuple[list[str], dict]:
    base = [p for p in points if p.mode == "baseline" and p.ok]
    curves = group_curves(points)
    sdc_curves = {k: v for k, v in curves.items() if k.startswith("sdcodec")}
    base_curves = {k: v for k, v in curves.items() if not k.startswith("sdcodec")}
    measures = [("weight SNR, all float tensors (dB)", q_snr, lambda y: f"{y:.2f}")]
    if with_bpb:
        measures.append(("Δbpb after the round trip", q_bpb, lambda y: f"{10 ** -y:+.4f}" if y < 4.99 else "≤0.00001"))
    lines: list[str] = []
    verdict: dict = {}
    P = ctx.params
    for title, qf, show in measures:
        base_fronts = {k: front(v, qf) for k, v in base_curves.items()}
        sdc_fronts = {k: front(v, qf) for k, v in sdc_curves.items()}

        def best_base_q(nbytes, base_fronts=base_fronts):
            ys = [y for y in (quality_at_bytes(fr, nbytes) for fr in base_fronts.values()) if y is not None]
            return max(ys) if ys else None

        def best_sdc_b(q, sdc_fronts=sdc_fronts):
            """Fewest bytes of any sdcodec curve at quality q: (bytes, label, is_upper_bound)."""
            bs = {k: r for k, r in ((k, bytes_needed(fr, q)) for k, fr in sdc_fronts.items()) if r[0] is not None}
            if not bs:
                return None, None, False
            k = min(bs, key=lambda k: bs[k][0])
            b, bound = bs[k]
            label = k.replace("sdcodec ", "")
            if "VQ" in k:  # how much of it is really codebook-coded near those bytes
                near = [p.cb_share or 0.0 for p in sdc_curves[k] if 0.8 * b <= p.nbytes <= 1.25 * b]
                label += f", VQ share ≤ {max(near, default=0.0):.0%}"
            return b, label, bound

        def fmt_b(b, bound, ref):
            s = 1.0 - b / ref
            return f"≤ {b:,.0f} (≥ {s:+.0%})" if bound else f"{b:,.0f} ({s:+.0%})"

        # quality at matched bytes
        lines += ["", f"### Quality at matched bytes — {title}", "",
                  "Budgets are the byte sizes of the GPTQ-lite points (sdcodec `--budget` = those bytes). Baseline "
                  "columns are interpolated on each baseline family's Pareto curve (quality linear in log bytes); "
                  "sdcodec columns are the measured budget points.", ""]
        cols = list(base_curves) + ["best baseline"] + [k for k in sdc_curves if any(p.mode == "budget" for p in sdc_curves[k])]
        lines.append("| budget bytes | bits/weight | " + " | ".join(cols) + " |")
        lines.append("|---:|---:|" + "---:|" * len(cols))
        for B in budgets:
            cells = [f"{B:,}", f"{8 * B / P:.2f}"]
            for c in cols:
                if c == "best baseline":
                    y = best_base_q(B)
                elif c in base_curves:
                    y = quality_at_bytes(front(base_curves[c], qf), B)
                else:
                    hit = [p for p in sdc_curves[c] if p.mode == "budget" and p.budget == B]
                    y = qf(hit[0]) if hit else None
                    if hit and hit[0].nbytes is not None and hit[0].nbytes < 0.97 * B:
                        cells.append((show(y) if y is not None else "–") + f" ({8 * hit[0].nbytes / P:.2f} b/w)")
                        continue
                cells.append(show(y) if y is not None else "–")
            lines.append("| " + " | ".join(cells) + " |")
        # bytes at matched quality
        lines += ["", f"### Bytes at matched quality — {title}", "",
                  "Quality targets: the best baseline's quality at 3.0, 3.5, 4.0, 4.5 and 5.0 bits/weight (the best "
                  "of the baseline families' interpolated curves at those bytes). Each sdcodec curve's bytes at that "
                  "quality are interpolated (log bytes linear in the quality measure) between its measured points; "
                  "'–' = outside its measured range (no extrapolation); '≤ X (≥ s)' = the curve's cheapest point "
                  "is already better than the target, so X bytes is an upper bound; 'sdcodec best' = the fewest "
                  "bytes of any sdcodec curve. Saving = 1 − sdcodec bytes / best-baseline bytes (positive: sdcodec "
                  "smaller).", ""]
        cols = ["sdcodec best"] + list(sdc_curves)
        lines.append("| baseline b/w | baseline bytes | target quality | " + " | ".join(cols) + " |")
        lines.append("|---:|---:|---:|" + "---:|" * len(cols))
        savings = []
        for rate in (3.0, 3.5, 4.0, 4.5, 5.0):
            Bb = rate * P / 8.0
            q = best_base_q(Bb)
            cells = [f"{rate:.1f}", f"{Bb:,.0f}", show(q) if q is not None else "– (outside baselines' range)"]
            for c in cols:
                bound = False
                if q is None:
                    b = None
                elif c == cols[0]:
                    b, best, bound = best_sdc_b(q)
                else:
                    b, bound = bytes_needed(sdc_fronts[c], q)
                if b is None:
                    cells.append("–")
                    if c == cols[0]:
                        savings.append((rate, None, None, False))
                else:
                    cells.append(fmt_b(b, bound, Bb))
                    if c == cols[0]:
                        savings.append((rate, 1.0 - b / Bb, best, bound))
            lines.append("| " + " | ".join(cells) + " |")
        verdict[title] = savings
        lines += ["", f"### Each baseline point against sdcodec — {title}", "",
                  "Every measured baseline point between 2.5 and 6 bits/weight, taken as it is (no interpolation on "
                  "the baseline side): the bytes the best sdcodec curve needs for the same quality.", ""]
        lines.append("| baseline | bytes | bits/weight | quality | sdcodec bytes at that quality | saving | best sdcodec curve |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        per_point = []
        for p in sorted(base, key=lambda p: p.nbytes):
            if not 2.5 <= 8 * p.nbytes / P <= 6.0 or qf(p) is None:
                continue
            b, k, bound = best_sdc_b(qf(p))
            s = None if b is None else 1.0 - b / p.nbytes
            if s is not None:
                per_point.append((p, s, bound))
            lines.append(f"| {p.family} {p.config} | {p.nbytes:,} | {8 * p.nbytes / P:.2f} | {show(qf(p))} | "
                         f"{'–' if b is None else ('≤ ' if bound else '') + f'{b:,.0f}'} | "
                         f"{'–' if s is None else ('≥ ' if bound else '') + f'{s:+.0%}'} | "
                         f"{k or '–'} |")
        verdict[title + " (per point)"] = per_point
    return lines, verdict


def verdict_lines(verdict: dict) -> list[str]:
    out = []
    for title, savings in verdict.items():
        if title.endswith("(per point)"):
            if savings:
                lo = min(savings, key=lambda t: t[1])
                hi = max(savings, key=lambda t: t[1])
                ge = lambda t: "≥ " if t[2] else ""  # noqa: E731
                out.append(f"- {title[:-12]}, each baseline point in 2.5–6 b/w taken as is: sdcodec saving from "
                           f"{ge(lo)}{lo[1]:+.0%} (vs {lo[0].family} {lo[0].config}) to {ge(hi)}{hi[1]:+.0%} (vs "
                           f"{hi[0].family} {hi[0].config}).")
            continue
        known = [(r, s) for r, s, _, _ in savings if s is not None]
        if not known:
            out.append(f"- {title}: no sdcodec curve reaches the baselines' quality between 3 and 5 bits/weight "
                       "(cannot say; see the tables).")
            continue
        met = all(s is not None and s >= 0.20 for _, s, _, _ in savings)
        desc = ", ".join(f"{r:.1f} b/w: {'≥ ' if bd else ''}{s:+.0%} ({b or '?'})" if s is not None
                         else f"{r:.1f} b/w: – (not measured)" for r, s, b, bd in savings)
        out.append(f"- {title}: sdcodec best saving vs best baseline at matched quality — {desc}. "
                   f"Goal (≥ 20 % fewer bytes everywhere in 3–5 b/w): **{'met' if met else 'NOT met'}**.")
    return out


def machine_line() -> str:
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{model or platform.machine()}; {svb.machine_line()}"


def render_report(ctx: Context, argv: list[str], binary: Binary | None, points: list[Point], budgets: list[int],
                  notes: list[str], started: str) -> str:
    with_bpb = ctx.ev is not None
    st = ctx.state
    lines = [
        f"# Rate–distortion: sdcodec vs users' quantize+compress recipes — {ctx.name}",
        "",
        f"- command: `{shlex.join(['python3', *[rel(a) if a.startswith('/') else a for a in argv]])}`",
        f"- date: {started} (started), {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')} (report)",
        f"- machine: {machine_line()}",
        f"- model: {ctx.description}; safetensors sha256 {ctx.sha[:16]}…; {len(st)} tensors; params {ctx.params:,} "
        f"total, {ctx.float_params:,} float, {ctx.quant_params:,} in 2-D float tensors (the quantized set)",
        f"- sdcodec: {binary.provenance if binary else 'not run'}",
        f"- sdcodec `--method` accepts: `{binary.method_help if binary else '–'}`",
    ]
    if ctx.ev is not None:
        lines.append(f"- evaluation text: {ctx.ev.describe()}")
    lines += ["", "## Verdict", ""]
    table_lines, verdict = matched_tables(ctx, points, budgets, with_bpb)
    lines += verdict_lines(verdict)
    n_err = sum(1 for p in points if p.status == "error")
    n_skip = sum(1 for p in points if p.status == "skipped")
    lines.append(f"- points: {sum(1 for p in points if p.ok)} measured, {n_err} failed, {n_skip} skipped "
                 "(time limit).")
    lines += ["", "## All points", ""]
    lines += render_points(points, with_bpb)
    lines += ["", "## Matched comparisons"]
    lines += table_lines
    fails = [p for p in points if p.status == "error" or (p.error and p.status == "ok")]
    if fails:
        lines += ["", "## Failures (exact command and message)", ""]
        for p in fails:
            lines.append(f"- `{p.command}` → {p.error}")
    lines += ["", "## sdcodec command lines", ""]
    seen = set()
    for p in points:
        if p.mode != "baseline" and p.command not in seen:
            seen.add(p.command)
            lines.append(f"- `{p.command}` (then `decode X.sdc -o Y.safetensors`, `inspect X.sdc --json`)")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def standard_notes(ctx: Context) -> list[str]:
    st = ctx.state
    one_d = sum(int(t.size) for t in st.values() if svb.is_float(t) and t.ndim != 2)
    non_float = sum(int(t.size) for t in st.values() if not svb.is_float(t))
    return [
        "Same tensors everywhere: every 2-D float tensor is quantized by every method (the baselines' "
        "\"threshold 0\" treatment; sdcodec with `--min-numel 0 --raw-dtype f16`); the other float tensors "
        f"({one_d:,} params, 1-D norms/biases) are stored as fp16 by all methods; non-float tensors "
        f"({non_float:,} params) pass through losslessly. The exception is `pg-int8 original`, which keeps float "
        "tensors of ≤ 65,536 elements in fp16 as parameter-golf's train_gpt.py does (shown for reference).",
        "bits/weight = 8 × whole-artifact bytes / all params (header, manifest, scales, banks, fp16 tensors "
        "included). SNR all = 10·log10(Σw²/Σ(w−ŵ)²) over all float tensors; worst 2-D = the lowest per-tensor SNR "
        "among 2-D tensors.",
        "SNR norm: every row r of every 2-D float tensor is divided by its RMS ρ_r = sqrt(mean_j w_rj²); SNR norm = "
        "−10·log10( Σ_r Σ_j ((w_rj − ŵ_rj)/ρ_r)² / N ), N = number of 2-D float weights (rows weighted by their "
        "length; rows with ρ_r = 0 skipped). R(D) bound = SNR norm / 6.02 bits per weight: the Shannon rate of an "
        "i.i.d. unit-variance Gaussian at that distortion. gap = bits/weight − bound, with the whole-file rate (so "
        "the fp16 1-D tensors, scales, banks and headers are part of the gap). The Gaussian is the hardest source "
        "of a given variance, so heavy-tailed real weights can in principle go below this 'bound'; treat the gap "
        "as a yardstick (uniform scalar + ideal entropy coding sits ≈ 0.25 b/w above it at high rate).",
        "pg-int8: `quantize_state_dict_int8` of openai/parameter-golf re-implemented in numpy "
        "(bench/scalar_vs_baseline.py, imported): per-row int8, clip = 99.99984th percentile, scale = "
        "max(clip/127, 1/127) fp16; pickle + zlib-9.",
        "int-b absmax + zstd-22: the int6 records' export — per-row scale = absmax/qmax (qmax = 2^(b−1)−1; 31 for "
        "int6) stored fp16 (floor 1e-12), q = clamp(round(w/scale), −qmax−1, qmax) in int8 (the published "
        "[−32, 31] clamp; |w| ≤ absmax means −32 never occurs, so it is the symmetric [−31, 31] form); "
        "{\"w\", \"m\"} dict pickled (protocol 4, standing in for torch.save) then zstd level 22. int6 is the "
        "record; other b use the same recipe to trace a curve.",
        "GPTQ-lite + brotli-11: per row, the best (least squared error) of 5 clips at the 99.9, 99.95, 99.99, "
        "99.999th percentile and the max of |w|; scale = clip/qmax in fp16; q = clamp(round(w/scale), −qmax, qmax) "
        "int8; the payload is pickled, byte-shuffled with the records' `_byte_shuffle` (stride 2 over the whole "
        "serialized payload, 5-byte marker) and compressed with brotli quality 11. Two deliberate differences from "
        "the published `quantize_int6_per_row`, which picks one percentile per TENSOR (by the tensor's mean "
        "error) and floors the scale at 1/qmax: here the choice is per row and the floor is dropped, because on "
        "these models (row max |w| ≈ 0.1–0.5) the 1/qmax floor leaves only a few levels per row — the published "
        "form is kept as one reference row (\"int6 as published\").",
        "All baseline rows are decoded from their compressed bytes (decompress → unpickle → dequantize) before "
        "measuring. Container differences vs torch.save (zip records) are a few hundred bytes at most.",
        "sdcodec budget points: `--budget B` with B = the byte size of a GPTQ-lite point, so those columns "
        "compare at exactly matched bytes. With `--method codebook --budget B` the allocator chooses per tensor "
        "among scalar 2..8-bit and codebook candidates (several entropy penalties λ); the 'VQ share' column is "
        "the fraction of the quantized params that ended up codebook-coded (from `inspect --json`), 'scalar bits' "
        "the mean bits of the scalar-coded ones. A VQ configuration whose VQ share is 0 % is really a scalar "
        "result. 'no budget, λ=0' rows are the pure codebook method at its natural rate.",
        "Interpolation: quality is taken as linear in log(bytes) between neighbouring points of a Pareto curve "
        "(points beaten in both bytes and quality by another point of the same curve are dropped); for Δbpb "
        f"the quality axis is −log10(max(Δbpb, {BPB_FLOOR:g})) (distortion is roughly exponential in rate). No "
        "extrapolation beyond measured points.",
        "'Best baseline' at given bytes = the best of the baseline families' interpolated curves there; the "
        "single 'int6 as published' point is its own family, so it enters the interpolated comparison only at "
        "its own byte count, and is compared point-for-point in the 'each baseline point' tables. Its 1/31 scale "
        "floor wrecks the small-magnitude tensors (see its worst 2-D SNR and Δbpb) but keeps the large-magnitude "
        "ones fine, so on the all-tensor weight SNR it can look better than its bpb.",
        "'best sdcodec curve' names the configuration with the fewest interpolated bytes, with the largest VQ "
        "share among its points within −20 %/+25 % of those bytes; configurations whose VQ share is 0 % there are "
        "scalar files and differ from `sdcodec scalar` only by allocation noise of a few bytes.",
        "Timings (enc s) are wall-clock on a shared 2-core machine and only indicative; sdcodec's include process "
        "start-up and file I/O.",
    ]
