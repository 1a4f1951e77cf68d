"""The one renderer of findings and reviews: the console summary, TensorBoard's Text tab, ``lrmon``'s text and JSON.

Every form is built from the same pieces (a review's head, its group lines, its notes, a finding's line), so the
callback and the CLI say the same things in the same words.

Examples:
    >>> from lightning_lrmon._review.pipeline import GroupStats, Review
    >>> r = Review("lr-SGD", "CosineAnnealingLR(T_max=100)", "decay", "step", 100,
    ...            [GroupStats("lr-SGD", 0.1, 0.1, 0, 0.0)])
    >>> print(console_summary([r]))
    LR schedule (lightning-lrmon)
      lr-SGD  CosineAnnealingLR(T_max=100)
        shape decay, 100 scheduler steps (interval=step)
        lr-SGD: 0.1 -> peak 0.1 @0 -> 0 (end)
        no findings
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightning_lrmon._findings import Finding
from lightning_lrmon._review.pipeline import Review

__all__ = [
    "TITLE",
    "cli_text",
    "console_summary",
    "finding_markdown",
    "markdown_summary",
    "review_dict",
]

TITLE = "LR schedule (lightning-lrmon)"


def _at(f: Finding) -> str:
    return f" (step {f.step})" if f.step is not None else ""


def finding_markdown(f: Finding) -> str:
    """A finding for TensorBoard's Text tab.

    Examples:
        >>> finding_markdown(Finding("lr-jump", "warning", "jumps", 3, "smooth it"))
        '**lr-jump** (step 3): jumps *Fix:* smooth it'
    """
    return f"**{f.code}**{_at(f)}: {f.message} *Fix:* {f.hint}"


def _scale(r: Review) -> str:
    return f"{r.steps} scheduler step{'' if r.steps == 1 else 's'} (interval={r.interval})"


def console_summary(reviews: Sequence[Review]) -> str:
    """The fit-start block for the console (the findings by code: their warnings are printed in full)."""
    lines = [TITLE]
    for r in reviews:
        lines.append(f"  {r.label}  {r.scheduler}")
        lines.append(f"    shape {r.shape}, {_scale(r)}")
        lines.extend(f"    {g.line()}" for g in r.groups)
        lines.extend(f"    note: {n}" for n in r.notes)
        lines.extend(f"    ! {f.code}{_at(f)}" for f in r.findings)
        if not r.findings:
            lines.append("    no findings")
    return "\n".join(lines)


def markdown_summary(reviews: Sequence[Review]) -> str:
    """The fit-start block for TensorBoard's Text tab (the findings in full).

    Examples:
        >>> markdown_summary([]).splitlines()[0]
        '### LR schedule (lightning-lrmon)'
    """
    lines = [f"### {TITLE}", ""]
    for r in reviews:
        lines.append(f"**{r.label}**: `{r.scheduler}` — shape {r.shape}, {_scale(r)}")
        lines.append("")
        lines.extend(f"- {g.line()}" for g in r.groups)
        lines.extend(f"- note: {n}" for n in r.notes)
        lines.append("")
        lines.extend(f"- {finding_markdown(f)}" for f in r.findings)
        if not r.findings:
            lines.append("- no findings")
        lines.append("")
    return "\n".join(lines)


def cli_text(items: Sequence[tuple[str, Review, Sequence[str]]]) -> str:
    """``lrmon check``'s report: each ``(source, review, notes)`` with its findings in full."""
    lines = []
    for source, r, notes in items:
        lines.append(f"{source}: {r.scheduler}, {_scale(r)}")
        lines.append(f"  shape {r.shape}")
        lines.extend(f"  {g.line()}" for g in r.groups)
        lines.extend(f"  {note}" for note in notes)
        lines.extend(f"  {f.severity.upper()} {f}" for f in r.findings)
        if not r.findings:
            lines.append("  ok: no findings")
    return "\n".join(lines)


def review_dict(r: Review) -> dict[str, Any]:
    """A review as JSON-ready data: scheduler, shape, interval, steps, each group's first/peak/end, the findings.

    Examples:
        >>> from lightning_lrmon._review.pipeline import GroupStats
        >>> d = review_dict(Review("lr-SGD", "StepLR(step_size=5, gamma=0.1)", "decay", "step", 10,
        ...                        [GroupStats("lr-SGD", 0.1, 0.1, 0, 0.01)]))
        >>> d["groups"]
        [{'tag': 'lr-SGD', 'first': 0.1, 'peak': 0.1, 'peak_step': 0, 'end': 0.01}]
    """
    return {k: v for k, v in r.to_dict().items() if k not in ("label", "notes")}
