"""Rate-quality curve maths shared by the benchmarks: Pareto fronts, interpolation, matched-quality bytes.

A curve is a set of measured (bytes, quality) points, quality "higher is better" (weight SNR in dB, −log10 Δbpb,
or −bpb). Its Pareto front keeps the points no other point beats in both; between neighbouring front points,
quality is taken as linear in log(bytes) (distortion falls roughly exponentially with rate). Nothing is
extrapolated beyond the measured points.

A front is a list of (log bytes, quality) by increasing bytes and strictly increasing quality.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Front = list[tuple[float, float]]


def pareto_indices(pairs: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (bytes, quality) pairs on the Pareto front, by increasing bytes. Of points with equal bytes
    the best quality is kept; of exact duplicates, the first."""
    order = sorted(range(len(pairs)), key=lambda i: (pairs[i][0], pairs[i][1]))
    front: list[int] = []
    for i in order:
        x, y = pairs[i]
        if not front or y > pairs[front[-1]][1]:
            if front and x == pairs[front[-1]][0]:
                front[-1] = i
            else:
                front.append(i)
    return front


def pareto(pairs: Sequence[tuple[float, float]]) -> Front:
    """The Pareto front of (bytes, quality) pairs as (log bytes, quality)."""
    return [(math.log(pairs[i][0]), pairs[i][1]) for i in pareto_indices(pairs)]


def quality_at_bytes(front: Front, nbytes: float) -> float | None:
    """Interpolated quality at `nbytes`, None outside the front's byte range."""
    x = math.log(nbytes)
    if not front or x < front[0][0] - 1e-12 or x > front[-1][0] + 1e-12:
        return None
    for (x0, y0), (x1, y1) in zip(front, front[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return front[0][1] if len(front) == 1 else front[-1][1]


def segment_at_quality(front: Front, q: float) -> tuple[int, int, float] | None:
    """(i, j, t): front points i and j = i + 1 bracket quality q, at fraction t of the way from i to j (a single
    point reaching q exactly: (i, i, 0)); None outside the front's quality range."""
    if not front or q < front[0][1] - 1e-12 or q > front[-1][1] + 1e-12:
        return None
    if len(front) == 1:
        return 0, 0, 0.0
    for i, ((_, y0), (_, y1)) in enumerate(zip(front, front[1:])):
        if y0 <= q <= y1:
            return i, i + 1, 0.0 if y1 == y0 else min(1.0, max(0.0, (q - y0) / (y1 - y0)))
    # q is within 1e-12 of an end but just outside it
    return (0, 0, 0.0) if q < front[0][1] else (len(front) - 1, len(front) - 1, 0.0)


def bytes_at_quality(front: Front, q: float) -> float | None:
    """Interpolated bytes at which the front reaches quality q, None outside its quality range."""
    seg = segment_at_quality(front, q)
    if seg is None:
        return None
    i, j, t = seg
    return math.exp(front[i][0] + (front[j][0] - front[i][0]) * t)


def bytes_needed(front: Front, q: float) -> tuple[float | None, bool]:
    """bytes_at_quality, except that a quality below the curve's cheapest point gives that point's bytes as an
    upper bound (the curve already does better there): returns (bytes, is_upper_bound)."""
    if front and q < front[0][1]:
        return math.exp(front[0][0]), True
    return bytes_at_quality(front, q), False


def matched_ratio(front: Front, ref_bytes: float, ref_quality: float) -> tuple[float | None, bool]:
    """(bytes the curve needs for the quality a reference point reaches) / (the reference's bytes), and whether
    that is an upper bound (the curve's cheapest point is already better); None where the curve never gets
    there."""
    b, bound = bytes_needed(front, ref_quality)
    return (None, False) if b is None else (b / ref_bytes, bound)
