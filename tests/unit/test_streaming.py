"""Streamed review = whole-matrix review: the checks, the group stats and the plan do not depend on the chunks.

The review reads a run through chunk summaries and re-simulates only the chunks it looks into. These tests run the
same schedule with chunks of 1, 2, 3, 7 and 64 rows and with the whole run as one chunk, and compare everything a
user sees: every finding (code, step, group, message), the shape, first/peak/end per group and every plan point.
"""

from __future__ import annotations

import copy
import os
import warnings
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schedule_cases import HEALTHY, MISCONFIGURED, make_optimizer
from test_simulation import lrs_st, optimizer, schedules, torch_steps
from torch.optim import lr_scheduler as L

from lightning_lrmon._review.pipeline import Review, assemble
from lightning_lrmon._review.series import SeriesSketch
from lightning_lrmon._review.subject import Subject
from lightning_lrmon._simulation.columns import Columns
from lightning_lrmon._simulation.simulate import simulate, simulate_columns


def seen(r: Review) -> tuple:
    """What a user of the review sees, in comparable form."""
    findings = [(f.code, f.step, f.group, f.message, f.hint) for f in r.findings]
    stats = [(g.tag, g.first, g.peak, g.peak_at, g.end) for g in r.groups]
    return findings, r.shape, repr(stats), r.plan.steps.tolist(), repr(r.plan.values.tolist())  # repr: NaN == NaN


def reviews(sched, n: int, chunk: int, **subject) -> tuple[tuple, tuple]:
    """The review of ``sched`` streamed in chunks of ``chunk`` rows, and of the same rows read as one chunk."""
    subj = Subject(copy.deepcopy(sched), n, label="lr-SGD", **subject)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sketch = SeriesSketch(n)
        sim, cols, ratios = simulate_columns(subj.scheduler, n, consumer=sketch, chunk_rows=chunk)
        rows = [cols.chunk(j) for j in range(cols.chunks)]
        got = assemble(subj, lambda r: r, sim, cols, ratios, sketch)
        matrix = np.concatenate(rows) if rows else np.empty((0, cols.groups))
        one = SeriesSketch(n)
        whole = assemble(subj, lambda r: r, sim, Columns.of_array(matrix, max(n, 1), feed=one.feed), ratios, one)
    return seen(got), seen(whole)


def assert_same_review(sched, n: int, chunks=(1, 3, 7, 64), **subject) -> None:
    for chunk in chunks:
        got, whole = reviews(sched, n, chunk, **subject)
        for part, a, b in zip(("findings", "shape", "stats", "plan steps", "plan values"), got, whole):
            assert a == b, f"chunks of {chunk} rows: the {part} differ"


@pytest.mark.parametrize("case", MISCONFIGURED + HEALTHY, ids=[c.id for c in MISCONFIGURED + HEALTHY])
def test_every_catalogue_case_reviews_the_same_in_any_chunks(case):
    kw = {k: v for k, v in case.kw.items() if k in ("configured_lrs", "steps_per_epoch")}
    assert_same_review(case.build(make_optimizer(case.lrs)), case.T, expect=case.expect, **kw)


