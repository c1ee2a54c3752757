"""Zones prioritaires: hot spots and density clusters turned into ranked zones, evaluated."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._zones_repeats import (
    backtest_section,
    concentration_section,
    hot_streets_section,
    near_repeat_section,
)
from core.formatting import MISSING
from core.settings import SETTINGS
from rendering.maps import emerging_map
from ui import cache, prefetch
from ui.access import export_button
from ui.columns import column_config_from_frame, show_metrics
from ui.guard import guarded
from ui.inputs import CHOOSE, decimal_input
from ui.layer_map import show_rendered_layer_map, zones_layer_map
from ui.maps import show_map
from ui.sidebar import Context, current_context, dataset_or_notice
from ui.tables import show_table
from usecases.zones import (
    CONFIDENCE,
    DEFAULT_SEVERITY,
    METHOD_NOTE,
    METHODS,
    ZONE_DEFAULTS,
    ZoneSettings,
    zones_settings_from_values,
)

Z = ZONE_DEFAULTS


#: The parameters each method reads (the panel shows the chosen method's only; the others keep
#: their defaults, which the back-test uses when it runs every method).
METHOD_PARAMETERS: dict[str, tuple[str, ...]] = {
    "recurrent": ("share", "half_life", "close_gaps"),
    "prospectif": ("share", "radius", "weeks", "close_gaps"),
    "densite": ("share", "close_gaps"),
    "automatique": ("share", "half_life", "radius", "weeks", "close_gaps"),
    "local": ("inner", "outer", "ratio", "confidence", "min_incidents"),
    "gi": ("band", "confidence", "min_incidents"),
    "dbscan": ("eps", "min_samples", "min_incidents"),
    "hdbscan": ("eps", "min_incidents"),
}


def _settings() -> tuple[ZoneSettings, dict[str, float], float | None]:
    with st.expander("Méthode et paramètres", expanded=False):
        # The method's account (what it does, how it did on real data) is read by those who open
        # this panel: outside, it pushed the map below the first screen at 1024 x 768.
        st.caption(METHOD_NOTE)
        c1, c2, c3 = st.columns([3, 1, 1])
        method = c1.selectbox(
            "Méthode",
            list(METHODS),
            list(METHODS).index(Z["method"]),
            format_func=METHODS.get,
            key="z_method",
            placeholder=CHOOSE,
        )
        cell = c2.number_input("Maille (m)", 50, 1000, int(Z["cell"]), 25, key="z_cell")
        bw = c3.number_input(
            "Largeur de bande de la carte de densité (m, 0 = automatique)", 0, 3000, 0, 25, key="z_bw"
        )
        used = METHOD_PARAMETERS.get(method, ())
        values = {name: Z[name] for name in ("share", "half_life", "radius", "weeks", "close_gaps", "inner",
                                              "outer", "ratio", "confidence", "min_incidents", "band", "eps",
                                              "min_samples")}  # fmt: skip
        cols = iter(st.columns(3) + st.columns(3))
        if "share" in used:
            values["share"] = decimal_input(
                next(cols),
                "Part du territoire couverte (%)",
                0.01,
                20.0,
                Z["share"],
                key="z_share",
                help="Ce qu'une patrouille peut couvrir : la superficie des zones (par exemple 0,1).",
            )
        if "half_life" in used:
            values["half_life"] = next(cols).number_input(
                "Mailles récurrentes : demi-vie (mois)", 1, 120, int(Z["half_life"]), 1, key="z_half_life"
            )
        if "radius" in used:
            values["radius"] = next(cols).number_input(
                "Prospectif : rayon (mailles)", 1, 20, Z["radius"], key="z_radius"
            )
        if "weeks" in used:
            values["weeks"] = next(cols).number_input(
                "Prospectif : mémoire (semaines)", 1, 52, Z["weeks"], key="z_weeks"
            )
        if "band" in used:
            values["band"] = next(cols).number_input(
                "Distance de voisinage Gi* (m)", 100, 3000, int(Z["band"]), 50, key="z_band"
            )
        if "inner" in used:
            values["inner"] = next(cols).number_input(
                "Excès local : rayon du disque (m)", 50, 2000, int(Z["inner"]), 25, key="z_inner"
            )
            values["outer"] = next(cols).number_input(
                "Excès local : rayon de l'anneau (m)", 100, 5000, int(Z["outer"]), 50, key="z_outer"
            )
            values["ratio"] = decimal_input(
                next(cols),
                "Excès local : rapport minimal observé / attendu",
                1.0,
                20.0,
                Z["ratio"],
                key="z_ratio",
                decimals=1,
            )
        if "eps" in used:
            values["eps"] = next(cols).number_input(
                "Rayon DBSCAN (m)" if method == "dbscan" else "Rayon de remplissage des agrégats (m)",
                50,
                2000,
                int(Z["eps"]),
                25,
                key="z_eps",
            )
        if "min_samples" in used:
            values["min_samples"] = next(cols).number_input(
                "Faits minimum par noyau DBSCAN", 2, 500, Z["min_samples"], key="z_min_samples"
            )
        if "confidence" in used:
            values["confidence"] = next(cols).selectbox(
                "Confiance (après correction FDR)",
                list(CONFIDENCE),
                list(CONFIDENCE).index(Z["confidence"]),
                format_func=CONFIDENCE.get,
                key="z_conf",
                placeholder=CHOOSE,
            )
        if "min_incidents" in used:
            values["min_incidents"] = next(cols).number_input(
                "Faits minimum par zone", 6, 1000, Z["min_incidents"], key="z_min"
            )
        if "close_gaps" in used:
            values["close_gaps"] = st.checkbox(
                "Combler les trous d'une maille entre mailles retenues",
                Z["close_gaps"],
                key="z_close_gaps",
                help="Moins de zones, plus grandes ; sur des faits réels (Toronto, 0,1 % du territoire), elles "
                "captent de 5 à 12 % de faits en moins qu'à cellules libres, à superficie égale.",
            )
        st.caption("Poids de gravité des infractions dans le score (modifiables) :")
        weights = st.data_editor(
            pd.DataFrame({"infraction": list(DEFAULT_SEVERITY), "poids": list(DEFAULT_SEVERITY.values())}),
            hide_index=True,
            placeholder=MISSING,  # a missing cell: not « None »
            disabled=["infraction"],
            column_config={
                "infraction": st.column_config.TextColumn("Infraction"),
                "poids": st.column_config.NumberColumn("Poids", min_value=0.0, format="localized"),
            },
            key="z_weights",
        )
    settings = zones_settings_from_values(method=method, cell=cell, **values)
    return (
        settings,
        {str(k): float(v) for k, v in zip(weights["infraction"], weights["poids"], strict=True)},
        (float(bw) or None),
    )


def _emerging_section(ctx: Context, settings: ZoneSettings) -> None:
    c1, c2 = st.columns(2)
    freq = c1.selectbox(
        "Pas de temps",
        ["QS", "MS"],
        format_func={"QS": "Trimestre", "MS": "Mois"}.get,
        key="e_freq",
        placeholder=CHOOSE,
    )
    c2.caption(f"Maille {settings.cell:.0f} m, voisinage {settings.band:.0f} m (paramètres ci-dessus).")
    cells, counts = cache.emerging(ctx.selection.undated(), settings, freq)
    show_table(st, counts, hide_index=True)
    show_map(
        "emerging_map",
        emerging_map,
        cells,
        cache.display_geometry(ctx.departement),
        base=ctx.base_map,
        height=480,
    )
    st.caption(
        "Définitions d'ArcGIS « Emerging Hot Spot Analysis » ; tendance : test de Mann-Kendall sur les z de Gi*."
    )


def _zone_columns(table: pd.DataFrame) -> dict[str, object]:
    """French headers and formats of the zone table's columns."""
    num = st.column_config.NumberColumn
    offences = {c: st.column_config.Column(c[2:]) for c in table.columns if c.startswith("n_")}
    return column_config_from_frame(
        table,
        nom=st.column_config.TextColumn(
            "Zone", help="Son rang et la commune qui en porte la plus grande part."
        ),
        id=st.column_config.TextColumn(
            "Identifiant",
            help="Stable d'une période à l'autre tant que la zone ne bouge pas (suivi bimestriel).",
        ),
        score=num("Score", format="%.1f", help="Faits pondérés par la gravité des infractions.")
        if pd.api.types.is_numeric_dtype(table.get("score", pd.Series(dtype=float)))
        else st.column_config.Column("Score", help="Faits pondérés par la gravité des infractions."),
        superficie_km2=num("Superficie (km²)", format="%.2f"),
        part_faits=num("Part des faits", format="percent"),
        part_superficie=num("Part du territoire (%)", format="%.3f"),
        faits_periode_precedente=st.column_config.Column("Faits, période précédente"),
        evolution=st.column_config.TextColumn("Évolution", help="Par rapport à la période précédente."),
        forces=st.column_config.TextColumn("Forces", help="Forces qui ont enregistré les faits de la zone."),
        communes=st.column_config.TextColumn("Communes"),
        **offences,
    )


