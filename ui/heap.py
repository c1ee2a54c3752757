"""The server's long-lived objects kept out of the garbage collector's full passes.

A Streamlit server holds a large heap that lives as long as the process: Streamlit, pandas,
geopandas, Altair (thousands of schema classes), folium, the pages' modules. Python's cyclic
garbage collector walks all of it on every full (generation 2) collection: about 0.1 s each
on this heap, several times per batch of sessions, on the thread of whichever session
happened to allocate. :func:`freeze_once` collects once after the first complete script run
(everything is imported by then) and moves the survivors to the permanent generation
(``gc.freeze``): later full passes only walk what was created since. What is frozen is
never freed, so it is done once per process, after a collection, never per run.
"""

from __future__ import annotations

import gc
import threading

_LOCK = threading.Lock()
_DONE = False


def freeze_once() -> bool:
    """Collect, then freeze every surviving object, the first time it is called.

    Returns
    -------
    bool
        Whether this call froze the heap (False on every later call).
    """
    global _DONE
    with _LOCK:
        if _DONE:
            return False
        _DONE = True
    gc.collect()
    gc.freeze()
    return True
