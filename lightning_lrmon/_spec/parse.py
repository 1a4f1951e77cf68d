"""A spec read and normalised: YAML (as LightningCLI reads numbers), dicts, callables, per-optimizer maps."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from lightning_lrmon._exceptions import LRMonitorConfigError

__all__ = ["is_per_optimizer", "load_yaml", "normalize_spec", "split_per_optimizer", "yaml_error"]


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads ``1e-4`` as a number, as LightningCLI's parser (jsonargparse) does: YAML 1.1,
    PyYAML's rules, wants a dot and a signed exponent (``1.0e-4``) and reads ``1e-4`` as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML safely (no Python objects), reading numbers as LightningCLI does.

    Examples:
        >>> load_yaml("lr: 1e-4\\neta_min: 5E-07\\nname: 1e-4x\\nsteps: 10")
        {'lr': 0.0001, 'eta_min': 5e-07, 'name': '1e-4x', 'steps': 10}
    """
    return yaml.load(text, Loader=_Loader)


def yaml_error(err: yaml.YAMLError) -> str:
    """``" at line L, column C: <problem>"`` for a YAML parse error (safe_load never builds Python objects).

    Examples:
        >>> try:
        ...     yaml.safe_load("a: [1")
        ... except yaml.YAMLError as err:
        ...     print(yaml_error(err))
         at line 1, column 6: expected ',' or ']', but got '<stream end>'
    """
    mark = getattr(err, "problem_mark", None)
    pos = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{pos}: {getattr(err, 'problem', err)}"


def _load_yaml(text: str, *, where: str) -> Any:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as err:
        raise LRMonitorConfigError(f"`{where}` is not valid YAML{yaml_error(err)}.") from None
    if data is None:
        raise LRMonitorConfigError(f"`{where}` YAML is empty; expected a mapping with class_path and init_args.")
    return data


def _normalize_mapping(spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    if "class_path" not in spec:
        raise LRMonitorConfigError(
            f"`{where}` dict needs a 'class_path' key, got keys {sorted(map(str, spec))}. "
            "Example: {'class_path': 'LinearLR', 'init_args': {'start_factor': 1.0, 'end_factor': 0.1}}."
        )
    extra = set(spec) - {"class_path", "init_args", "dict_kwargs"}
    if extra:
        raise LRMonitorConfigError(
            f"`{where}` has unknown keys {sorted(extra)}; a spec has only 'class_path' and 'init_args'. "
            "Put scheduler arguments under 'init_args'."
        )
    init_args = spec.get("init_args") or {}
    if not isinstance(init_args, Mapping):
        raise LRMonitorConfigError(f"`{where}.init_args` must be a mapping, got {init_args!r}.")
    init_args = dict(init_args)
    if spec.get("dict_kwargs"):
        init_args.update(dict(spec["dict_kwargs"]))
    if "schedulers" in init_args and isinstance(init_args["schedulers"], (list, tuple)):
        init_args["schedulers"] = [
            normalize_spec(child, where=f"{where}.init_args.schedulers[{i}]")
            for i, child in enumerate(init_args["schedulers"])
        ]
    return {"class_path": spec["class_path"], "init_args": init_args}


def normalize_spec(spec: Any, *, where: str = "scheduler") -> Any:
    """Turn a spec into a callable or a ``{"class_path", "init_args"}`` dict (children normalised too).

    Examples:
        >>> normalize_spec("class_path: StepLR\\ninit_args: {step_size: 10}")
        {'class_path': 'StepLR', 'init_args': {'step_size': 10}}
        >>> normalize_spec("ExponentialLR")
        {'class_path': 'ExponentialLR', 'init_args': {}}
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.endswith((".yaml", ".yml")) and "\n" not in text:
            if not os.path.isfile(text):
                raise LRMonitorConfigError(f"`{where}` YAML file {text!r} does not exist.")
            with open(text, encoding="utf-8") as fh:
                return normalize_spec(_load_yaml(fh.read(), where=where), where=where)
        if ":" in text or "\n" in text or text.startswith("{"):
            return normalize_spec(_load_yaml(text, where=where), where=where)
        return {"class_path": text, "init_args": {}}
    if isinstance(spec, Mapping):
        return _normalize_mapping(spec, where)
    if callable(spec):
        return spec
    raise LRMonitorConfigError(
        f"`{where}` must be a callable optimizer -> scheduler, a dict with class_path/init_args, or YAML; "
        f"got {type(spec).__name__} {spec!r}."
    )


def is_per_optimizer(spec: Any) -> bool:
    """Whether ``spec`` is ``{optimizer_index: spec}`` rather than one spec.

    Examples:
        >>> is_per_optimizer({0: "StepLR"}), is_per_optimizer({"class_path": "StepLR"}), is_per_optimizer("StepLR")
        (True, False, False)
    """
    return isinstance(spec, Mapping) and bool(spec) and "class_path" not in spec


def split_per_optimizer(spec: Any) -> dict[int, Any]:
    """``{optimizer_index: spec}``: a mapping with int (or digit-string) keys, else ``{0: spec}``.

    Examples:
        >>> sorted(split_per_optimizer({0: "StepLR", "1": "ExponentialLR"}))
        [0, 1]
    """
    if is_per_optimizer(spec):
        out: dict[int, Any] = {}
        for key, value in spec.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                out[int(key)] = value
            else:
                raise LRMonitorConfigError(
                    f"`scheduler` mapping keys must be optimizer indices (0, 1, ...), got {key!r}. "
                    "For one optimizer pass the spec itself: {'class_path': ..., 'init_args': ...}."
                )
        return out
    return {0: spec}
