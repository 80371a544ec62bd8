#!/usr/bin/env python3
"""Draws the benchmark results in bench/results/ as SVG plots (hand-written SVG: no plotting library) and
writes bench/README.md: the latest verdicts, the plots, the commands that made each table.

  rd_<model>_snr.svg   bits/weight against weight SNR, one series per family (sdcodec and the baselines)
  rd_stories_bpb.svg   bits/weight against bits per byte after the round trip (stories260K)
  kmeans_speed.svg     k-means training seconds, sdcodec vs faiss-cpu, per thread count

Usage: bench/plot_results.py [--results bench/results]"""
import argparse
import csv
import html
import math
import os
import re

COLOURS = {"sdcodec scalar": "#59a14f", "sdcodec VQ shared": "#e15759", "sdcodec VQ per-tensor": "#b07aa1",
           "GPTQ-lite + brotli-11": "#4e79a7", "GPTQ-lite as published + brotli-11": "#76b7b2",
           "int-b absmax + zstd-22": "#f28e2b", "pg-int8 + zlib-9": "#9c755f"}


def nice_ticks(lo, hi, n=6):
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 2.5, 5, 10):
        if span / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    ticks, t = [], start
    while t <= hi + 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def line_plot(series, title, xlabel, ylabel, xlim=None, ylim=None, logy=False, width=760, height=460):
    """series: {name: [(x, y), ...]} -> SVG text. Points sorted by x; lines join them."""
    pts = [p for s in series.values() for p in s]
    if not pts:
        return None
    fy = (lambda v: math.log10(v)) if logy else (lambda v: v)
    xs = [p[0] for p in pts]
    ys = [fy(p[1]) for p in pts]
    x0, x1 = xlim or (min(xs), max(xs))
    y0, y1 = (fy(ylim[0]), fy(ylim[1])) if ylim else (min(ys), max(ys))
    if x1 == x0: x1 += 1
    if y1 == y0: y1 += 1
    left, right, top, bottom = 64, 230, 36, 48
    pw, ph = width - left - right, height - top - bottom
    sx = lambda x: left + (x - x0) / (x1 - x0) * pw
    sy = lambda y: top + ph - (fy(y) - y0) / (y1 - y0) * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    for t in nice_ticks(x0, x1):
        out.append(f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{t:g}</text>')
    yt = nice_ticks(y0, y1)
    for t in yt:
        y = top + ph - (t - y0) / (y1 - y0) * ph
        label = f"{10 ** t:.3g}" if logy else f"{t:g}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">{html.escape(xlabel)}</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" text-anchor="middle">{html.escape(ylabel)}</text>')
    for i, (name, s) in enumerate(series.items()):
        colour = COLOURS.get(name, ["#333", "#888", "#bbb"][i % 3])
        s = sorted(p for p in s if x0 <= p[0] <= x1 and (ylim is None or ylim[0] <= p[1] <= ylim[1]))
        if not s:
            continue
        path = " ".join(f"{'M' if k == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for k, (x, y) in enumerate(s))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        for x, y in s:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
        ly = top + 8 + 18 * i
        out.append(f'<rect x="{left + pw + 12}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{left + pw + 30}" y="{ly + 10}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def rd_series(csv_path, ycol, modes, higher_is_better):
    """Each family's Pareto front: its points that no point of the same family at fewer or equal bits beats
    (a family holds several configurations; the front is what a user of it can reach)."""
    series = {}
    for r in csv.DictReader(open(csv_path)):
        if r["status"] != "ok" or r["mode"] not in modes or not r[ycol] or not r["bpw"]:
            continue
        series.setdefault(r["family"], []).append((float(r["bpw"]), float(r[ycol])))
    for name, pts in series.items():
        front, best = [], None
        for x, y in sorted(pts, key=lambda p: (p[0], -p[1] if higher_is_better else p[1])):
            if best is None or (y > best if higher_is_better else y < best):
                front.append((x, y))
                best = y
        series[name] = front
    return series


def kmeans_series(md_path):
    rows = {}
    for line in open(md_path):
        m = re.match(r"\| (faiss-cpu Kmeans|sdcodec KMeans) \| (\d+) \| ([\d.]+)", line)
        if m:
            rows.setdefault(m.group(1), []).append((int(m.group(2)), float(m.group(3))))
    return rows


def bar_plot(rows, title, width=520, height=300):
    names = list(rows)
    threads = sorted({t for v in rows.values() for t, _ in v})
    most = max(s for v in rows.values() for _, s in v)
    left, top, ph = 60, 40, height - 90
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    bw = 60
    for gi, t in enumerate(threads):
        gx = left + gi * (len(names) * bw + 50)
        for ni, n in enumerate(names):
            s = dict(rows[n]).get(t)
            if s is None:
                continue
            h = s / most * ph
            colour = "#4e79a7" if n.startswith("faiss") else "#59a14f"
            x = gx + ni * bw
            out.append(f'<rect x="{x}" y="{top + ph - h:.1f}" width="{bw - 8}" height="{h:.1f}" fill="{colour}"/>')
            out.append(f'<text x="{x + (bw - 8) / 2}" y="{top + ph - h - 4:.1f}" text-anchor="middle">{s:.2f} s</text>')
        out.append(f'<text x="{gx + len(names) * bw / 2}" y="{top + ph + 18}" text-anchor="middle">{t} thread{"s" if t > 1 else ""}</text>')
    for ni, n in enumerate(names):
        colour = "#4e79a7" if n.startswith("faiss") else "#59a14f"
        out.append(f'<rect x="{left + ni * 170}" y="{height - 26}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{left + ni * 170 + 18}" y="{height - 16}">{html.escape(n)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def header_lines(md_path, keys=("- command:", "- date:")):
    if not os.path.exists(md_path):
        return []
    return [l.rstrip() for l in open(md_path) if l.startswith(keys)]


def verdict(md_path):
    lines, on = [], False
    for l in open(md_path):
        if l.startswith("## Verdict"):
            on = True
            continue
        if on and l.startswith("## "):
            break
        if on and l.strip():
            lines.append(l.rstrip())
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    a = ap.parse_args()
    res = a.results
    made = []
    for model in ("stories", "minilm"):
        path = os.path.join(res, f"rate_distortion_{model}.csv")
        if not os.path.exists(path):
            continue
        svg = line_plot(rd_series(path, "snr_all", {"baseline", "budget", "fixed"}, True),
                        f"{model}: weight SNR against size (each family's best)", "bits per weight (whole file)", "SNR, all float tensors (dB)",
                        xlim=(1.5, 8.5))
        open(os.path.join(res, f"rd_{model}_snr.svg"), "w").write(svg)
        made.append(f"rd_{model}_snr.svg")
        if model == "stories":
            svg = line_plot(rd_series(path, "bpb", {"baseline", "budget", "fixed"}, False),
                            "stories260K: bits per byte after the round trip (each family's best)",
                            "bits per weight (whole file)", "bits per byte on model-sampled text",
                            xlim=(3.0, 8.0), ylim=(0.76, 1.0))
            open(os.path.join(res, "rd_stories_bpb.svg"), "w").write(svg)
            made.append("rd_stories_bpb.svg")
    km = os.path.join(res, "kmeans_vs_faiss.md")
    if os.path.exists(km) and kmeans_series(km):
        open(os.path.join(res, "kmeans_speed.svg"), "w").write(
            bar_plot(kmeans_series(km), "k-means: 1M x 8, K = 4096, 20 iterations"))
        made.append("kmeans_speed.svg")

    out = ["# Benchmarks", "",
           "Regenerate everything with `bash bench/run_all.sh` (`--quick`: stories260K only; the MiniLM part is the long one).",
           "This page is written by `bench/plot_results.py` from the tables in `results/`; each table names the",
           "command, binary and machine that made it. Figures are CPU timings on the machine named there.", ""]
    sections = [("Rate–distortion, stories260K (weight SNR and bits per byte after the round trip)",
                 "rate_distortion_stories.md", ["rd_stories_snr.svg", "rd_stories_bpb.svg"]),
                ("Rate–distortion, all-MiniLM-L6-v2 (22.7 M parameters, weight SNR)",
                 "rate_distortion_minilm.md", ["rd_minilm_snr.svg"]),
                ("Loss-aware: sdcodec against the record pipeline (full-Hessian GPTQ, LQER, brotli/lrzip), stories260K",
                 "loss_aware_stories260K.md", []),
                ("Record pipeline time on the top record's 36 M-parameter shape", "gptq_timing.md", []),
                ("k-means speed against faiss-cpu", "kmeans_vs_faiss.md", ["kmeans_speed.svg"]),
                ("Scalar codec against the parameter-golf int8 baseline", "scalar_vs_baseline.md", []),
                ("Research notes' falsification tests on the proving ground", "seeds.md",
                 ["seeds_bank_pg-unique.svg", "seeds_bank_pg-shared.svg", "seeds_vocab.svg"])]
    # bench/seeds.py draws its own plots beside seeds.md.
    made += [f for f in ("seeds_bank_pg-unique.svg", "seeds_bank_pg-shared.svg", "seeds_vocab.svg")
             if os.path.exists(os.path.join(res, f))]
    for title, md, svgs in sections:
        path = os.path.join(res, md)
        if not os.path.exists(path):
            continue
        out += [f"## {title}", "", f"Table: [`results/{md}`](results/{md})", ""]
        out += header_lines(path) + [""]
        v = verdict(path)
        if v:
            out += v + [""]
        if md == "kmeans_vs_faiss.md":
            out += [l.rstrip() for l in open(path) if l.startswith("|")][:8] + [""]
        for s in svgs:
            if s in made:
                out += [f"![{s}](results/{s})", ""]
    open(os.path.join(os.path.dirname(res), "README.md"), "w").write("\n".join(out))
    print("wrote", ", ".join(made), "and bench/README.md")


if __name__ == "__main__":
    main()
