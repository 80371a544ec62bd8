"""The benchmarks' curve maths (bench/curves.py): Pareto fronts, interpolation at matched bytes and at matched
quality, and the matched-quality ratios the verdicts are made of."""
import math
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import curves  # noqa: E402


def test_front_drops_dominated_points_and_keeps_best_of_equal_bytes():
    pairs = [(400, 3.0), (100, 1.0), (200, 0.5), (200, 1.5), (300, 1.2), (800, 3.0)]
    idx = curves.pareto_indices(pairs)
    assert [pairs[i] for i in idx] == [(100, 1.0), (200, 1.5), (400, 3.0)]
    front = curves.pareto(pairs)
    assert front == [(math.log(100), 1.0), (math.log(200), 1.5), (math.log(400), 3.0)]


def test_front_of_duplicates_keeps_the_first():
    pairs = [(100, 1.0), (100, 1.0)]
    assert curves.pareto_indices(pairs) == [0]


def test_quality_is_linear_in_log_bytes_between_front_points():
    front = curves.pareto([(100, 1.0), (400, 3.0)])
    assert curves.quality_at_bytes(front, 200) == pytest.approx(2.0)  # 200 is halfway in log bytes
    assert curves.quality_at_bytes(front, 100) == pytest.approx(1.0)
    assert curves.quality_at_bytes(front, 400) == pytest.approx(3.0)
    assert curves.quality_at_bytes(front, 99) is None
    assert curves.quality_at_bytes(front, 401) is None


def test_bytes_at_quality_inverts_quality_at_bytes():
    rng = np.random.default_rng(5)
    b = np.sort(rng.uniform(1e3, 1e6, 12))
    q = np.sort(rng.uniform(0, 40, 12))
    front = curves.pareto(list(zip(b, q)))
    for nbytes in rng.uniform(b[0], b[-1], 50):
        y = curves.quality_at_bytes(front, nbytes)
        assert curves.bytes_at_quality(front, y) == pytest.approx(nbytes, rel=1e-9)


def test_no_extrapolation_and_upper_bound_below_the_cheapest_point():
    front = curves.pareto([(100, 1.0), (400, 3.0)])
    assert curves.bytes_at_quality(front, 3.5) is None
    assert curves.bytes_at_quality(front, 0.5) is None
    assert curves.bytes_needed(front, 0.5) == (pytest.approx(100), True)   # the cheapest point already does better
    b, bound = curves.bytes_needed(front, 2.0)
    assert b == pytest.approx(200) and not bound
    assert curves.bytes_needed(front, 4.0) == (None, False)
    assert curves.bytes_at_quality([], 1.0) is None


def test_segment_names_the_bracketing_points_and_the_fraction():
    front = curves.pareto([(100, 1.0), (200, 2.0), (800, 4.0)])
    assert curves.segment_at_quality(front, 3.0) == (1, 2, pytest.approx(0.5))
    assert curves.segment_at_quality(front, 1.0) == (0, 1, 0.0)
    assert curves.segment_at_quality(front, 4.0) == (1, 2, 1.0)
    assert curves.segment_at_quality(front, 5.0) is None
    single = curves.pareto([(100, 1.0)])
    assert curves.segment_at_quality(single, 1.0) == (0, 0, 0.0)
    assert curves.bytes_at_quality(single, 1.0) == pytest.approx(100)


def test_matched_ratio_of_a_curve_against_a_reference_point():
    # a curve that reaches the reference's quality (2.0) at 200 bytes; the reference needs 250
    front = curves.pareto([(100, 1.0), (400, 3.0)])
    ratio, bound = curves.matched_ratio(front, 250, 2.0)
    assert ratio == pytest.approx(0.8) and not bound
    ratio, bound = curves.matched_ratio(front, 250, 0.0)     # reference worse than the curve's cheapest point
    assert ratio == pytest.approx(0.4) and bound
    assert curves.matched_ratio(front, 250, 9.0) == (None, False)


def test_bpb_quality_is_negated_so_lower_bpb_is_better():
    pts = [(1000, -1.30), (2000, -1.10), (1500, -1.40)]   # (bytes, -bpb); 1500 B is beaten by 1000 B
    front = curves.pareto(pts)
    assert [round(math.exp(x)) for x, _ in front] == [1000, 2000]
    assert curves.bytes_at_quality(front, -1.20) == pytest.approx(math.sqrt(1000 * 2000))
