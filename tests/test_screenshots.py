"""``python -m tests.screenshots`` still reaches every page it shoots; the docs show them all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.e2e.conftest import CHROMIUM_PATHS, REPO_ROOT
from tests.screenshots import OUT, PAGES

PNG = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r"screenshots/([\w-]+)\.png")


@pytest.mark.browser
def test_the_script_takes_every_screenshot(tmp_path: Path) -> None:
    if not any(os.access(path, os.X_OK) for path in CHROMIUM_PATHS):
        require_or_skip(f"Chromium is not installed (looked for {', '.join(CHROMIUM_PATHS)})")
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-m", "tests.screenshots", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in PAGES)
    for name in PAGES:
        assert (tmp_path / f"{name}.png").read_bytes().startswith(PNG), name


def test_the_committed_screenshots_are_the_scripts_and_the_docs_show_them() -> None:
    committed = {p.stem for p in OUT.glob("*.png")}
    readme = set(IMAGE.findall((REPO_ROOT / "README.md").read_text()))
    gallery = set(IMAGE.findall((REPO_ROOT / "docs" / "screenshots.md").read_text()))

    assert committed == set(PAGES)
    assert readme
    assert readme <= committed
    assert gallery == committed
