// The app's Leaflet map (st.components.v2): polygons and points drawn on a canvas, the
// geometry kept in the page by its key, a new run bringing only texts and colours.
//
// data = {
//   static_url,                      // where Leaflet is served (/app/static/vendor)
//   height,                          // px
//   geometries: {key: "[GeoJSON geometry, ...]"},   // only those this page may lack
//   layers: [{name, kind, geometry_key, labels, values, tooltip, style, fill, radius, badges}],
//   legend,                          // escaped HTML (the server escapes every value)
//   base: {url, attribution, max_zoom} | null,
//   bounds: [[south, west], [north, east]],
//   image: {url, bounds} | null,     // a raster under the layers (a PNG data URL)
//   label,                           // accessible name of the map
// }
// Every text in `values` and `legend` was escaped by the server (core.escape.html_text)
// before it left it, as folium's tooltips were: they are inserted as HTML.

const GEOMETRY = (globalThis.__cartoGeometry ??= new Map());
const MAX_GEOMETRIES = 16;
const STATE = (globalThis.__cartoMaps ??= new WeakMap());
// Under this width (px) the legend goes under the map instead of over it.
const NARROW_PX = 640;

function remember(key, text) {
  if (GEOMETRY.has(key)) GEOMETRY.delete(key);
  GEOMETRY.set(key, JSON.parse(text));
  while (GEOMETRY.size > MAX_GEOMETRIES) GEOMETRY.delete(GEOMETRY.keys().next().value);
}

function leaflet(staticUrl) {
  if (globalThis.L && globalThis.L.map) return Promise.resolve(globalThis.L);
  if (!globalThis.__cartoLeaflet) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = `${staticUrl}/leaflet/leaflet.css`;
    document.head.appendChild(css);
    globalThis.__cartoLeaflet = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = `${staticUrl}/leaflet/leaflet.js`;
      s.onload = () => resolve(globalThis.L);
      s.onerror = () => reject(new Error("Leaflet indisponible"));
      document.head.appendChild(s);
    });
  }
  return globalThis.__cartoLeaflet;
}

function table(labels, row, which) {
  let html = "<table class='carto-tip'>";
  for (const i of which) {
    const label = labels[i] ? `<th>${labels[i]}</th>` : "";
    html += `<tr>${label}<td${labels[i] ? "" : " colspan='2'"}>${row[i]}</td></tr>`;
  }
  return html + "</table>";
}

function styleOf(spec, i) {
  const fill = spec.fill ? spec.fill[i] : null;
  return {
    color: spec.style.color,
    weight: spec.style.weight,
    fill: fill !== null,
    fillColor: fill || undefined,
    fillOpacity: fill !== null ? spec.style.fillOpacity : 0,
    opacity: 1,
  };
}

// One drawn layer: its Leaflet objects, restyled in place when only the values change.
function buildLayer(L, map, renderer, spec) {
  const shapes = GEOMETRY.get(spec.geometry_key);
  const drawn = { key: spec.geometry_key, kind: spec.kind, spec, items: [] };
  const group = L.featureGroup();
  shapes.forEach((geometry, i) => {
    let item;
    const labelled = spec.labels.length > 0;
    if (spec.badges) {
      // A numbered badge beside the point (a rank matching the table); escaped by the server.
      const [lon, lat] = geometry.coordinates;
      const icon = L.divIcon({
        className: "",
        html: `<div class="zone-rank">${spec.badges[i]}</div>`,
        iconSize: [22, 22],
        iconAnchor: [-4, 26],
      });
      item = L.marker([lat, lon], { icon, keyboard: false });
    } else if (spec.kind === "point") {
      const [lon, lat] = geometry.coordinates;
      item = L.circleMarker([lat, lon], { renderer, radius: spec.radius ? spec.radius[i] : 6 });
    } else {
      item = L.geoJSON(geometry, { renderer, interactive: labelled });
    }
    if (labelled) {
      item.bindTooltip(() => table(drawn.spec.labels, drawn.spec.values[i], drawn.spec.tooltip), {
        sticky: spec.kind !== "point",
      });
      item.bindPopup(() => table(drawn.spec.labels, drawn.spec.values[i], drawn.spec.labels.map((_, j) => j)));
    }
    if (spec.kind !== "point" && spec.fill) {
      item.on("mouseover", () => item.setStyle({ weight: 2.5, color: "#000091" }));
      item.on("mouseout", () => item.setStyle(styleOf(drawn.spec, i)));
    }
    if (!spec.badges) item.setStyle(styleOf(spec, i));
    group.addLayer(item);
    drawn.items.push(item);
  });
  group.addTo(map);
  drawn.group = group;
  return drawn;
}

