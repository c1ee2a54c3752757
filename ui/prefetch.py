"""Computing ahead what the user is likely to open next, in the background.

After the Diagnostic is drawn, the analyst's next step is usually the Zones page for the
same selection; its analysis takes seconds on a large département. :func:`warm` runs one
cached loader (``ui.cache``) in a background worker so that the page finds it in the cache.

One worker, latest request wins: a request superseded before it starts is dropped, so a
user changing filters quickly does not queue computations nobody will look at. A request
already computed (same loader, same arguments: every other session on the same selection)
is not sent again. Failures
are logged and forgotten: the page computes (and reports) them itself when opened.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.sidebar import Context

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
        with _lock:
            if _latest != key:
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
    """Start the Zones page's analysis and view of the sidebar selection, default settings."""
    from analysis.zones import DEFAULT_SEVERITY
    from ui import cache
    from usecases.zones import default_zone_settings

    if ctx.dataset is None or ctx.flt.start is None:
        return
    severity = tuple((k, float(v)) for k, v in DEFAULT_SEVERITY.items())
    warm(
        cache.zones,
        ctx.selection,
        default_zone_settings(),
        severity,
        None,
        ctx.audience,
    )
