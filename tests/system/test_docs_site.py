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
