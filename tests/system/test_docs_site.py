"""The documentation site, built as `make docs` builds it, read back as HTML."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

#: a reST role as it shows in HTML when markdown renders it: the role's name, then a code span
ROLE = re.compile(r":(?:class|func|data|meth|mod|attr|exc|obj):(?=`|<code>)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = os.path.join(os.path.dirname(sys.executable), "mkdocs")
    built = subprocess.run(
        [mkdocs, "build", "--strict", "--quiet", "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return out


def test_no_page_shows_a_raw_rest_role(site):
    """Docstrings render as markdown: a reST role (:class:`X`) would show as text on the API page."""
    raw = {
        str(page.relative_to(site)): sorted(set(ROLE.findall(text)))
        for page in site.rglob("*.html")
        if (text := page.read_text(encoding="utf-8"))
    }
    assert {page: roles for page, roles in raw.items() if roles} == {}


def test_the_who_steps_page_is_on_the_site(site):
    page = (site / "who-steps" / "index.html").read_text(encoding="utf-8")
    assert "Who steps the scheduler" in page and "interval" in page and "scheduler-not-stepped" in page


def test_the_checks_page_has_every_code(site):
    """Each code of ``CODES`` has its own section (the README's catalogue links to it)."""
    from lightning_lrmon import CODES

    page = (site / "checks" / "index.html").read_text(encoding="utf-8")
    assert [c for c in CODES if f'id="{c}"' not in page] == []


#: names a reader of the API page cannot look up: private constants, the internal spelling of a public function
INTERNAL = ("DEFAULT_FALLBACK_BUDGET_S", ">register<", "_RECORDS", "lightning_lrmon._")


def test_the_api_page_shows_public_names_and_documents_the_types_it_names(site):
    page = (site / "api" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r'(id|href|title)="[^"]*"', "", page)  # anchors and hovers carry module paths; not the text
    assert [name for name in INTERNAL if name in text] == []
    for name in ("PlannedSeries", "Kernel", "Phases", "Composer", "LoopMonitor"):
        assert re.search(rf'id="lightning_lrmon\.[\w.]*\b{name}"', page), name


def test_the_site_loads_nothing_from_another_host(site):
    """Every script and stylesheet is served by the site itself (it renders offline), code highlighted at build."""
    remote = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I)
    assert [str(p.relative_to(site)) for p in site.rglob("*.html") if remote.search(p.read_text("utf-8"))] == []
    page = (site / "loops" / "index.html").read_text(encoding="utf-8")
    assert '<div class="highlight"><pre><span></span><code><span class="' in page


def test_the_checks_page_shows_what_its_examples_really_print():
    """``docs/checks.md`` is generated from ``CODES`` with a real message per example: regenerated, it is the same."""
    script = os.path.join(ROOT, "scripts", "checks_page.py")
    proc = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-500:] + proc.stderr[-2000:]