def body() -> None:
    ctx: Context = current_context()
    st.title(f"Zones prioritaires — {ctx.departement_nom}")
    if not dataset_or_notice(ctx):
        return
    settings, severity, bandwidth = _settings()
    v = cache.zones(ctx.selection, settings, tuple(severity.items()), bandwidth, ctx.audience)
    if v.analysis.zones.empty:
        st.info(
            "Aucune zone ne ressort sur cette période avec ces paramètres : aucun secteur ne dépasse "
            "nettement son environnement. Élargissez la période ou essayez la méthode Gi* (qui fait "
            "aussi ressortir les centres urbains denses)."
        )
    show_metrics(v.metrics)
    show_rendered_layer_map(
        "zones_map",
        zones_layer_map(v, cache.display_geometry(ctx.departement), base=ctx.base_map),
        height=560,
        label="Carte des zones prioritaires (leur tableau est plus bas)",
    )
    st.caption(
        "Zones numérotées par rang (la méthode : « Méthode et paramètres » ci-dessus) sur la densité "
        "des faits (noyau gaussien), qui n'apparaît que là où au moins "
        f"{SETTINGS.privacy_threshold + 1} faits se concentrent (secret statistique)."
    )
    for text in v.captions:
        st.caption(text)
    st.subheader("Ces zones prédisent-elles ? Rétro-évaluation")
    if st.toggle(
        "Comparer les méthodes sur l'historique (zones tracées sur une fenêtre, évaluées sur la suivante)",
        key="bt_on",
    ):
        backtest_section(ctx, settings)
    else:
        prefetch.warm_clustering()  # its processes started while the analyst reads
    st.subheader("Points chauds émergents")
    if st.toggle(
        "Calculer les tendances sur tout le jeu de données (Gi* par pas de temps, Mann-Kendall)", key="e_on"
    ):
        _emerging_section(ctx, settings)
    st.subheader("Répétitions proches (cambriolages, véhicules)")
    if st.toggle("Calculer le test de Knox sur la période de la barre latérale", key="nr_on"):
        near_repeat_section(ctx)
    st.subheader("Concentration sur les lieux")
    if st.toggle("Calculer la concentration des faits sur les lieux", key="cc_on"):
        concentration_section(ctx)
    st.subheader("Rues les plus touchées")
    if st.toggle("Compter les faits par tronçon de rue (réseau routier du département)", key="hs_on"):
        hot_streets_section(ctx)
    st.subheader("Zones classées")
    show_table(st, v.table, hide_index=True, column_config=_zone_columns(v.table))
    st.caption(
        "Les exports appliquent toujours le secret statistique (effectifs de 1 à "
        f"{SETTINGS.privacy_threshold} et ceux qui permettraient de les retrouver)"
        + ("." if ctx.public_view else " ; le tableau ci-dessus les montre (vue interne).")
    )
    st.subheader("Exports")
    e1, e2, e3 = st.columns(3)
    export_button(
        e1, ctx.viewer, "Zones (GeoJSON)", v.export_geojson, "zones.geojson", "application/geo+json"
    )
    export_button(e2, ctx.viewer, "Zones (CSV)", v.export_csv, "zones.csv", "text/csv")
    export_button(
        e3, ctx.viewer, "Zones (GeoPackage)", v.export_gpkg, "zones.gpkg", "application/geopackage+sqlite3"
    )


guarded(body, page="zones")
