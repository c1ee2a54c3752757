"""Load: concurrent browser sessions on the Mayenne, local mode and server mode, same run.

For N = 10, 20, 40 concurrent sessions (one Chromium, one context each: separate cookies and
WebSockets), every session opens its first page and then the Suivi page, and waits for the
map to be drawn:

* **local mode** (no sign-in): Diagnostic, then Suivi;
* **server mode**: each session signs in first through the real OpenID redirect flow
  (npm ``oidc-provider`` of the tests) with a mixed role: analyste, référent sûreté, préfet,
  maire (the mayor opens « Ma commune », then stops: Suivi is not his); then as above.

Each mode starts with one session per role on the fresh server: its CPU is the first computation of
the shared views (loading the data set, the diagnostic, the follow-up, the zones prefetched in
the background), printed on its own line, then every later session finds them in the cache.
Printed per N and mode: errors, server CPU-seconds per session (utime + stime of the whole
server process tree, from ``/proc/<pid>/stat``; the running total since the server's start is
printed beside it, so the cold start is never hidden), server peak
memory (sum of the tree's RSS, sampled every 0.2 s), and p50/p95 from the start of a session
to its drawn maps. The browsers share the same 2 cores as the server: wall-clock times
mostly measure Chromium. Goal (issue 13): 40 sessions, no error, server CPU ≤ 0.35 s per
session, server memory < 1.5 GB. These are measures, never test asserts.

Run: ``.venv/bin/python bench/bench_sessions.py [10 20 40]`` (``BENCH_STAGGER_S=2`` starts the
sessions two seconds apart instead of all at once).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.access import AccessStore  # noqa: E402
from scripts.serve_demo import seed_demo_people  # noqa: E402
from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402
from tests.e2e.oidc import server_mode_app  # noqa: E402

MAP = 'iframe[title="streamlit_folium.st_folium"]'
TICK = os.sysconf("SC_CLK_TCK")
ROLES = ["analyste", "referent", "prefet", "maire"]


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(c) for c in children]
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        except (OSError, IndexError):
            continue
    return total


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Peak:
    """Samples the memory of a process and its children every 0.2 s in a thread (the server's
    here, each Dask worker's in ``bench_national.py``)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.2)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def server_pid(port: int) -> int:
    """The pid of the streamlit process listening on ``port``."""
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(cmd) and str(port).encode() in cmd:
            return int(p.name)
    raise RuntimeError(f"serveur introuvable sur le port {port}")


async def session(browser, base: str, account: str | None, delay: float = 0.0) -> float:
    """One session: (sign in,) first page, Suivi; seconds to the last drawn map.

    ``delay`` staggers the sessions' starts: Streamlit's signed sign-in link lives two
    minutes, longer than 40 browsers on the server's own 2 cores may take to follow it.
    """
    await asyncio.sleep(delay)
    t0 = time.perf_counter()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(600_000)
    context.set_default_navigation_timeout(600_000)
    page = await context.new_page()
    try:
        if account is not None:
            await page.goto(base)
            await page.get_by_role("button", name="Se connecter").first.click()
            await page.wait_for_url("**/interaction/**", timeout=600_000)
            await page.locator("input[name=login]").fill(account)
            await page.locator("input[name=password]").fill("x")
            await page.locator("button[type=submit]").click()
            await page.wait_for_url("**/interaction/**", timeout=600_000)
            await page.locator("button[type=submit]").click()
            await page.wait_for_url(f"{base}/**", timeout=600_000)
        else:
            await page.goto(base)
        await (
            page.frame_locator(MAP)
            .first.locator(".leaflet-overlay-pane path")
            .first.wait_for(timeout=600_000)
        )
        if account != "maire":
            await page.goto(base + "/suivi")
            await (
                page.frame_locator(MAP)
                .first.locator(".leaflet-overlay-pane path")
                .first.wait_for(timeout=600_000)
            )
        return time.perf_counter() - t0
    finally:
        await context.close()


async def run_sessions(base: str, n: int, signed: bool) -> tuple[list[float], int]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        accounts = [ROLES[i % len(ROLES)] if signed else None for i in range(n)]
        stagger = float(os.environ.get("BENCH_STAGGER_S", "0"))
        results = await asyncio.gather(
            *(session(browser, base, a, i * stagger) for i, a in enumerate(accounts)), return_exceptions=True
        )
        await browser.close()
    times = [r for r in results if isinstance(r, float)]
    failures = [r for r in results if not isinstance(r, float)]
    if failures:
        print(f"  première erreur : {type(failures[0]).__name__}: {str(failures[0])[:300]}", flush=True)
    return times, n - len(times)


def cold_start(base: str, port: int, signed: bool) -> str:
    """One session per role on a fresh server: the first computation of every shared view
    (data set, diagnostic, follow-up, zones prefetched in the background, the mayor's sheet)."""
    pid = server_pid(port)
    before = cpu_seconds(pid)
    times, errors = asyncio.run(run_sessions(base, len(ROLES) if signed else 1, signed))
    time.sleep(5)  # the background prefetch of the zones
    return (
        f"{'serveur' if signed else 'local':<8} premier affichage (caches vides) : erreurs={errors} "
        f"CPU serveur={cpu_seconds(pid) - before:5.1f} s  (depuis le démarrage : {cpu_seconds(pid):6.1f} s)"
    )


def measure(base: str, port: int, n: int, signed: bool) -> str:
    pid = server_pid(port)
    before = cpu_seconds(pid)
    with Peak(pid) as peak:
        times, errors = asyncio.run(run_sessions(base, n, signed))
    cpu = cpu_seconds(pid) - before
    q = statistics.quantiles(times, n=20) if len(times) >= 2 else [float("nan")] * 19
    return (
        f"{'serveur' if signed else 'local':<8} N={n:<3} erreurs={errors:<3} CPU serveur/session={cpu / n:5.2f} s "
        f"(depuis le démarrage : {cpu_seconds(pid):6.1f} s)  mémoire max={peak.peak:7.0f} Mo  "
        f"p50={statistics.median(times) if times else float('nan'):5.1f} s  p95={q[18]:5.1f} s"
    )


def measure_mode(base: str, sizes: list[int], *, signed: bool) -> None:
    """The cold start, then each N, on one server; each line printed as it comes."""
    port = int(base.rsplit(":", 1)[1])
    print(cold_start(base, port, signed=signed), flush=True)
    for n in sizes:
        print(measure(base, port, n, signed=signed), flush=True)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 20, 40]
    with streamlit_server() as base:
        measure_mode(base, sizes, signed=False)
    ws = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    seed_demo_people(AccessStore(ws / "acces.sqlite"), "bench")
    with server_mode_app(ws) as (base, _):
        measure_mode(base, sizes, signed=True)
    print("objectif : 40 sessions sans erreur, CPU serveur ≤ 0,35 s par session, mémoire < 1,5 Go")


if __name__ == "__main__":
    main()
