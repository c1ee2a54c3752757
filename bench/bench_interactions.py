"""Interaction speed in Chromium against a warm server, on the Mayenne and on the Nord.

For each département, on its synthetic default data set (Mayenne: ~36,000 incidents over
four years, 240 communes; Nord: ~566,000, 647 communes), the app is served by
``streamlit run`` and driven by headless Chromium, offline:

* **first render** of each of the seven pages of the local post in a fresh tab: from
  navigation start to the settled page. Measured twice: on a cold server (first visit, caches
  empty) and on a warm one (second visit; this is the figure held to the goal);
* **« Ma commune »**, the mayor's page, in the server mode (real OpenID sign-in through the
  tests' npm oidc-provider, the mayor of the département's largest town): a fresh tab of the
  signed-in browser, after the sign-in drew it once and again (the second held to the goal);
* **actions** from a settled Diagnostic page: change the period, an offence filter, the
  Commune/EPCI/Canton switch, the organisation overlay, the public-view switch, and opening
  the Zones page from the Diagnostic: at once, then (back on the Diagnostic) after reading it
  for ``READING_S`` seconds, the time the Diagnostic's computing ahead (``ui.prefetch``: the
  zone analysis and its map, once the server has been idle 4 s) is given. From the click (or
  key press) to the settled page; the reading pause is not counted. For a value typed in a
  field (the period's month, the offence searched in the picker), from the moment the value
  is handed to the app (leaving the field, Enter): the typing is the user's time, and the
  bench stops if the typing itself sent the server anything (:class:`Typed`).

*Settled* means: the page shows what it must (a map, or the page's main widget), the
script run is over (no running indicator, no stale element), the maps and charts are
drawn, and neither the page nor any map frame has changed for ``QUIET_MS``; the time
reported is that of the last change. A screen reader's announcement is not a change: the
period field's (react-aria's live region, outside the page's content) is cleared by a timer up
to a second after the run, which the first versions of this bench counted as drawing. The
browser speaks French (``fr-FR``), as the users' do. The communes' maps (``ui.layer_map``) draw on a
canvas, which changes no element: their component marks each drawing on its element
(``data-drawn``, in the animation frame after the canvas is painted), which counts as a change. Each measure is split into *boot* (until the first
message from the server: for a new tab, loading Streamlit's frontend and opening the
WebSocket), *script* (from there to the server's last message: the script run and the
transfer) and *drawing* (from the last message to the settled page: React, Leaflet and
Vega in the browser), with the kilobytes received.

Goals (issue 12): first render < 4 s, action < 1.5 s on the Nord, on a 2-core machine.
These are goals measured here, never test asserts.

Run: ``.venv/bin/python bench/bench_interactions.py [53] [59]`` (both by default). The
Nord data set is generated once under ``cache/bench-59`` (about a minute).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS, offline_page, offline_route, streamlit_server  # noqa: E402

GOAL_RENDER_S = 4.0
GOAL_ACTION_S = 1.5
QUIET_MS = 800
#: How long the analyst reads the Diagnostic before opening the Zones page, in the second
#: measure of that step (the first opens it as soon as the Diagnostic is settled).
READING_S = 6.0
TIMEOUT_S = 180
MAP = 'iframe[title="streamlit_folium.st_folium"]'
#: The app's own map (ui.layer_map), drawn in the page: communes' choropleths.
LAYER_MAP = ".carto-map[data-layers]"
#: The Zones page's map (the same component, with its zones drawn).
ZONES_MAP = ".carto-map[data-layers*='Zones prioritaires:']"
#: Page title: (URL path, what must be on the settled page).
PAGES = {
    "Diagnostic": ("", LAYER_MAP),
    "Zones prioritaires": ("zones", ZONES_MAP),
    "Vidéoprotection": ("videoprotection", "[data-testid='stBaseButton-primary']"),
    "Suivi bimestriel": ("suivi", LAYER_MAP),
    "Organisation territoriale": ("organisation", LAYER_MAP),
    "Données": ("donnees", "[data-testid='stFileUploader']"),
    # Without national results (make national) the France page says whom to ask: its title.
    "France": ("france", "[data-testid='stMain'] h1"),
}
NAMES = {"53": "Mayenne", "59": "Nord"}

# Installed in the page: watches the page and every map frame for changes, and the
# WebSocket for deltas, so that a measure can say when the page last changed and when
# the server last sent something.
PROBE = """() => {
  if (window.__probe) return;
  const p = window.__probe = {last: performance.now(), deltas: window.__deltas || [], docs: new WeakSet()};
  const watch = (doc) => {
    if (!doc || p.docs.has(doc)) return;
    p.docs.add(doc);
    p.last = performance.now();
    // A screen reader's announcement (react-aria's live region, e.g. the period field's
    // « Plage sélectionnée … », cleared by a timer up to a second later) is not drawing.
    const shown = (r) => {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      return !(el && el.closest && el.closest('[data-live-announcer]'));
    };
    new MutationObserver((records) => { if (records.some(shown)) p.last = performance.now(); })
      .observe(doc, {subtree: true, childList: true, attributes: true, characterData: true});
  };
  p.watchAll = () => {
    watch(document);
    for (const f of document.querySelectorAll('iframe')) {
      try { watch(f.contentDocument); } catch (e) {}
    }
  };
  p.watchAll();
}"""
STATE = """(need) => {
  const p = window.__probe; p.watchAll();
  const running = !!document.querySelector(
    '[data-testid="stStatusWidgetRunningIcon"],[data-testid="stStatusWidgetRunningManIcon"]');
  const stale = document.querySelectorAll('[data-stale="true"]').length;
  let empty = document.querySelector(need) ? 0 : 1;
  for (const f of document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')) {
    let d = null; try { d = f.contentDocument; } catch (e) {}
    if (!d || !d.querySelector('.leaflet-overlay-pane > *, .leaflet-marker-pane > *')) empty += 1;
  }
  for (const m of document.querySelectorAll('.carto-map')) if (!m.dataset.drawn) empty += 1;
  for (const c of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (!c.querySelector('canvas, svg')) empty += 1;
  }
  return {now: performance.now(), last: p.last, running, stale, empty};
}"""
# Records when each message from the server arrives, and its size.
WS_HOOK = """() => {
  window.__deltas = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (ev) => {
      const d = ev.data;
      window.__deltas.push([performance.now(), d.byteLength || d.size || (d.length || 0)]);
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
}"""


DELTAS = """(t0) => {
  const after = window.__deltas.filter(d => d[0] >= t0);
  if (!after.length) return [null, null, 0];
  return [after[0][0], after[after.length - 1][0], after.reduce((a, d) => a + d[1], 0)];
}"""


@dataclass
class Measure:
    """One measured interaction, in seconds from its start (navigation or user action).

    ``boot``: until the first message from the server (for a new tab: loading the
    frontend and opening the WebSocket); ``script``: from there to the server's last
    message (the script run and its transfer); ``drawing``: from the last message to the
    settled page (the browser drawing maps and charts).
    """

    label: str
    total: float
    boot: float
    script: float
    kilobytes: float

    @property
    def drawing(self) -> float:
        return max(0.0, self.total - self.boot - self.script)


def settle(page, t0: float, label: str, need: str = MAP) -> Measure:
    """Wait for the page to settle after ``t0`` (page clock, ms), with ``need`` on it."""
    deadline = time.time() + TIMEOUT_S
    busy_seen_at = time.time()
    while time.time() < deadline:
        s = page.evaluate(STATE, need)
        busy = s["running"] or s["stale"] or s["empty"]
        if busy:
            busy_seen_at = time.time()
        quiet = s["now"] - s["last"] >= QUIET_MS and (time.time() - busy_seen_at) * 1000 >= QUIET_MS
        if not busy and quiet:
            first, last, size = page.evaluate(DELTAS, t0)
            first, last = (t0, t0) if first is None else (first, last)
            end = max(s["last"], last)
            return Measure(label, (end - t0) / 1000, (first - t0) / 1000, (last - first) / 1000, size / 1024)
        page.wait_for_timeout(100)
    raise TimeoutError(f"page non stabilisée après {TIMEOUT_S} s : {label}")


def fresh_tab(browser, url: str, label: str, need: str = MAP, *, context=None) -> tuple[object, Measure]:
    """Open ``url`` in a new tab (of ``context``, a signed-in browser context, when given);
    the first-render measure (from navigation start)."""
    blocked: list[str] = []
    dialogs: list[str] = []
    if context is None:
        page = offline_page(
            browser, blocked, dialogs, viewport={"width": 1500, "height": 1400}, locale="fr-FR"
        )
    else:
        page = context.new_page()
    page.add_init_script(f"({WS_HOOK})()")
    page.add_init_script(f"window.addEventListener('DOMContentLoaded', {PROBE})")
    page.goto(url)
    page.evaluate(PROBE)
    return page, settle(page, 0.0, label, need)


@dataclass
class Typed:
    """An action in two parts: ``prepare`` types into a field (the user's own time: not
    measured, and the bench stops if it sent the server anything), ``commit`` hands the value
    to the app (leaving the field, Enter): the measure starts there."""

    prepare: Callable[[object], None]
    commit: Callable[[object], None]


def act(page, label: str, action, need: str = LAYER_MAP, pause_s: float = 0.0) -> Measure:
    """Run ``action`` on a settled page, after ``pause_s`` seconds of reading it; the measure
    from the action (a :class:`Typed` one: from its commit) to the settled page."""
    page.wait_for_timeout(pause_s * 1000)
    if isinstance(action, Typed):
        sent = page.evaluate("() => window.__deltas.length")
        action.prepare(page)
        if page.evaluate("() => window.__deltas.length") != sent:
            raise RuntimeError(f"« {label} » : la saisie a déjà envoyé un message au serveur.")
    t0 = page.evaluate("() => { window.__probe.last = performance.now(); return performance.now(); }")
    (action.commit if isinstance(action, Typed) else action)(page)
    return settle(page, t0, label, need)


def segmented(page, name: str) -> None:
    page.get_by_role("radio", name=name, exact=True).first.click()


def leave_field(page) -> None:
    """Close the field's pop-up and click the page's title: the field hands its value over."""
    page.keyboard.press("Escape")
    page.locator("h1").first.click()


def period_starting(month_typed: str) -> Typed:
    """Start the period in another month: type the start month in the date field, leave it."""

    def prepare(page) -> None:
        page.locator("[data-testid='stDateInput'] [role='spinbutton']").nth(1).click()
        page.keyboard.type(month_typed)

    return Typed(prepare, leave_field)


def _type_offence(page) -> None:
    page.locator("[data-testid='stMultiSelect']").first.locator("input").fill("Cambriolages de logement")


def _pick_offence(page) -> None:
    page.keyboard.press("Enter")
    leave_field(page)


#: Pick one offence in the sidebar's picker (it opens on « Toutes les infractions »): type its
#: name in the picker's search, then Enter.
ONE_OFFENCE = Typed(_type_offence, _pick_offence)


ACTIONS = [
    ("Échelon EPCI", lambda p: segmented(p, "EPCI")),
    ("Échelon Canton", lambda p: segmented(p, "Canton")),
    ("Échelon Commune", lambda p: segmented(p, "Commune")),
    ("Période (début 6 mois plus tard)", period_starting("07")),
    ("Filtre infraction (une seule)", ONE_OFFENCE),
    ("Superposer l'organisation", lambda p: p.get_by_text("Superposer l'organisation territoriale").click()),
    ("Vue diffusable → interne", lambda p: p.get_by_text("Vue diffusable (secret statistique)").click()),
    (
        "Ouvrir Zones aussitôt",
        lambda p: p.get_by_role("link", name="Zones prioritaires").click(),
        ZONES_MAP,
    ),
    ("Revenir au Diagnostic", lambda p: p.get_by_role("link", name="Diagnostic").first.click()),
    # A new selection: what the Zones page opened above computed is of no use for it.
    ("Période (début en avril)", period_starting("04")),
    (
        f"Ouvrir Zones après {READING_S:.0f} s de lecture",
        lambda p: p.get_by_role("link", name="Zones prioritaires").click(),
        ZONES_MAP,
        READING_S,
    ),
]


def environment(dep: str) -> dict[str, str]:
    """Server environment for a département (the Nord: its own cache, built once)."""
    if dep == "53":
        return {}
    cache = ROOT / "cache" / f"bench-{dep}"
    (cache / "datasets").mkdir(parents=True, exist_ok=True)
    for name in ("communes.parquet", "communes.json", "cantons.parquet", "cantons.json"):
        link = cache / name
        if not link.exists():
            link.symlink_to(ROOT / "cache" / name)
    env = {
        "DELINQ_CACHE_DIR": str(cache),
        "DELINQ_DEFAULT_DEPARTEMENT": dep,
        "DELINQ_WORKSPACE_DIR": str(cache / "workspace"),
    }
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from data.default_dataset import ensure_default_dataset as e; print(e().n_rows)",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    print(f"  jeu synthétique prêt ({time.perf_counter() - t:.0f} s)")
    return env


def line(m: Measure, goal: float) -> str:
    return (
        f"  {m.label:<36} {m.total:6.2f} s   objectif {goal:.1f} s   ratio {m.total / goal:5.2f}   "
        f"[amorce {m.boot:4.2f} + script {m.script:5.2f} + dessin {m.drawing:5.2f} s ; {m.kilobytes:5.0f} Ko reçus]"
    )


def run(dep: str, browser_factory) -> list[tuple[Measure, float]]:
    print(f"\n== {NAMES.get(dep, dep)} ({dep}) ==")
    env = environment(dep)
    out: list[tuple[Measure, float]] = []
    with streamlit_server(env, timeout=120) as url:
        browser = browser_factory()
        print("Premier rendu, serveur froid (caches vides) :")
        for title, (path, need) in PAGES.items():
            page, m = fresh_tab(browser, f"{url}/{path}", title, need)
            page.close()
            print(line(m, GOAL_RENDER_S))
        print("Premier rendu, serveur chaud (nouvel onglet) :")
        for title, (path, need) in PAGES.items():
            page, m = fresh_tab(browser, f"{url}/{path}", title, need)
            page.close()
            print(line(m, GOAL_RENDER_S))
            out.append((m, GOAL_RENDER_S))
        print("Actions depuis le Diagnostic :")
        page, _ = fresh_tab(browser, url, "Diagnostic", LAYER_MAP)
        for i, (label, action, *need) in enumerate(ACTIONS):
            m = act(page, label, action, *need)
            page.screenshot(path=str(ROOT / "test-artifacts" / f"bench-{dep}-action-{i}.png"))
            print(line(m, GOAL_ACTION_S))
            out.append((m, GOAL_ACTION_S))
        page.close()
        browser.close()
    return out


#: The mayor's commune in each département (its most populous).
MAYOR_COMMUNE = {"53": "53130", "59": "59350"}


def run_mayor(dep: str, browser_factory, tmp: Path) -> list[tuple[Measure, float]]:
    """« Ma commune », the mayor's only page, in the server mode: the app behind a real OpenID
    provider (npm oidc-provider, as the tests), the mayor signed in through the redirect flow
    (not measured), then the page in a new tab of the signed-in browser, twice (cold: the
    sign-in drew it once; warm)."""
    from tests.e2e.oidc import node_modules_ready

    if not node_modules_ready():
        raise SystemExit("oidc-provider absent de tests/oidc/node_modules : lancez `make test` une fois.")
    saved = dict(os.environ)
    os.environ.update(environment(dep))  # the server inherits it (server_mode_app)
    try:
        return _mayor_measures(dep, browser_factory, tmp / f"ws-{dep}")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _mayor_measures(dep: str, browser_factory, ws: Path) -> list[tuple[Measure, float]]:
    from core.access import MAYOR, Viewer
    from data.access import AccessStore
    from scripts.serve_demo import DEMO_ACCOUNTS, seed_demo_people
    from tests.e2e.oidc import server_mode_app, sign_in

    store = AccessStore(ws / "acces.sqlite")
    seed_demo_people(store, "bench_interactions")
    store.save_person(
        by=Viewer(role="administrateur", identity="bench_interactions"),
        role=MAYOR,
        territory=MAYOR_COMMUNE[dep],
        email=DEMO_ACCOUNTS["maire"]["email"],
    )
    out = []
    with server_mode_app(ws) as (base, _issuer):
        browser = browser_factory()
        context = browser.new_context(viewport={"width": 1500, "height": 1400}, locale="fr-FR")
        context.route("**/*", offline_route([]))
        signing = context.new_page()
        sign_in(signing, base, "maire")
        signing.get_by_text("Ma commune —").wait_for(timeout=180_000)
        title = signing.locator("[data-testid='stMain'] h1").first.inner_text()
        signing.close()
        print(f"« {title} » (maire connecté, mode serveur), nouvel onglet :")
        for label in ("Ma commune (1re fois)", "Ma commune"):
            page, m = fresh_tab(browser, base, label, "[data-testid='stMain'] h1", context=context)
            page.close()
            print(line(m, GOAL_RENDER_S))
        out.append((m, GOAL_RENDER_S))
        browser.close()
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    deps = sys.argv[1:] or ["53", "59"]
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    with sync_playwright() as p:
        factory = lambda: p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)  # noqa: E731
        results = {dep: run(dep, factory) for dep in deps}
        with tempfile.TemporaryDirectory() as tmp:
            for dep in deps:
                print(f"\n== {NAMES.get(dep, dep)} ({dep}), maire ==")
                results[dep] += run_mayor(dep, factory, Path(tmp))
    print("\nRésumé (serveur chaud) :")
    for dep, res in results.items():
        missed = [m.label for m, goal in res if m.total > goal]
        worst = max(res, key=lambda r: r[0].total / r[1])
        print(
            f"  {NAMES.get(dep, dep)} : {len(res) - len(missed)}/{len(res)} sous l'objectif ; pire ratio "
            f"{worst[0].total / worst[1]:.2f} ({worst[0].label})"
            + (f" ; manqués : {', '.join(missed)}" if missed else "")
        )


if __name__ == "__main__":
    main()
