#!/usr/bin/env python3
"""k-means speed and quality: sdcodec's KMeans (bench/kmeans_bench.cc) against faiss-cpu's Kmeans on the
same data, machine and thread count: 1 M points of dimension 8, K = 4096, 20 iterations by default.

MSE is the mean squared error per coordinate of every point to its nearest final centroid, computed here
the same way for both (exact search over the returned centroids). faiss subsamples to
max_points_per_centroid * K points; with 256 * 4096 = 1,048,576 >= 1 M it trains on every point, so both
see the same data. Peak RSS is each child process's maxrss; Linux carries a parent's maxrss into a forked
child, so both children are started before this process loads the data (its own footprint, about 30 MB
with numpy imported, is then the floor of either figure).

Usage: kmeans_vs_faiss.py --bench BIN [--n 1000000] [--d 8] [--k 4096] [--iters 20] [--threads 2]
                          [--data X.f32] [--out bench/results/kmeans_vs_faiss.md]"""
import argparse
import datetime
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_data(n, d, seed=5):
    """Sub-vectors of weight-like rows: half Gaussian, half Laplacian (heavy-tailed), per-row scales."""
    rng = np.random.default_rng(seed)
    half = n // 2
    g = rng.standard_normal((half, d))
    l = rng.laplace(size=(n - half, d))
    x = np.concatenate([g, l]) * rng.uniform(0.5, 2.0, size=(n, 1))
    return x.astype(np.float32)


def mse_of(x, centroids):
    import faiss
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(centroids)
    dist, _ = index.search(x, 1)
    return float(dist.sum() / x.size)


def run_faiss(d, k, iters, seed, threads):
    """faiss in a child process, so its peak RSS is its own."""
    code = f"""
import sys, time, resource, numpy as np, faiss
faiss.omp_set_num_threads({threads})
x = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, {d})
t = time.perf_counter()
km = faiss.Kmeans({d}, {k}, niter={iters}, seed={seed}, max_points_per_centroid=256, verbose=False)
km.train(x)
sec = time.perf_counter() - t
km.centroids.astype(np.float32).tofile(sys.argv[2])
print(f"RESULT seconds={{sec}} peak_rss_kib={{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}")
"""
    return code


def parse_result(text):
    line = [l for l in text.splitlines() if l.startswith("RESULT")][-1]
    return dict(kv.split("=") for kv in line.split()[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True, help="the sdc_kmeans_bench binary")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=8)
    ap.add_argument("--k", type=int, default=4096)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data")
    ap.add_argument("--out", default="bench/results/kmeans_vs_faiss.md")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data or os.path.join(tmp, "x.f32")
        if not a.data:  # in a child, so this process stays small while the measured children run
            code = f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); " \
                   f"import kmeans_vs_faiss as m; m.make_data({a.n}, {a.d}).tofile({data!r})"
            subprocess.run([sys.executable, "-c", code], check=True)
        faiss_out, sdc_out = os.path.join(tmp, "faiss.f32"), os.path.join(tmp, "sdc.f32")
        p = subprocess.run([sys.executable, "-c", run_faiss(a.d, a.k, a.iters, a.seed, a.threads), data, faiss_out],
                           capture_output=True, text=True, check=True)
        rf = parse_result(p.stdout)
        p = subprocess.run([a.bench, "--input", data, "--dim", str(a.d), "--k", str(a.k), "--iterations",
                            str(a.iters), "--seed", str(a.seed), "--threads", str(a.threads), "--output", sdc_out],
                           capture_output=True, text=True, check=True)
        rs = parse_result(p.stdout)
        x = np.fromfile(data, dtype=np.float32).reshape(-1, a.d)
        rows = [(name, float(r["seconds"]), mse_of(x, np.fromfile(out, np.float32).reshape(-1, a.d)),
                 int(r["peak_rss_kib"]))
                for name, r, out in (("faiss-cpu Kmeans", rf, faiss_out), ("sdcodec KMeans", rs, sdc_out))]
    base_t, base_mse = rows[0][1], rows[0][2]
    lines = [f"# k-means: sdcodec vs faiss-cpu", "",
             f"- command: `{' '.join(sys.argv)}`",
             f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
             f"{os.cpu_count()} CPUs; threads {a.threads}; data: {x.shape[0]:,} x {a.d} "
             f"({'given' if a.data else 'generated: half Gaussian, half Laplacian rows, per-row scales'}), "
             f"K = {a.k}, {a.iters} iterations", "",
             "| implementation | seconds | time ratio vs faiss | MSE per coordinate | MSE vs faiss | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, sec, mse, rss in rows:
        lines.append(f"| {name} | {sec:.2f} | {sec / base_t:.2f} | {mse:.6e} | {100 * (mse / base_mse - 1):+.2f}% | "
                     f"{rss / 1024:.0f} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
