"""Computing ahead what the user is likely to open next, in the background.

After the Diagnostic is drawn, the analyst's next step is usually the Zones page for the
same selection; its analysis takes seconds on a large département. :func:`warm` runs one
cached loader (``ui.cache``) in a background worker so that the page finds it in the cache.

One worker, latest request wins: a request superseded before it starts is dropped, so a
user changing filters quickly does not queue computations nobody will look at. A request
already computed (same loader, same arguments: every other session on the same selection)
is not sent again. Failures
are logged and forgotten: the page computes (and reports) them itself when opened.

**While the user reads, not while they click.** The worker shares the server's interpreter
(and its lock) with the script runs: a zone analysis of the Nord computed during the next
filter change made that change twice as slow (``bench/bench_interactions.py``). So a request
waits until no script run of any session has started for :data:`IDLE_S` seconds (4 s: a
reader who pauses, not one going through the filters; every run
calls :func:`activity`), at most :data:`MAX_WAIT_S`, and is dropped if a newer one came
meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ui.layer_map import zones_layer_map

if TYPE_CHECKING:
    from analysis.zone_detectors import ZoneSettings
    from core.privacy import Audience
    from ui.sidebar import Context
    from usecases.selection import Selection

log = logging.getLogger(__name__)


class _QuietWorker(logging.Filter):
    """Drop Streamlit's « missing ScriptRunContext » warning for the worker: it draws nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").startswith("prefetch")


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QuietWorker())
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
_lock = threading.Lock()
_latest: tuple | None = None
#: Requests already computed, most recent last (bounded).
_done: OrderedDict[tuple, None] = OrderedDict()
DONE_KEPT = 256
#: Seconds without a new script run before a request starts.
IDLE_S = 4.0
#: Longest wait for idleness before a request starts anyway (a busy server mostly skips
#: computing ahead: at 20 s it started in the middle of other pages' first renders).
MAX_WAIT_S = 60.0
#: When the last script run started (any session; time.monotonic).
_last_activity = 0.0


def activity() -> None:
    """Note that a script run starts (called at the top of every run)."""
    global _last_activity
    _last_activity = time.monotonic()


def _superseded(key: tuple) -> bool:
    with _lock:
        return _latest != key


def _wait_for_idle(key: tuple) -> bool:
    """Sleep until the server is idle (see :data:`IDLE_S`); False when superseded meanwhile."""
    started = time.monotonic()
    while True:
        if _superseded(key):
            return False
        now = time.monotonic()
        quiet = now - _last_activity
        if quiet >= IDLE_S or now - started >= MAX_WAIT_S:
            return True
        time.sleep(min(IDLE_S - quiet, 0.2))


def warm(loader: Callable[..., object], *args: object) -> None:
    """Call ``loader(*args)`` in the background (a cached loader: the result stays in its cache).

    Parameters
    ----------
    loader : callable
        A ``st.cache_*`` function of :mod:`ui.cache`.
    *args
        Its arguments, exactly as the page that will need it passes them.
    """
    global _latest
    key = (getattr(loader, "__qualname__", repr(loader)), args)
    try:
        hash(key)
        remembered = True
    except TypeError:  # unhashable arguments: always sent (the loader's cache answers)
        remembered = False
    with _lock:
        if remembered and key in _done:
            _done.move_to_end(key)
            return
        _latest = key

    def run() -> None:
        if not _wait_for_idle(key):
            return  # superseded by a newer selection
        try:
            loader(*args)
        except Exception:  # noqa: BLE001 - the page reports it when opened
            log.info("Précalcul abandonné pour %s", key[0], exc_info=True)
            return
        if remembered:
            with _lock:
                _done[key] = None
                while len(_done) > DONE_KEPT:
                    _done.popitem(last=False)

    _worker.submit(run)


def warm_zones(ctx: Context) -> None:
    """Start the Zones page's analysis, view and map of the sidebar selection, default settings."""
    from analysis.zones import DEFAULT_SEVERITY
    from usecases.zones import default_zone_settings

    if ctx.dataset is None or ctx.flt.start is None:
        return
    severity = tuple((k, float(v)) for k, v in DEFAULT_SEVERITY.items())
    warm(
        _zones_page,
        ctx.selection,
        default_zone_settings(),
        severity,
        ctx.audience,
        ctx.base_map,
    )


def _zones_page(
    sel: Selection,
    settings: ZoneSettings,
    severity: tuple[tuple[str, float], ...],
    audience: Audience,
    base: str,
) -> None:
    """The Zones page's analysis, view and rendered map, as the page asks for them."""
    from ui import cache

    view = cache.zones(sel, settings, severity, None, audience)
    zones_layer_map(view, cache.display_geometry(sel.departement), base=base)


def warm_clustering() -> None:
    """Start the back-test's clustering processes while the analyst reads the Zones page."""
    from usecases.backtest import start_clustering_pool

    warm(start_clustering_pool)
