"""A scheduler class LRMonitor did not know, supported by one record: built from a config, bound to the run in a fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import SGD, TinyModule, loader, trainer

import lightning_lrmon
from lightning_lrmon import LRMonitor, LRScheduleWarning

# -- a toy scheduler class, supported by one record ------------------------------------------------------------------


def test_a_config_builds_the_recorded_class_with_its_horizon_bound_to_the_run(tmp_path, halving_record):
    spec = {"class_path": "toy_record.HalvingLR", "init_args": {"every": "25%", "factor": 0.5}}
    cb = LRMonitor(spec)
    model = TinyModule(lambda m: SGD(m.parameters(), lr=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LRScheduleWarning)
        trainer(tmp_path, [cb], max_steps=40, max_epochs=-1).fit(model, loader(64, 1))
    (review,) = cb.reviews
    assert review.scheduler == "HalvingLR(every=10, factor=0.5)" and review.shape == "decay"
    applied = [a[0] for a in model.optimizers().optimizer.applied]
    np.testing.assert_allclose(applied, [0.1 * 0.5 ** (s // 10) for s in range(40)], rtol=1e-12)
    with pytest.raises(lightning_lrmon.LRMonitorConfigError, match="`every` must be an int"):
        from helpers import build_spec

        build_spec({"class_path": "toy_record.HalvingLR", "init_args": {"every": 2.5}})
