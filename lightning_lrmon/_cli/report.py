"""What ``lrmon`` prints: text, JSON, the summary table of many files, a terminal plot, a PNG."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports torch, numpy and yaml only when it runs a command (``--help`` stays fast)
    pass
from lightning_lrmon._cli.config import CheckedFile, ConfigSchedule, InputError

__all__ = ["JSON_VERSION", "summary_table"]


JSON_VERSION = 1


def _text(entries: Sequence[ConfigSchedule], notes: Sequence[str] = ()) -> str:
    from lightning_lrmon._review.render import cli_text

    report = cli_text([(p.source, p.review, p.notes) for p in entries if p.review is not None])
    return "\n".join([report, *(f"note: {n}" for n in notes)])


def _schedules_json(entries: Sequence[ConfigSchedule]) -> list[dict[str, Any]]:
    from lightning_lrmon._review.render import review_dict

    out = []
    for p in entries:
        assert p.review is not None
        out.append(
            {"source": p.source, **review_dict(p.review), "interval": p.interval, "steps": p.steps, "notes": p.notes}
        )
    return out


def _json(entries: Sequence[ConfigSchedule], notes: Sequence[str] = ()) -> str:
    return json.dumps(
        {
            "version": JSON_VERSION,
            "ok": not any(p.findings for p in entries),
            "schedules": _schedules_json(entries),
            "notes": list(notes),
        }
    )


def _file_json(f: CheckedFile) -> dict[str, Any]:
    return {
        "path": f.path,
        "code": f.code,
        "ok": f.code == 0,
        "error": None if f.no_schedule else f.error,
        "no_schedule": f.no_schedule,
        "schedules": _schedules_json(f.entries),
        "notes": f.notes,
    }


def _status(f: CheckedFile) -> str:
    if f.no_schedule:
        return "no schedule"
    if f.error is not None:
        return f"unusable: {f.error}"
    n = sum(len(e.findings) for e in f.entries)
    return f"{n} finding{'' if n == 1 else 's'}" if n else "ok"


def summary_table(files: Sequence[CheckedFile]) -> str:
    """One line per file (its result) and a last line counting them: what a CI lint step shows."""
    width = max(len(f.path) for f in files)
    lines = [f"{'config'.ljust(width)}  schedules  result"]
    lines += [f"{f.path.ljust(width)}  {len(f.entries):>9}  {_status(f)}" for f in files]
    counts = [sum(f.code == c and not f.no_schedule for f in files) for c in (0, 1, 2)]
    lines.append(
        f"{len(files)} configs: {counts[0]} ok, {counts[1]} with findings, {counts[2]} unusable, "
        f"{sum(f.no_schedule for f in files)} without a schedule"
    )
    return "\n".join(lines)


def report_many(files: Sequence[CheckedFile], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {"version": JSON_VERSION, "ok": all(f.code == 0 for f in files), "files": [_file_json(f) for f in files]}
        )
    blocks = [f"== {f.path}\n{_text(f.entries, f.notes)}" for f in files if f.entries]
    return "\n\n".join([*blocks, summary_table(files)])


def terminal_plot(entries: Sequence[ConfigSchedule]) -> str:
    import numpy as np

    try:
        import plotext as plt
    except ImportError:
        raise InputError(
            "the terminal preview needs plotext: pip install 'lightning-lrmon[plot]' (or pass --out schedule.png)"
        ) from None
    out = []
    for p in entries:
        lrs = p.review.lrs if p.review is not None else None
        assert lrs is not None
        plt.clf()
        plt.plotsize(100, 20)
        plt.theme("clear")
        x = np.arange(lrs.shape[0])
        for g in range(lrs.shape[1]):
            plt.plot(x.tolist(), np.nan_to_num(lrs[:, g]).tolist(), label=_series_name(p, g), marker="braille")
        for f in p.findings:
            if f.step is not None:
                plt.vline(f.step)
        plt.xlabel(f"{'epoch' if p.interval == 'epoch' else 'step'}")
        out.append(f"{p.source}: {p.review.scheduler if p.review else ''}")
        out.append(plt.uncolorize(plt.build()))
        for f in p.findings:
            out.append(f"  | {f.code} at step {f.step}")
        out += [f"  note: {n}" for n in p.notes]  # e.g. simulated on lr=1.0: the curve is in multiples of the LR
    return "\n".join(out)


def _series_name(p: ConfigSchedule, g: int) -> str:
    """Group ``g``'s series by the tag every other output uses (``lr-SGD``, ``lr-SGD/pg2``)."""
    groups = p.review.groups if p.review is not None else []
    return groups[g].tag if g < len(groups) else f"group {g}"


def png(entries: Sequence[ConfigSchedule], path: str) -> None:
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--out needs matplotlib: pip install 'lightning-lrmon[plot]'") from None
    fig, axes = plt.subplots(len(entries), 1, figsize=(9, 3.2 * len(entries)), squeeze=False)
    for ax, p in zip(axes[:, 0], entries):
        lrs = p.review.lrs if p.review is not None else None
        assert lrs is not None
        for g in range(lrs.shape[1]):
            ax.plot(lrs[:, g], label=_series_name(p, g))
        for f in p.findings:
            if f.step is not None:
                ax.axvline(f.step, color="crimson", linestyle="--", linewidth=1)
                ax.annotate(
                    f.code,
                    (f.step, float(np.nanmax(lrs))),
                    color="crimson",
                    fontsize=8,
                    textcoords="offset points",
                    xytext=(4, -10),
                )
        ax.set_title(textwrap.fill(f"{p.source}: {p.review.scheduler if p.review else ''}", 110), fontsize=8)
        ax.set_xlabel("epoch" if p.interval == "epoch" else "optimizer step")
        ax.set_ylabel("learning rate")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
