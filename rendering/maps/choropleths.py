"""Choropleths of the communes and of the départements: rates, official rates, change.

Each returns a :class:`rendering.maps.layers.LayerMap` (drawn by the app's Leaflet component).

Each builder receives its classes already computed (by the use case or :mod:`analysis`): here
only colours, escaped properties and legends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from core.escape import html_text
from core.formatting import (
    cell_count,
    cell_decimal,
    fmt_change,
    fmt_count,
    fmt_interval,
)
from core.settings import SETTINGS
from rendering.change_classes import CHANGE_COLOURS, CHANGE_LABELS
from rendering.maps.layers import Layer, LayerMap
from rendering.maps.toolkit import (
    PALETTE,
    SECRET_COLOUR,
    ZERO_COLOUR,
    class_legend,
    commune_layer_map,
    legend_html,
    rate_text,
)


def france_map(
    props: pd.DataFrame,
    geometry: gpd.GeoSeries,
    *,
    codes: Sequence[str],
    fields: dict[str, str],
    legend_title: str,
    legend: Sequence[tuple[str, str]],
    base: str = "aucun",
) -> LayerMap:
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
    lm = commune_layer_map(props, geometry, fields=fields, base=base, area_label="Département")
    metro = ~pd.Series(list(codes), dtype=str).str.startswith("97").to_numpy()
    if metro.any():
        minx, miny, maxx, maxy = gpd.GeoSeries(geometry.to_numpy()[metro], crs="EPSG:4326").total_bounds
        lm = dataclasses.replace(lm, bounds=(float(minx), float(miny), float(maxx), float(maxy)))
    labels = [lab for lab, _c in legend]
    return lm.with_legend(legend_html(legend_title, labels, [c for _lab, c in legend]))


def choropleth_from_official(
    rates: gpd.GeoDataFrame,
    *,
    breaks: np.ndarray,
    classes: np.ndarray,
    display_geometry: gpd.GeoSeries,
    base: str = "plan_ign",
    title: str = "Taux pour 1 000",
) -> LayerMap:
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
            "nombre": np.where(published, rates["nombre"].map(lambda v: cell_count(v)), "non diffusé"),
            "taux": np.where(
                published, rates["taux_pour_mille"].map(lambda v: cell_decimal(v, 2) + " ‰"), "non diffusé"
            ),
            "evolution": rates["evolution"].map(fmt_change),
            "estimation": np.where(
                np.isfinite(est),
                pd.Series(est).map(lambda v: cell_decimal(v, 2) + " ‰ (estimation départementale)"),
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
    lm = commune_layer_map(props, display_geometry, fields=fields, base=base)
    labels, cols = class_legend(breaks, palette, classes)
    return lm.with_legend(legend_html(title, [*labels, "non diffusé / absent"], [*cols, SECRET_COLOUR]))


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
    area_label: str = "Commune",
) -> LayerMap:
    """Choropleth of a rate per commune (or per EPCI, canton) with tooltips and popups (escaped).

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
    area_label : str, default "Commune"
        What a polygon is (« EPCI », « Canton »), the tooltip's first field.

    Returns
    -------
    LayerMap
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
            "faits": np.where(secret, f"secret ({covered})", pd.Series(faits).map(lambda v: cell_count(v))),
            "taux": rate_text(rates["taux_pour_mille"].astype(float), secret),
            "population": rates["population"].map(lambda v: cell_count(v)).to_numpy(),
            "fill": colours,
        },
        index=rates.index,
    )
    fields = {
        "nom": area_label,
        "code": "Code INSEE" if area_label == "Commune" else "Code",
        "population": base_label,
        "faits": "Faits",
        "taux": "Taux brut",
    }
    if "ic_bas" in rates:
        interval = [
            f"{cell_decimal(lo, 2)} – {cell_decimal(hi, 2)} ‰" + (" (peu fiable)" if flag else "")
            if np.isfinite(hi)
            else "—"
            for lo, hi, flag in zip(rates["ic_bas"], rates["ic_haut"], rates["peu_fiable"], strict=True)
        ]
        props["intervalle"] = np.where(secret, "secret", interval)
        fields["intervalle"] = "Intervalle à 95 %"
    if "taux_lisse" in rates:
        props["lisse"] = rate_text(rates["taux_lisse"].astype(float), secret)
        fields["lisse"] = "Taux lissé"
    lm = commune_layer_map(props, display_geometry, fields=fields, base=base, area_label=area_label)
    labels, class_cols = class_legend(breaks, palette, classes)
    first = ["0 fait"] if value_column == "taux_pour_mille" else ["pas de taux"]
    items, cols = [*first, *labels], [ZERO_COLOUR, *class_cols]
    if hide_secret and secret.any():
        items.append(f"secret statistique ({covered} faits)")
        cols.append(SECRET_COLOUR)
    return lm.with_legend(legend_html(title, items, cols))


def change_map(
    table: pd.DataFrame,
    communes: pd.DataFrame,
    display_geometry: gpd.GeoSeries,
    *,
    classes: np.ndarray,
    base: str = "plan_ign",
    title: str = "Évolution des faits",
    zones: gpd.GeoDataFrame | None = None,
    area_label: str = "Commune",
) -> LayerMap:
    """Communes (or EPCI) coloured by significant change (rise, fall, none), tooltips escaped.

    Parameters
    ----------
    table : DataFrame
        A commune comparison from :func:`analysis.rate_tests.comparison_from_counts`
        (``cle`` = commune code).
    communes : DataFrame
        Communes (``code``, ``nom``), indexed like ``display_geometry``.
    display_geometry : GeoSeries
        Simplified commune geometry (EPSG:4326).
    base : str
        Base map key.
    classes : ndarray of str
        The class of each commune, in the order of ``communes``
        (:func:`analysis.rate_tests.change_classes_from_comparison`: ``hausse``, ``baisse``,
        ``stable`` or ``secret``, whose counts and change are not shown).
    title : str
        Legend title.
    zones : GeoDataFrame, optional
        Priority zones (``rang``, ``communes``) outlined on top.
    area_label : str, default "Commune"
        What a polygon is (« EPCI »), the tooltip's first field.
    """
    t = table.set_index("cle").reindex(communes["code"].to_numpy())
    cls = np.asarray(classes, dtype=object)
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
        "nom": area_label,
        "faits": "Faits (période suivie)",
        "reference": "Faits (référence)",
        "evolution": "Évolution",
        "ic": "IC 95 % du rapport",
        "sens": "Changement",
    }
    lm = commune_layer_map(props, display_geometry, fields=fields, base=base, area_label=area_label)
    keys = [k for k in CHANGE_COLOURS if k != "secret" or secret.any()]
    labels, colours = [CHANGE_LABELS[k] for k in keys], [CHANGE_COLOURS[k] for k in keys]
    if zones is not None and not zones.empty:
        z = pd.DataFrame(
            {
                "zone": zones["rang"].map(lambda r: f"Zone prioritaire n° {int(r)}").to_numpy(),
                "communes": zones["communes"].astype(str).map(html_text).to_numpy(),
            }
        )
        lm = lm.with_layer(
            Layer(
                name="Zones prioritaires",
                geometry=gpd.GeoSeries(zones.geometry.to_crs("EPSG:4326").to_numpy(), crs="EPSG:4326"),
                props=z,
                fields={"zone": "Zone", "communes": "Communes"},
                color="#000000",
                weight=2.5,
            )
        )
        labels.append("zone prioritaire (contour)")
        colours.append("transparent")
    return lm.with_legend(legend_html(title, labels, colours))
