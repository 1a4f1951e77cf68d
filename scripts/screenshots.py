"""Re-make the README's pictures: real TensorBoard in a real headless browser, and a plot of the simulation.

1. trains the demo twice (the seed's misconfigured schedule and its fix) into a fresh log directory;
2. serves those logs with TensorBoard on 127.0.0.1;
3. screenshots TensorBoard's custom-scalars dashboard (actual vs planned per optimizer) and its text tab with
   Debian's chromium (``apt-get install chromium``), headless;
4. plots the simulated schedules with ``lrmon preview --out``.

Usage: python scripts/screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"TensorBoard did not answer at {url}")


def shoot(browser: str, url: str, path: str, size: str = "1400,900", budget_ms: int = 20000) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--virtual-time-budget={budget_ms}",
                f"--screenshot={path}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "img"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("needs Debian's chromium: apt-get install chromium")
    logs = tempfile.mkdtemp(prefix="lrmon-shots-")
    for extra in ([], ["--fixed"]):
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "examples", "demo.py"), "--out", logs, *extra],
            check=True,
            capture_output=True,
        )
    port = free_port()
    tb = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "tensorboard"),
            "--logdir",
            logs,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--reload_interval",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/data/runs")
        time.sleep(3)  # first reload of the event files
        shoot(
            browser,
            base + "/?darkMode=false#custom_scalars&_smoothingWeight=0",
            os.path.join(args.out, "tensorboard-planned-vs-actual.png"),
            "1000,460",
        )
        shoot(browser, base + "/?darkMode=false#text", os.path.join(args.out, "tensorboard-text.png"), "1400,800")
    finally:
        tb.terminate()
        tb.wait(timeout=30)
    for name, extra in (("seed", ["--lr", "0.001"]), ("fixed", ["--lr", "0.001"])):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "lightning_lrmon",
                "preview",
                os.path.join(ROOT, "examples", "cli", f"{name}.yaml"),
                *extra,
                "--out",
                os.path.join(args.out, f"preview-{name}.png"),
            ],
            capture_output=True,
        )
        print(f"wrote {os.path.join(args.out, f'preview-{name}.png')}")
    shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
