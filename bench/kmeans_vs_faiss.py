#!/usr/bin/env python3
"""k-means speed and quality: sdcodec's KMeans (bench/kmeans_bench.cc) against faiss-cpu's Kmeans on the
same data, machine and thread count: 1 M points of dimension 8, K = 4096, 20 iterations by default.

MSE is the mean squared error per coordinate of every point to its nearest final centroid, computed here
the same way for both (exact search over the returned centroids). faiss subsamples to
max_points_per_centroid * K points; with 256 * 4096 = 1,048,576 >= 1 M it trains on every point, so both
see the same data. Peak RSS is each child process's maxrss; Linux carries a parent's maxrss into a forked
child, so both children are started before this process loads the data (its own footprint, about 30 MB
with numpy imported, is then the floor of either figure).

The machine may be shared: each configuration runs --repeat times, faiss and sdcodec alternating, and the
table gives the median wall time (the fastest in brackets) and the median CPU time of the training call;
the load average before and after is recorded. faiss uses its defaults otherwise (random seeding of K
training points; the k-means++ seeding of sdcodec is included in its time).

Usage: kmeans_vs_faiss.py --bench BIN [--n 1000000] [--d 8] [--k 4096] [--iters 20] [--threads 1,2]
                          [--repeat 3] [--data X.f32] [--out bench/results/kmeans_vs_faiss.md]"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile

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
t, c = time.perf_counter(), time.process_time()
km = faiss.Kmeans({d}, {k}, niter={iters}, seed={seed}, max_points_per_centroid=256, verbose=False)
km.train(x)
sec, cpu = time.perf_counter() - t, time.process_time() - c
km.centroids.astype(np.float32).tofile(sys.argv[2])
print(f"RESULT seconds={{sec}} cpu_seconds={{cpu}} peak_rss_kib={{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}")
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
    ap.add_argument("--threads", default=str(os.cpu_count()), help="comma-separated thread counts")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data")
    ap.add_argument("--out", default="bench/results/kmeans_vs_faiss.md")
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    load_before = os.getloadavg()
    results = {}  # (name, threads) -> list of RESULT dicts; centroids of the first run
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data or os.path.join(tmp, "x.f32")
        if not a.data:  # in a child, so this process stays small while the measured children run
            code = f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); " \
                   f"import kmeans_vs_faiss as m; m.make_data({a.n}, {a.d}).tofile({data!r})"
            subprocess.run([sys.executable, "-c", code], check=True)
        cents = {}
        for t in threads:
            for _rep in range(a.repeat):
                out = os.path.join(tmp, f"faiss{t}.f32")
                p = subprocess.run([sys.executable, "-c", run_faiss(a.d, a.k, a.iters, a.seed, t), data, out],
                                   capture_output=True, text=True, check=True)
                results.setdefault(("faiss-cpu Kmeans", t), []).append(parse_result(p.stdout))
                cents.setdefault(("faiss-cpu Kmeans", t), np.fromfile(out, np.float32).reshape(-1, a.d))
                out = os.path.join(tmp, f"sdc{t}.f32")
                p = subprocess.run([a.bench, "--input", data, "--dim", str(a.d), "--k", str(a.k), "--iterations",
                                    str(a.iters), "--seed", str(a.seed), "--threads", str(t), "--output", out],
                                   capture_output=True, text=True, check=True)
                results.setdefault(("sdcodec KMeans", t), []).append(parse_result(p.stdout))
                cents.setdefault(("sdcodec KMeans", t), np.fromfile(out, np.float32).reshape(-1, a.d))
        load_after = os.getloadavg()
        x = np.fromfile(data, dtype=np.float32).reshape(-1, a.d)
        mse = {key: mse_of(x, c) for key, c in cents.items()}
    med = lambda v: float(np.median(v))
    lines = ["# k-means: sdcodec vs faiss-cpu", "",
             f"- command: `{' '.join(sys.argv)}`",
             f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
             f"{os.cpu_count()} CPUs ({platform.processor() or 'cpu'}), shared: load average "
             f"{load_before[0]:.2f} before, {load_after[0]:.2f} after",
             f"- data: {x.shape[0]:,} x {a.d} "
             f"({'given' if a.data else 'generated: half Gaussian, half Laplacian rows, per-row scales'}), "
             f"K = {a.k}, {a.iters} iterations, seed {a.seed}; faiss trains on every point "
             f"(max_points_per_centroid 256 x K = {256 * a.k:,} >= n)",
             f"- seconds: median of {a.repeat} runs [fastest]; CPU: median process CPU seconds of the training "
             f"call; MSE: per coordinate, every point to its nearest final centroid (same exact search for both)",
             "",
             "| implementation | threads | seconds [fastest] | CPU s | time ratio vs faiss | MSE per coordinate | "
             "MSE vs faiss | peak RSS MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for t in threads:
        base_t = med([float(r["seconds"]) for r in results[("faiss-cpu Kmeans", t)]])
        base_mse = mse[("faiss-cpu Kmeans", t)]
        for name in ("faiss-cpu Kmeans", "sdcodec KMeans"):
            rs = results[(name, t)]
            secs = [float(r["seconds"]) for r in rs]
            cpu = med([float(r["cpu_seconds"]) for r in rs])
            rss = max(int(r["peak_rss_kib"]) for r in rs)
            m = mse[(name, t)]
            lines.append(f"| {name} | {t} | {med(secs):.2f} [{min(secs):.2f}] | {cpu:.2f} | {med(secs) / base_t:.2f} | "
                         f"{m:.6e} | {100 * (m / base_mse - 1):+.2f}% | {rss / 1024:.0f} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    open(a.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