@settings(
    max_examples=int(os.environ.get("LRMON_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
@given(build=schedules(), lrs=lrs_st, pre=st.integers(0, 40), n=st.integers(2, 200))
def test_random_schedules_review_the_same_in_any_chunks(build, lrs, pre, n):
    opt = optimizer(lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sched = build(opt)
            torch_steps(sched, pre)
        except (ValueError, ZeroDivisionError):
            reject()
    assert_same_review(sched, n, chunks=(1, 3, 16))


@given(build=schedules(), lrs=lrs_st, n=st.integers(1, 200), chunk=st.sampled_from([1, 2, 7, 64]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_streamed_chunks_are_the_simulated_rows(build, lrs, n, chunk):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sched = build(optimizer(lrs))
        except (ValueError, ZeroDivisionError):
            reject()
        sim, cols, ratios = simulate_columns(sched, n, chunk_rows=chunk)
        ref = simulate(sched, n, chunk_rows=chunk)
    rows = np.concatenate([cols.chunk(j) for j in range(cols.chunks)]) if cols.chunks else np.empty((0, 1))
    want = ref.lrs[: ref.valid_steps]
    if ratios is not None:  # one column: group 0's, exactly
        want = want[:, :1]
    assert sim.valid_steps == ref.valid_steps and sim.error_step == ref.error_step
    np.testing.assert_array_equal(rows, want)


def test_a_sketch_keeps_the_same_plan_however_the_rows_are_chunked():
    t = np.arange(30_000)
    x = np.stack([0.1 * (1 + np.cos(np.pi * t / t.size)) / 2, np.where(t % 5_000 < 2_500, 0.01, 0.02)], axis=1)
    x[:20] = 0.001 * t[:20, None]  # a warmup from zero: the span grows as the rows come
    plans = []
    for chunk in (1, 999, 4_096, t.size):
        sketch = SeriesSketch(t.size)
        for a in range(0, t.size, chunk):
            sketch.feed(x[a : a + chunk])
        plans.append(sketch.finish())
    for rows, values in plans[1:]:
        np.testing.assert_array_equal(rows, plans[0][0])
        np.testing.assert_array_equal(values, plans[0][1])
    rows = plans[0][0]
    assert 0 in rows and t.size - 1 in rows and 2_500 in rows and 2_499 in rows  # both ends and a jump's two rows
    assert rows.size <= 450


def test_a_schedule_that_is_not_a_function_of_the_step_is_reviewed_whole():
    calls = []

    def drifting(step: int) -> float:  # a lambda with state: simulated again, its chunks come out different
        calls.append(step)
        return 1.0 / (1 + 0.001 * len(calls))

    sched = L.LambdaLR(optimizer([0.1]), drifting)
    cols = simulate_columns(sched, 300, chunk_rows=16)[1]
    with pytest.raises(Exception, match="different"):
        [cols.chunk(j) for j in range(cols.chunks)]
    from lightning_lrmon._review.pipeline import review

    r = review(Subject(sched, 300, label="lr-SGD"))  # reviewed from the whole matrix instead, nothing raised
    now = sched.optimizer.param_groups[0]["lr"]
    assert r.lrs is None and len(r.groups) == 1 and r.groups[0].first == now and r.groups[0].end < now


def test_columns_of_a_matrix_answer_from_summaries_and_rows():
    x = np.array([[1.0, 2.0], [0.5, 1.0], [0.8, 3.0], [0.2, np.nan], [0.1, 0.4]])
    cols = Columns.of_array(x, chunk=2)
    assert (cols.n, cols.chunks) == (5, 3)
    assert cols.max(1, 5, 0) == 0.8 and cols.min(0, 3, 1) == 1.0 and not cols.all_finite(0, 5, 1)
    assert list(cols.rises(0, 5, 0)) == [1] and list(cols.rises(0, 5, None)) == [1]
    assert cols.first_at_most(0, 5, 0, 0.2) == 3 and cols.last_above(0, 5, 0, 0.3) == 2
    np.testing.assert_array_equal(cols.rows(1, 4), x[1:4])
    np.testing.assert_array_equal(cols.row(-1), x[-1])


def _reference_summary(x: np.ndarray, lead: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each chunk summary written out directly, one group at a time, with no shortcut."""
    out: dict[str, list] = {k: [] for k in ("mx", "mn", "amax", "finite", "nonneg", "rise", "double", "nfinite")}
    out |= {"ffirst": [], "flast": []}
    for g in range(x.shape[1]):
        col = x[:, g]
        pairs = col if lead is None else np.concatenate([[lead[g]], col])
        fin = col[np.isfinite(col)]
        with np.errstate(invalid="ignore", over="ignore"):
            out["rise"].append(any(b > a * (1 + 1e-9) for a, b in pairwise(pairs)))
            out["double"].append(any(b >= a * 2.0 for a, b in pairwise(pairs)))
        nan_free = col[~np.isnan(col)]
        out["mx"].append(nan_free.max() if nan_free.size else np.nan)
        out["mn"].append(nan_free.min() if nan_free.size else np.nan)
        out["amax"].append(np.abs(nan_free).max() if nan_free.size else np.nan)
        out["finite"].append(fin.size == col.size)
        out["nonneg"].append(bool(np.all(col >= 0)))
        out["nfinite"].append(fin.size)
        out["ffirst"].append(fin[0] if fin.size else np.nan)
        out["flast"].append(fin[-1] if fin.size else np.nan)
    return {k: np.asarray(v) for k, v in out.items()}


def test_chunk_summaries_equal_a_direct_reference_with_nan_inf_zeros_and_negatives():
    from lightning_lrmon._simulation.columns import _Summarizer

    rng = np.random.default_rng(0)
    summarize = _Summarizer()  # one, as in a pass: its buffers are reused across chunks of every shape
    for trial in range(1500):
        n, g = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        x = rng.random((n, g)) * 10.0 ** rng.integers(-3, 3, (n, g))
        for k, value in enumerate((np.nan, np.inf, -np.inf, 0.0)):
            if trial % (3 + 2 * k) == 0:
                x[rng.random((n, g)) < 0.2] = value
        if trial % 4 == 0:
            x = -x
        if trial % 5 == 0:
            x = np.sort(x, axis=0)[::-1].copy()
        lead = None if trial % 2 else rng.random(g) * (0.0 if trial % 17 == 0 else 1.0)
        got, want = summarize(x, lead), _reference_summary(x, lead)
        for name, value in want.items():
            assert np.array_equal(np.asarray(getattr(got, name)), value, equal_nan=True), (trial, name)
