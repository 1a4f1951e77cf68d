"""lightning-lrmon as a library a user installs (issue 22): the README's quickstart, the package's metadata and
imports, typed results, the plot call, warnings in Lightning's console, and `lrmon` without its `cli` extra."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import SGD, TinyModule, f32, loader, read_scalars, run_dir, series, trainer

from lightning_lrmon import LRMonitor, LRScheduleWarning, plot


def test_warnings_show_their_category_and_point_at_the_users_configure_optimizers(tmp_path):
    import lightning.fabric.utilities.warnings  # noqa: F401 - installs Lightning's console formatter

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.001))
    cb = LRMonitor({"class_path": "LinearLR", "init_args": {"start_factor": 0.5, "total_iters": 10}})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer(tmp_path, [cb], max_steps=10).fit(module, loader(64, 4))
    (w,) = [w for w in record if issubclass(w.category, LRScheduleWarning)]
    assert w.filename.endswith("helpers.py")  # TinyModule.configure_optimizers, not lightning_lrmon's internals
    text = warnings.formatwarning(w.message, w.category, w.filename, w.lineno)
    assert "LRScheduleWarning: decay-increases:" in text


def test_a_review_prints_short_in_a_notebook(tmp_path):
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb], max_steps=-1, max_epochs=2).fit(TinyModule(), loader(64, 4))
    text = repr(cb.reviews)
    assert "array(" not in text and len(text) < 300
    assert text.startswith("[Review(lr-SGD: CosineAnnealingLR(T_max=32, eta_min=0), shape decay, 32 scheduler steps")
    assert repr(cb.reviews[0].plan) == "PlannedSeries(32 points x 1 groups)"


def test_plot_draws_a_scheduler_a_spec_and_a_fitted_callback(tmp_path):
    from matplotlib.figure import Figure

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    fig = plot(torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=100), steps=100)
    assert isinstance(fig, Figure) and opt.param_groups[0]["lr"] == 0.0005  # the scheduler was not stepped
    (line,) = [x for x in fig.axes[0].get_lines() if x.get_label() == "group 0"]  # (the finding's mark is a line)
    assert line.get_ydata()[0] == pytest.approx(0.0005) and line.get_ydata()[-1] == pytest.approx(0.000995)
    assert "decay-increases" in [t.get_text() for t in fig.axes[0].texts]

    fig = plot({"class_path": "StepLR", "init_args": {"step_size": 5, "gamma": 0.5}}, steps=12, lr=0.1)
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([0.1] * 5 + [0.05] * 5 + [0.025] * 2)

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb], max_steps=24).fit(module, loader(64, 4))
    fig = plot(cb)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"planned lr-SGD", "actual lr-SGD"}
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    np.testing.assert_array_equal(lines["actual lr-SGD"].get_ydata(), f32(applied))
    np.testing.assert_allclose(lines["planned lr-SGD"].get_ydata(), applied, rtol=1e-9)
    assert series(read_scalars(run_dir(tmp_path)), "lr-SGD")[0] == list(range(24))


def test_plot_draws_what_was_logged_with_any_logger(tmp_path):
    """A CSV logger (no event file): the actual series is what the monitor kept of what it logged, every step."""
    from lightning.pytorch.loggers import CSVLogger

    module = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    cb = LRMonitor({"class_path": "CosineAnnealingLR", "init_args": {"T_max": "auto"}})
    trainer(tmp_path, [cb], max_steps=24, logger=CSVLogger(tmp_path)).fit(module, loader(64, 4))
    assert cb.event_file is None
    lines = {line.get_label(): line for line in plot(cb).axes[0].get_lines()}
    applied = [a[0] for a in module.optimizers().optimizer.applied]
    np.testing.assert_array_equal(lines["actual lr-SGD"].get_xdata(), np.arange(24))
    np.testing.assert_array_equal(lines["actual lr-SGD"].get_ydata(), applied)


def test_plot_wraps_long_titles_and_draws_on_a_log_scale():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    milestones = list(range(5, 400, 5))
    fig = plot(torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.9), steps=400, log=True)
    title = fig.axes[0].get_title()
    assert "\n" in title and max(len(line) for line in title.splitlines()) <= 100
    assert fig.axes[0].get_yscale() == "log"


def test_a_long_run_keeps_a_bounded_thinned_series():
    """1M steps x 4 groups: at most 65,536 values kept, evenly thinned, the first step always there."""
    from lightning_lrmon._fit.kept import Kept

    kept, tags = Kept(), ["a", "b", "c", "d"]
    for step in range(1_000_000):
        kept.add(step, tags, [0.1, 0.2, 0.3, 0.4])
    steps, values = kept.series()["a"]
    assert 8192 <= len(steps) <= 16384 and steps[0] == 0 and len(set(np.diff(steps))) == 1