function restyle(drawn, spec) {
  drawn.spec = spec;
  if (spec.badges) return; // redrawn instead (see draw)
  drawn.items.forEach((item, i) => {
    item.setStyle(styleOf(spec, i));
    if (spec.kind === "point" && spec.radius) item.setRadius(spec.radius[i]);
  });
}

function setBase(L, state, base) {
  const sig = base ? base.url : "";
  if (state.baseSig === sig) return;
  if (state.base) state.map.removeLayer(state.base);
  state.base = base
    ? L.tileLayer(base.url, { attribution: base.attribution, maxZoom: base.max_zoom }).addTo(state.map)
    : null;
  state.baseSig = sig;
}

function setImage(L, state, image) {
  const sig = image ? image.url : "";
  if (state.imageSig === sig) return;
  if (state.image) state.map.removeLayer(state.image);
  state.image = image
    ? L.imageOverlay(image.url, image.bounds, { pane: "cartoImage", interactive: false }).addTo(state.map)
    : null;
  state.imageSig = sig;
}

function draw(L, parent, data) {
  let state = STATE.get(parent);
  if (!state || !state.box.isConnected) {
    // The map, and its legend over the map's lower left; under it when the map is narrow
    // (1024 x 768: a legend over the map would hide the south of the département).
    const wrap = document.createElement("div");
    wrap.className = "carto";
    const box = document.createElement("div");
    box.className = "carto-map";
    box.setAttribute("role", "region");
    box.tabIndex = 0;
    wrap.appendChild(box);
    const legend = document.createElement("div");
    legend.className = "carto-legend";
    wrap.appendChild(legend);
    parent.appendChild(wrap);
    const map = L.map(box, { zoomSnap: 0.25, preferCanvas: true, keyboard: true });
    // A raster (the density) under the shapes: its pane below the overlay pane (400).
    map.createPane("cartoImage").style.zIndex = 350;
    L.control.scale({ imperial: false, metric: true }).addTo(map);
    const narrow = () => wrap.classList.toggle("carto-narrow", wrap.clientWidth < NARROW_PX);
    new ResizeObserver(narrow).observe(wrap);
    narrow();
    state = { wrap, box, map, legend, renderer: L.canvas({ padding: 0.3 }), layers: [], fitted: null };
    STATE.set(parent, state);
  }
  state.box.style.height = `${data.height}px`;
  state.box.setAttribute("aria-label", data.label || "Carte");
  setBase(L, state, data.base);
  setImage(L, state, data.image || null);
  // Same geometry, same order: restyle in place; otherwise redraw that layer (badges always).
  const next = [];
  data.layers.forEach((spec, i) => {
    const old = state.layers[i];
    if (old && old.key === spec.geometry_key && old.kind === spec.kind && !spec.badges && !old.spec.badges) {
      restyle(old, spec);
      next.push(old);
    } else {
      if (old) state.map.removeLayer(old.group);
      next.push(buildLayer(L, state.map, state.renderer, spec));
    }
  });
  for (const old of state.layers.slice(data.layers.length)) state.map.removeLayer(old.group);
  state.layers = next;
  for (const d of next) if (d.kind === "point") d.group.bringToFront();
  state.legend.innerHTML = data.legend || "";
  state.legend.hidden = !data.legend;
  // The first view, and a new one when the outlines change (another level); a new filter
  // keeps the reader's zoom.
  const sig = data.layers.length ? data.layers[0].geometry_key : "";
  if (state.fitted !== sig) {
    state.map.invalidateSize();
    state.map.fitBounds(data.bounds);
    state.fitted = sig;
  }
  const counts = next.map((d) => `${d.spec.name}:${d.items.length}`).join(";");
  state.box.dataset.layers = counts;
  // What a browser test reads (the shapes are on a canvas, not in the DOM); `drawn` changes
  // in the frame after Leaflet's own, once the canvas is painted.
  state.box.carto = { map: state.map, layers: next };
  requestAnimationFrame(() => {
    state.box.dataset.drawn = String(Number(state.box.dataset.drawn || 0) + 1);
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  for (const [key, text] of Object.entries(data.geometries || {})) remember(key, text);
  const missing = data.layers.map((l) => l.geometry_key).filter((k) => !GEOMETRY.has(k));
  if (missing.length) {
    // This page lost (or never had) a shape the server thought it kept: ask for it.
    setTriggerValue("missing", missing.join(","));
    return undefined;
  }
  leaflet(data.static_url)
    .then((L) => draw(L, parentElement, data))
    .catch((e) => {
      parentElement.textContent = `Carte indisponible : ${e.message}`;
    });
  return () => {
    const state = STATE.get(parentElement);
    if (state) {
      state.map.remove();
      state.wrap.remove();
      STATE.delete(parentElement);
    }
  };
}
