"""Folium map builders that work offline and escape every value from a file.

* Leaflet and its plugins are served by the app (``static/vendor``, installed from npm at
  set-up); :func:`configure_offline_assets` points folium at them instead of public CDNs,
  and drops the assets we do not serve (Bootstrap, jQuery, Font Awesome, awesome-markers):
  features that need them are not used.
* folium does not escape tooltip/popup text: every value that came from a file goes
  through :func:`html_text` before it reaches a feature property.
* No incident point is ever drawn on these maps (privacy rule): only aggregates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import xyzservices.providers as xyz
from branca.element import MacroElement, Template

from analysis.followup import change_classes_from_comparison
from analysis.siting_base import EXISTING_SITE
from core.errors import ParameterError
from core.escape import html_text
from core.formatting import (
    fmt_change,
    fmt_count,
    fmt_interval,
    fmt_number,
)
from core.settings import SETTINGS
from rendering.change_classes import CHANGE_COLOURS, CHANGE_LABELS

BASE_MAPS: dict[str, str] = {
    "plan_ign": "Plan IGN",
    "ortho_ign": "Orthophotos IGN",
    "osm": "OpenStreetMap",
    "aucun": "Aucun fond (hors ligne)",
}
#: Sequential palette (light to dark red), colour-blind friendly (ColorBrewer OrRd).
PALETTE = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000", "#7f0000", "#4d0000")
SECRET_COLOUR = "#bdbdbd"
ZERO_COLOUR = "#ffffff"


def configure_offline_assets(static_url: str | None = None) -> None:
    """Make folium load Leaflet (and the plugins we use) from the app, not from CDNs.

    Parameters
    ----------
    static_url : str, optional
        URL prefix of the vendored files (default ``SETTINGS.static_url``, i.e.
        ``/app/static/vendor`` served by Streamlit's static file serving).
    """
    url = (static_url or SETTINGS.static_url).rstrip("/")
    folium.Map.default_js = [("leaflet", f"{url}/leaflet/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", f"{url}/leaflet/leaflet.css")]
    folium.plugins.MarkerCluster.default_js = [
        ("markerclusterjs", f"{url}/leaflet.markercluster/leaflet.markercluster.js")
    ]
    folium.plugins.MarkerCluster.default_css = [
        ("markerclustercss", f"{url}/leaflet.markercluster/MarkerCluster.css"),
        ("markerclusterdefaultcss", f"{url}/leaflet.markercluster/MarkerCluster.Default.css"),
    ]
    folium.plugins.Draw.default_js = [("leaflet_draw_js", f"{url}/leaflet-draw/leaflet.draw.js")]
    folium.plugins.Draw.default_css = [("leaflet_draw_css", f"{url}/leaflet-draw/leaflet.draw.css")]


def external_urls_from_map(fmap: folium.Map) -> set[str]:
    """Script and stylesheet URLs of a rendered map that point to another host.

    Tile URL templates are not included (base maps are optional online extras).
    """
    rendered = fmap.get_root().render()
    urls = re.findall(r'(?:src|href)="(https?://[^"]+)"', rendered)
    return set(urls)


def base_map_layer(key: str) -> folium.TileLayer | None:
    """Tile layer of a base map choice (see :data:`BASE_MAPS`); ``None`` for no base map."""
    if key == "aucun":
        return None
    if key == "plan_ign":
        p = xyz.GeoportailFrance.plan
    elif key == "ortho_ign":
        p = xyz.GeoportailFrance.orthos
    elif key == "osm":
        p = xyz.OpenStreetMap.Mapnik
    else:
        raise ParameterError(f"Fond de carte inconnu : {key!r} ({', '.join(BASE_MAPS)}).")
    attribution = "© IGN – Géoplateforme" if key != "osm" else p.html_attribution
    return folium.TileLayer(
        tiles=p.build_url(),
        attr=attribution,
        name=BASE_MAPS[key],
        max_zoom=p.get("max_zoom", 19),
        overlay=False,
        control=False,
    )


def base_map(bounds: Sequence[float], *, base: str = "plan_ign") -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy in degrees)."""
    configure_offline_assets()
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    fmap.add_child(_MetricScale())
    layer = base_map_layer(base)
    if layer is not None:
        layer.add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


class _MetricScale(MacroElement):
    """Leaflet scale bar in metres and kilometres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class _Legend(MacroElement):
    """A plain HTML legend (no d3, unlike branca's colormaps)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="carto-legend" style="position:absolute; z-index:9999; bottom:24px; left:12px;
             background:rgba(255,255,255,0.92); padding:8px 10px; border-radius:4px;
             font:12px/1.35 sans-serif; box-shadow:0 1px 4px rgba(0,0,0,.3);">
          {{ this.body }}
        </div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body


def add_commune_outlines(fmap: folium.Map, display_geometry: gpd.GeoSeries) -> None:
    """Grey commune outlines (EPSG:4326), unfilled: the map reads offline, without tiles."""
    outlines = gpd.GeoDataFrame(geometry=display_geometry.to_numpy(), crs="EPSG:4326")
    folium.GeoJson(
        json.loads(outlines.to_json(drop_id=True)),
        name="Communes",
        style_function=lambda f: {"fill": False, "color": "#777777", "weight": 0.5},
    ).add_to(fmap)


def legend_html(title: str, labels: Sequence[str], colours: Sequence[str]) -> str:
    """HTML of a legend: escaped title and labels, one colour swatch each."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:12px;margin-right:6px;'
        f'border:1px solid #777;background:{c}"></span>{html_text(lab)}</div>'
        for lab, c in zip(labels, colours, strict=True)
    )
    return f"<b>{html_text(title)}</b>{rows}"


def commune_layer_map(
    props: pd.DataFrame, display_geometry: gpd.GeoSeries, *, fields: dict[str, str], base: str
) -> folium.Map:
    """A map of commune polygons filled with ``props["fill"]``, tooltip and popup on ``fields``.

    Parameters
    ----------
    props : DataFrame
        One row per commune: the (already escaped and formatted) values of ``fields`` and a
        ``fill`` colour; indexed like ``display_geometry``.
    display_geometry : GeoSeries
        Simplified geometry (EPSG:4326).
    fields : dict
        Property name to French label, in display order.
    base : str
        Base map key.
    """
    gdf = gpd.GeoDataFrame(props[[*fields, "fill"]], geometry=display_geometry.to_numpy(), crs="EPSG:4326")
    geojson = json.loads(gdf.to_json(drop_id=True))
    fmap = base_map(gdf.total_bounds, base=base)
    names, aliases = list(fields), list(fields.values())
    folium.GeoJson(
        geojson,
        name="Communes",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 0.6,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000091"},
        tooltip=folium.GeoJsonTooltip(fields=names, aliases=aliases, sticky=True),
        popup=folium.GeoJsonPopup(fields=names, aliases=aliases),
    ).add_to(fmap)
    return fmap


def france_map(
    props: pd.DataFrame,
    geometry: gpd.GeoSeries,
    *,
    codes: Sequence[str],
    fields: dict[str, str],
    legend_title: str,
    legend: Sequence[tuple[str, str]],
    base: str = "aucun",
) -> folium.Map:
    """The départements of France filled with ``props["fill"]``, fitted to metropolitan France.

    Parameters
    ----------
    props : DataFrame
        One row per département: the escaped, formatted values of ``fields`` and ``fill``;
        indexed like ``geometry``.
    geometry : GeoSeries
        Simplified outlines (EPSG:4326), 101 polygons.
    codes : sequence of str
        Their INSEE codes (the overseas ones are on the map, outside the first view).
    fields : dict
        Property name to French label, in display order.
    legend_title : str
    legend : sequence of (label, colour)
    base : str
        Base map key.
    """
    fmap = commune_layer_map(props, geometry, fields=fields, base=base)
    metro = ~pd.Series(list(codes), dtype=str).str.startswith("97").to_numpy()
    if metro.any():
        minx, miny, maxx, maxy = gpd.GeoSeries(geometry.to_numpy()[metro], crs="EPSG:4326").total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    labels = [lab for lab, _c in legend]
    fmap.add_child(_Legend(legend_html(legend_title, labels, [c for _lab, c in legend])))
    return fmap


def class_legend(
    breaks: np.ndarray, palette: Sequence[str], classes: np.ndarray | None = None
) -> tuple[list[str], list[str]]:
    """Labels and colours of the classes of a choropleth; none when no unit falls in a class
    (every value secret or missing: bounds would then be made of nothing that may be shown)."""
    if classes is not None and not (np.asarray(classes) >= 0).any():
        return [], []
    labels = [
        f"{fmt_number(a, 2)} – {fmt_number(b, 2)}" for a, b in zip(breaks[:-1], breaks[1:], strict=True)
    ]
    return labels, list(palette[: len(labels)])


def choropleth_from_official(
    rates: gpd.GeoDataFrame,
    *,
    breaks: np.ndarray,
    classes: np.ndarray,
    display_geometry: gpd.GeoSeries,
    base: str = "plan_ign",
    title: str = "Taux pour 1 000",
) -> folium.Map:
    """Choropleth of an official SSMSI rate; unpublished communes hatched grey, labelled.

    Parameters
    ----------
    rates : GeoDataFrame
        From :func:`analysis.official.official_rates_for_communes`.
    breaks, classes : ndarray
        Class boundaries and classes (-1 where no published value).
    display_geometry : GeoSeries
        Simplified geometry indexed like ``rates``.
    base : str
        Base map key.
    title : str
        Legend title.
    """
    k = len(breaks) - 1
    palette = PALETTE[:k] if k <= len(PALETTE) else PALETTE
    published = np.isfinite(rates["taux_pour_mille"].to_numpy(dtype=float))
    colours = np.where(
        published, np.asarray(palette, dtype=object)[np.clip(classes, 0, k - 1)], SECRET_COLOUR
    )
    est = rates["estimation_dep_taux"].to_numpy(dtype=float)
    props = pd.DataFrame(
        {
            "nom": rates["nom"].astype(str).map(html_text).to_numpy(),
            "code": rates["code"].astype(str).map(html_text).to_numpy(),
            "nombre": np.where(published, rates["nombre"].map(lambda v: fmt_number(v, 0)), "non diffusé"),
            "taux": np.where(
                published, rates["taux_pour_mille"].map(lambda v: fmt_number(v, 2) + " ‰"), "non diffusé"
            ),
            "evolution": rates["evolution"].map(fmt_change),
            "estimation": np.where(
                np.isfinite(est),
                pd.Series(est).map(lambda v: fmt_number(v, 2) + " ‰ (estimation départementale)"),
                "–",
            ),
            "fill": colours,
        },
        index=rates.index,
    )
    fields = {
        "nom": "Commune",
        "code": "Code INSEE",
        "nombre": "Nombre",
        "taux": "Taux",
        "evolution": "Évolution du taux sur un an",
        "estimation": "Si non diffusé",
    }
    fmap = commune_layer_map(props, display_geometry, fields=fields, base=base)
    labels, cols = class_legend(breaks, palette, classes)
    fmap.add_child(_Legend(legend_html(title, [*labels, "non diffusé / absent"], [*cols, SECRET_COLOUR])))
    return fmap


def _rate_text(values: pd.Series, hidden: np.ndarray, hidden_text: str = "secret") -> np.ndarray:
    """Rates per 1,000 as read in a tooltip: « 12,34 ‰ », « — » without a rate."""
    text = values.map(lambda v: fmt_number(v, 2) + " ‰" if np.isfinite(v) else "—").to_numpy()
    return np.where(hidden, hidden_text, text)


def choropleth_from_rates(
    rates: gpd.GeoDataFrame,
    *,
    breaks: np.ndarray,
    classes: np.ndarray,
    display_geometry: gpd.GeoSeries,
    base: str = "plan_ign",
    hide_secret: bool = True,
    title: str = "Faits pour 1 000 habitants",
    value_column: str = "taux_pour_mille",
    base_label: str = "Population",
    secret_range: str | None = None,
) -> folium.Map:
    """Choropleth of a rate per commune with tooltips and popups (escaped).

    Parameters
    ----------
    rates : GeoDataFrame
        From :func:`analysis.diagnostic.rates_by_commune` (``nom``, ``code``, ``faits``,
        ``taux_pour_mille``, ``secret``, ``population``), optionally with ``taux_lisse``,
        ``ic_bas``, ``ic_haut`` and ``peu_fiable`` (shown in the tooltip when present).
    breaks, classes : ndarray
        Class boundaries and the class of each commune (-1: no value).
    display_geometry : GeoSeries
        Simplified commune geometry, indexed like ``rates``.
    base : str
        Base map key (:data:`BASE_MAPS`).
    hide_secret : bool, default True
        Show small counts as "secret" (statistical secrecy).
    title : str
        Legend title.
    value_column : str, default "taux_pour_mille"
        The rate the colours follow (``taux_lisse``: a commune without incidents has a
        smoothed rate and is coloured by it, not as « 0 fait »).
    base_label : str, default "Population"
        What the ``population`` column holds (« Logements » for rates per dwelling).
    secret_range : str, optional
        What « secret » covers (« 1 à 5 »; « 0 à 5 » when zeros are hidden too).

    Returns
    -------
    folium.Map
        Commune polygons coloured by class, a legend, a tooltip (hover) and a popup
        (click) per commune.
    """
    k = len(breaks) - 1
    palette = PALETTE[:k] if k <= len(PALETTE) else PALETTE
    covered = secret_range or f"1 à {SETTINGS.privacy_threshold}"
    secret = rates["secret"].to_numpy(dtype=bool) & hide_secret
    faits = rates["faits"].to_numpy()
    zero = (faits == 0) if value_column == "taux_pour_mille" else (classes < 0)
    colours = np.where(
        secret,
        SECRET_COLOUR,
        np.where(zero, ZERO_COLOUR, np.asarray(palette, dtype=object)[np.clip(classes, 0, k - 1)]),
    )
    props = pd.DataFrame(
        {
            "nom": rates["nom"].astype(str).map(html_text).to_numpy(),
            "code": rates["code"].astype(str).map(html_text).to_numpy(),
            "faits": np.where(
                secret, f"secret ({covered})", pd.Series(faits).map(lambda v: fmt_number(v, 0))
            ),
            "taux": _rate_text(rates["taux_pour_mille"].astype(float), secret),
            "population": rates["population"].map(lambda v: fmt_number(v, 0)).to_numpy(),
            "fill": colours,
        },
        index=rates.index,
    )
    fields = {
        "nom": "Commune",
        "code": "Code INSEE",
        "population": base_label,
        "faits": "Faits",
        "taux": "Taux brut",
    }
    if "ic_bas" in rates:
        interval = [
            f"{fmt_number(lo, 2)} – {fmt_number(hi, 2)} ‰" + (" (peu fiable)" if flag else "")
            if np.isfinite(hi)
            else "—"
            for lo, hi, flag in zip(rates["ic_bas"], rates["ic_haut"], rates["peu_fiable"], strict=True)
        ]
        props["intervalle"] = np.where(secret, "secret", interval)
        fields["intervalle"] = "Intervalle à 95 %"
    if "taux_lisse" in rates:
        props["lisse"] = _rate_text(rates["taux_lisse"].astype(float), secret)
        fields["lisse"] = "Taux lissé"
    fmap = commune_layer_map(props, display_geometry, fields=fields, base=base)
    labels, class_cols = class_legend(breaks, palette, classes)
    first = ["0 fait"] if value_column == "taux_pour_mille" else ["pas de taux"]
    items, cols = [*first, *labels], [ZERO_COLOUR, *class_cols]
    if hide_secret and secret.any():
        items.append(f"secret statistique ({covered} faits)")
        cols.append(SECRET_COLOUR)
    fmap.add_child(_Legend(legend_html(title, items, cols)))
    return fmap


def change_map(
    table: pd.DataFrame,
    communes: pd.DataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    base: str = "plan_ign",
    hide_secret: bool = True,
    title: str = "Évolution des faits",
    zones: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Communes coloured by significant change (rise, fall, none), tooltips escaped.

    Parameters
    ----------
    table : DataFrame
        A commune comparison from :func:`analysis.followup.comparison_from_counts`
        (``cle`` = commune code).
    communes : DataFrame
        Communes (``code``, ``nom``), indexed like ``display_geometry``.
    display_geometry : GeoSeries
        Simplified commune geometry (EPSG:4326).
    base : str
        Base map key.
    hide_secret : bool, default True
        Show secret communes as "secret" (their counts and change are not shown).
    title : str
        Legend title.
    zones : GeoDataFrame, optional
        Priority zones (``rang``, ``communes``) outlined on top.
    """
    t = table.set_index("cle").reindex(communes["code"].to_numpy())
    cls = change_classes_from_comparison(table, communes["code"], hide_secret=hide_secret)
    secret = cls == "secret"
    hidden = "secret"
    props = pd.DataFrame(
        {
            "nom": communes["nom"].astype(str).map(html_text).to_numpy(),
            "faits": np.where(secret, hidden, t["faits"].fillna(0).map(fmt_count).to_numpy()),
            "reference": np.where(secret, hidden, t["faits_reference"].fillna(0).map(fmt_count).to_numpy()),
            "evolution": np.where(secret, hidden, t["evolution"].map(fmt_change).to_numpy()),
            "ic": np.where(
                secret,
                hidden,
                [fmt_interval(a, b) for a, b in zip(t["ic_bas"], t["ic_haut"], strict=True)],
            ),
            "sens": [CHANGE_LABELS[c] for c in cls],
            "fill": [CHANGE_COLOURS[c] for c in cls],
        },
        index=communes.index,
    )
    fields = {
        "nom": "Commune",
        "faits": "Faits (période suivie)",
        "reference": "Faits (référence)",
        "evolution": "Évolution",
        "ic": "IC 95 % du rapport",
        "sens": "Changement",
    }
    fmap = commune_layer_map(props, display_geometry, fields=fields, base=base)
    keys = [k for k in CHANGE_COLOURS if k != "secret" or secret.any()]
    labels, colours = [CHANGE_LABELS[k] for k in keys], [CHANGE_COLOURS[k] for k in keys]
    if zones is not None and not zones.empty:
        z = gpd.GeoDataFrame(
            {
                "zone": zones["rang"].map(lambda r: f"Zone prioritaire n° {int(r)}").to_numpy(),
                "communes": zones["communes"].astype(str).map(html_text).to_numpy(),
            },
            geometry=zones.geometry.to_crs("EPSG:4326").to_numpy(),
            crs="EPSG:4326",
        )
        folium.GeoJson(
            json.loads(z.to_json(drop_id=True)),
            name="Zones prioritaires",
            style_function=lambda f: {"fill": False, "color": "#000000", "weight": 2.5},
            tooltip=folium.GeoJsonTooltip(fields=["zone", "communes"], aliases=["", "Communes"]),
        ).add_to(fmap)
        labels.append("zone prioritaire (contour)")
        colours.append("transparent")
    fmap.add_child(_Legend(legend_html(title, labels, colours)))
    return fmap


FORCE_COLOURS = {"PN": "#1f4e9c", "GN": "#2e8540", "PM": "#9c6b1f"}


def _unit_props(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Escaped tooltip/popup text of units (every value may come from a file)."""
    esc = lambda col: units[col].fillna("").astype(str).map(html_text)  # noqa: E731
    return pd.DataFrame(
        {
            "nom": esc("nom"),
            "adresse": esc("adresse"),
            "telephone": esc("telephone"),
            "horaires": esc("horaires").str.slice(0, 300),
            "source": esc("source"),
        },
        index=units.index,
    )


def add_organisation_layer(
    fmap: folium.Map, units: gpd.GeoDataFrame, *, indicative: bool, show_units: bool = True
) -> folium.Map:
    """Overlay the force units (circle markers, escaped tooltip and popup) on a map.

    Uses a GeoJSON layer with circle markers (Leaflet only: folium's ``Popup`` needs
    jQuery, which is not served), so it works offline.
    """
    label = "Unités" + (" (indicatif)" if indicative else "")
    ok = units.geometry.notna() & ~units.geometry.is_empty
    units = units[ok]
    if units.empty:
        return fmap
    props = _unit_props(units)
    props["statut"] = "indicatif" if indicative else "fichier officiel"
    props["fill"] = units["force"].map(FORCE_COLOURS).fillna("#555555").to_numpy()
    props["rayon"] = np.where(units["force"].to_numpy() == "PN", 7, 5)
    gdf = gpd.GeoDataFrame(props, geometry=units.geometry.to_numpy(), crs="EPSG:4326")
    fields = {
        "nom": "Unité",
        "adresse": "Adresse",
        "telephone": "Téléphone",
        "horaires": "Horaires",
        "statut": "Statut",
    }
    folium.GeoJson(
        json.loads(gdf.to_json(drop_id=True)),
        name=label,
        show=show_units,
        marker=folium.CircleMarker(radius=6, weight=1.5, color="#ffffff", fill=True, fill_opacity=0.95),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "radius": f["properties"]["rayon"]},
        tooltip=folium.GeoJsonTooltip(fields=["nom", "statut"], aliases=["Unité", "Statut"]),
        popup=folium.GeoJsonPopup(fields=list(fields), aliases=list(fields.values())),
    ).add_to(fmap)
    return fmap


def organisation_map(
    assignment: pd.DataFrame,
    units: gpd.GeoDataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    indicative: bool,
    base: str = "plan_ign",
) -> folium.Map:
    """PN and GN zones (communes coloured by force), units, escaped tooltips.

    Parameters
    ----------
    assignment : DataFrame
        From :func:`geo.organisation.assignment_from_units`, indexed like ``display_geometry``.
    units : GeoDataFrame
        Units (EPSG:4326).
    display_geometry : GeoSeries
        Simplified commune geometry.
    indicative : bool
        Mark the organisation "indicatif" in the legend and tooltips.
    base : str
        Base map key.
    """
    fmt_km = assignment["distance_km"].map(lambda v: fmt_number(v, 1) + " km")
    fmt_min = assignment["temps_min"].map(lambda v: fmt_number(v, 0) + " min")
    props = pd.DataFrame(
        {
            "nom": assignment["nom"].astype(str).map(html_text),
            "force": assignment["force"]
            .map({"PN": "Police nationale", "GN": "Gendarmerie nationale"})
            .fillna("–"),
            "unite": assignment["unite"].fillna("–").astype(str).map(html_text),
            "distance": fmt_km,
            "temps": fmt_min,
            "fill": assignment["force"].map(FORCE_COLOURS).fillna("#bbbbbb"),
        },
        index=assignment.index,
    )
    fields = {
        "nom": "Commune",
        "force": "Force",
        "unite": "Unité",
        "distance": "Distance",
        "temps": "Temps estimé",
    }
    fmap = commune_layer_map(props, display_geometry, fields=fields, base=base)
    add_organisation_layer(fmap, units, indicative=indicative)
    suffix = " (indicatif)" if indicative else ""
    fmap.add_child(
        _Legend(
            legend_html(
                "Organisation territoriale" + suffix,
                ["Zone police nationale", "Zone gendarmerie nationale", "● unité (commissariat, brigade)"],
                [FORCE_COLOURS["PN"], FORCE_COLOURS["GN"], "#ffffff"],
            )
        )
    )
    return fmap


def _density_rgba(density: np.ndarray) -> np.ndarray:
    """Density raster to an RGBA image (OrRd ramp, transparent where zero), north up."""
    d = np.asarray(density, dtype=float)
    top = np.quantile(d[d > 0], 0.995) if (d > 0).any() else 1.0
    t = np.clip(d / top, 0, 1)
    stops = np.array(
        [[254, 240, 217], [253, 204, 138], [252, 141, 89], [227, 74, 51], [179, 0, 0]], dtype=float
    )
    pos = t * (len(stops) - 1)
    i = np.clip(np.floor(pos).astype(int), 0, len(stops) - 2)
    f = (pos - i)[..., None]
    rgb = stops[i] * (1 - f) + stops[i + 1] * f
    alpha = np.where(d > 0, 90 + 140 * t, 0)
    return np.flipud(np.dstack([rgb, alpha]).astype(np.uint8))


def zones_map(
    zones: gpd.GeoDataFrame,
    density: np.ndarray,
    density_bounds_wgs84: tuple[float, float, float, float],
    display_geometry: gpd.GeoSeries,
    *,
    base: str = "plan_ign",
) -> folium.Map:
    """Priority zones over the density surface (an image in metres, not Leaflet.heat).

    Parameters
    ----------
    zones : GeoDataFrame
        From :func:`analysis.zones.zones_from_incidents`, in EPSG:4326.
    density : ndarray (ny, nx)
        Density raster, row 0 to the south.
    density_bounds_wgs84 : tuple
        (west, south, east, north) of the raster.
    display_geometry : GeoSeries
        Commune outlines (EPSG:4326).
    base : str
        Base map key.
    """
    fmap = base_map(display_geometry.total_bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    w, s, e, n = density_bounds_wgs84
    folium.raster_layers.ImageOverlay(
        image=_density_rgba(density), bounds=[[s, w], [n, e]], name="Densité", opacity=1.0, interactive=False
    ).add_to(fmap)
    if len(zones):
        props = pd.DataFrame(
            {
                "rang": zones["rang"].astype(int).astype(str),
                "id": zones["id"].astype(str).map(html_text),
                "faits": zones["faits"].map(lambda v: fmt_number(v, 0)),
                "score": zones["score"].map(lambda v: fmt_number(v, 0)),
                "communes": zones["communes"].astype(str).map(html_text),
            }
        )
        gdf = gpd.GeoDataFrame(props, geometry=zones.geometry.to_numpy(), crs="EPSG:4326")
        fields = {"rang": "Rang", "id": "Zone", "faits": "Faits", "score": "Score", "communes": "Communes"}
        folium.GeoJson(
            json.loads(gdf.to_json(drop_id=True)),
            name="Zones prioritaires",
            style_function=lambda f: {
                "fillColor": "#000091",
                "fillOpacity": 0.15,
                "color": "#000091",
                "weight": 2.5,
            },
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.3},
            tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(fields.values()), sticky=True),
            popup=folium.GeoJsonPopup(fields=list(fields), aliases=list(fields.values())),
        ).add_to(fmap)
        # Zones are a few hundred metres across: their rank, drawn beside them, keeps them
        # visible at the scale of the département.
        ranks = folium.FeatureGroup(name="Rang des zones")
        for rank, point in zip(zones["rang"].astype(int), zones.geometry.representative_point(), strict=True):
            folium.Marker(
                [point.y, point.x],
                icon=folium.DivIcon(
                    html=f'<div class="zone-rank">{rank}</div>', icon_size=(22, 22), icon_anchor=(-4, 26)
                ),
            ).add_to(ranks)
        ranks.add_to(fmap)
        fmap.get_root().header.add_child(folium.Element(ZONE_RANK_CSS))
    fmap.add_child(
        _Legend(
            legend_html(
                "Zones prioritaires",
                ["zone (numéro : rang)", "densité des faits (faible → forte)"],
                ["#000091", "#e34a33"],
            )
        )
    )
    return fmap


ZONE_RANK_CSS = (
    "<style>.zone-rank{background:#000091;color:#fff;border:1px solid #fff;border-radius:11px;"
    "width:22px;height:22px;line-height:20px;text-align:center;font:bold 12px sans-serif;"
    "box-shadow:0 0 2px #000}</style>"
)

EMERGING_COLOURS = {
    "nouveau": "#67000d",
    "consécutif": "#a50f15",
    "en intensification": "#ef3b2c",
    "persistant": "#fc9272",
    "en diminution": "#fcbba1",
    "sporadique": "#fdae6b",
    "oscillant": "#9e9ac8",
    "historique": "#bdbdbd",
}


def emerging_map(
    cells: gpd.GeoDataFrame, display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """Grid cells coloured by emerging hot-spot category (EPSG:4326), commune outlines.

    Parameters
    ----------
    cells : GeoDataFrame
        Cells with ``categorie``, ``tendance_z`` and ``pas_chauds`` (category "aucun" left out).
    display_geometry : GeoSeries
        Commune outlines.
    base : str
        Base map key.
    """
    fmap = base_map(display_geometry.total_bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    shown = cells[cells["categorie"] != "aucun"]
    if len(shown):
        props = pd.DataFrame(
            {
                "categorie": shown["categorie"].astype(str),
                "tendance": shown["tendance_z"].map(lambda v: fmt_number(v, 2)),
                "pas": shown["pas_chauds"].astype(int).astype(str)
                + " / "
                + shown["pas"].astype(int).astype(str),
                "fill": shown["categorie"].map(EMERGING_COLOURS).fillna("#bdbdbd"),
            }
        )
        gdf = gpd.GeoDataFrame(props, geometry=shown.geometry.to_numpy(), crs="EPSG:4326")
        fields = {
            "categorie": "Catégorie",
            "tendance": "Tendance (z de Mann-Kendall)",
            "pas": "Pas de temps chauds",
        }
        folium.GeoJson(
            json.loads(gdf.to_json(drop_id=True)),
            name="Points chauds émergents",
            style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.8, "weight": 0},
            tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(fields.values())),
        ).add_to(fmap)
    fmap.add_child(
        _Legend(
            legend_html("Points chauds émergents", list(EMERGING_COLOURS), list(EMERGING_COLOURS.values()))
        )
    )
    return fmap


def area_drawing_map(
    bounds: Sequence[float], display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """A map to draw the study area on (polygons and rectangles; Leaflet.draw served locally)."""
    fmap = base_map(bounds, base=base)
    folium.GeoJson(
        json.loads(
            gpd.GeoDataFrame(geometry=display_geometry.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)
        ),
        name="Communes",
        style_function=lambda f: {"fill": False, "color": "#777777", "weight": 0.6},
    ).add_to(fmap)
    folium.plugins.Draw(
        export=False,
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "circlemarker": False,
            "marker": False,
            "polygon": {"allowIntersection": False, "showArea": True, "metric": True},
            "rectangle": {"metric": True},
        },
        edit_options={"edit": True, "remove": True},
    ).add_to(fmap)
    return fmap


def siting_map(
    sites: gpd.GeoDataFrame,
    *,
    radius: float,
    bounds: Sequence[float],
    base: str = "plan_ign",
    area: gpd.GeoSeries | None = None,
    display_geometry: gpd.GeoSeries | None = None,
) -> folium.Map:
    """Chosen and existing camera sites with their coverage circles.

    Parameters
    ----------
    sites : GeoDataFrame
        EPSG:4326, ``rang`` and ``statut`` (``existante`` or ``nouvelle``).
    radius : float
        Coverage radius, metres.
    bounds : sequence of float
        Extent to show (degrees).
    base : str
        Base map key.
    area : GeoSeries, optional
        Study area (EPSG:4326), outlined.
    display_geometry : GeoSeries, optional
        Commune outlines (EPSG:4326): the map still reads offline, without base tiles.
    """
    fmap = base_map(bounds, base=base)
    if display_geometry is not None and len(display_geometry):
        add_commune_outlines(fmap, display_geometry)
    if area is not None and len(area):
        folium.GeoJson(
            json.loads(gpd.GeoDataFrame(geometry=area.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)),
            name="Secteur étudié",
            style_function=lambda f: {"fill": False, "color": "#e67e00", "weight": 2, "dashArray": "6 4"},
        ).add_to(fmap)
    for r, g in zip(sites.itertuples(), sites.geometry, strict=True):
        colour = "#777777" if r.statut == EXISTING_SITE else "#000091"
        label = (
            "caméra existante"
            if r.statut == EXISTING_SITE
            else f"site n° {int(r.rang)} : gain {fmt_number(float(r.gain))}"
            if "gain" in sites.columns and not isinstance(r.gain, str)
            else f"site n° {int(r.rang)}"
        )
        folium.Circle(
            [g.y, g.x], radius=float(radius), color=colour, weight=1, fill=True, fill_opacity=0.12
        ).add_to(fmap)
        folium.CircleMarker(
            [g.y, g.x], radius=4, color=colour, fill=True, fill_opacity=1, tooltip=label
        ).add_to(fmap)
    items = ["nouveau site (cercle : champ couvert)", "caméra existante"]
    colours = ["#000091", "#777777"]
    if area is not None and len(area):
        items.append("secteur étudié")
        colours.append("#e67e00")
    fmap.add_child(_Legend(legend_html(f"Vidéoprotection (rayon {radius:.0f} m)", items, colours)))
    return fmap


EVALUATION_COLOURS = {"cible": "#000091", "tampon": "#e67e00", "temoin": "#2a9d8f"}


def evaluation_map(
    areas: gpd.GeoDataFrame, display_geometry: gpd.GeoSeries, *, base: str = "plan_ign"
) -> folium.Map:
    """The target, buffer and control areas of an evaluation over the commune outlines.

    Parameters
    ----------
    areas : GeoDataFrame
        From :func:`usecases.evaluation.areas_for_map` (``zone``, ``libelle``; EPSG:4326).
    display_geometry : GeoSeries
        Simplified commune geometry (EPSG:4326), drawn as outlines.
    base : str
        Base map key.
    """
    shown = areas[~areas.geometry.is_empty]
    fmap = base_map(shown.total_bounds, base=base)
    add_commune_outlines(fmap, display_geometry)
    for zone in ("temoin", "tampon", "cible"):  # the target on top
        part = shown[shown["zone"] == zone]
        if part.empty:
            continue
        colour = EVALUATION_COLOURS[zone]
        folium.GeoJson(
            json.loads(part[["libelle", "geometry"]].to_json(drop_id=True)),
            name=str(part["libelle"].iloc[0]),
            style_function=lambda f, c=colour: {
                "fillColor": c,
                "color": c,
                "weight": 1.5,
                "fillOpacity": 0.25,
            },
            tooltip=folium.GeoJsonTooltip(fields=["libelle"], labels=False),
        ).add_to(fmap)
    labels = ["Zone cible", "Zone tampon", "Zone témoin"]
    fmap.add_child(_Legend(legend_html("Évaluation", labels, list(EVALUATION_COLOURS.values()))))
    return fmap


def commune_sheet_map(outline: gpd.GeoSeries, zones: gpd.GeoDataFrame, *, base: str = "aucun") -> folium.Map:
    """One commune's outline and the published priority zones that touch it (EPSG:4326)."""
    fmap = base_map(outline.total_bounds, base=base)
    folium.GeoJson(
        json.loads(gpd.GeoDataFrame(geometry=outline.to_numpy(), crs="EPSG:4326").to_json(drop_id=True)),
        name="Commune",
        style_function=lambda f: {"fill": False, "color": "#000091", "weight": 2},
    ).add_to(fmap)
    if len(zones):
        folium.GeoJson(
            json.loads(zones[["rang", "geometry"]].to_json(drop_id=True)),
            name="Zones prioritaires",
            style_function=lambda f: {
                "fillColor": "#e1000f",
                "color": "#e1000f",
                "weight": 1,
                "fillOpacity": 0.3,
            },
            tooltip=folium.GeoJsonTooltip(fields=["rang"], aliases=["Zone prioritaire n°"]),
        ).add_to(fmap)
    return fmap
