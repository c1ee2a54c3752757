"""The product's charts, as Altair specifications built from the tables the use cases return.

Every function takes the tables and values it draws and nothing else, so a chart is fully
determined by its arguments: ``ui.charts.show_chart`` renders each one once per content and
shares it between sessions. Titles, axes and tooltips are in French; the colours are those of
the State's design system (blue France ``#000091``).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

BLUE = "#000091"
LIGHT_BLUE = "#6a6af4"
ORANGE = "#e67e00"
GREEN = "#2a9d8f"
RED = "#c9191e"

#: Vega-Lite's number and date locale for French (d3-format / d3-time-format definitions, as
#: CLDR fr_FR writes them: decimal comma, narrow no-break space between thousands and before
#: « % »). Every chart's specification carries it (:func:`french_spec`): without it Vega-Lite
#: writes axes and tooltips the English way (``1,000``, ``0.5``).
VEGA_LOCALE: dict[str, object] = {
    "number": {
        "decimal": ",",
        "thousands": "\u202f",
        "grouping": [3],
        "currency": ["", "\u00a0€"],
        "percent": "\u202f%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": [
            "janvier", "février", "mars", "avril", "mai", "juin",
            "juillet", "août", "septembre", "octobre", "novembre", "décembre",
        ],
        "shortMonths": [
            "janv.", "févr.", "mars", "avr.", "mai", "juin",
            "juil.", "août", "sept.", "oct.", "nov.", "déc.",
        ],
    },
}  # fmt: skip


#: Labels read whole: legends are never cut (Vega-Lite's default cuts at 160 px: « même période
#: un an plu… »), vertical axes up to 240 px (« Cambriolages de logement », not « Cambriolages de … »).
READABLE_LABELS: dict[str, dict[str, int]] = {"legend": {"labelLimit": 0}, "axisY": {"labelLimit": 240}}


def french_spec(spec: dict) -> dict:
    """A Vega-Lite specification (a dict) with :data:`VEGA_LOCALE` and :data:`READABLE_LABELS`
    in its configuration (a chart's own settings win)."""
    config = dict(spec.get("config") or {})
    config["locale"] = VEGA_LOCALE
    for part, settings in READABLE_LABELS.items():
        config[part] = {**settings, **(config.get(part) or {})}
    return {**spec, "config": config}


def bars_from_counts(counts: pd.DataFrame, label: str, colour: str = BLUE) -> alt.Chart:
    """Horizontal bars of a ``categorie``/``faits``/``part`` table, longest first.

    Parameters
    ----------
    counts : DataFrame
        ``categorie``, ``faits``, ``part`` (share in 0–1).
    label : str
        What a category is (``"infraction"``, ``"lieu"``), for the tooltip.
    colour : str
        The bars' colour.

    Returns
    -------
    alt.Chart
    """
    return (
        alt.Chart(counts)
        .mark_bar(color=colour)
        .encode(
            x=alt.X("faits:Q", title="faits"),
            y=alt.Y("categorie:N", sort="-x", title=None),
            tooltip=[alt.Tooltip("categorie:N", title=label), "faits:Q", alt.Tooltip("part:Q", format=".1%")],
        )
    )


def line_from_monthly(monthly: pd.DataFrame, y_title: str = "faits") -> alt.Chart:
    """A monthly series (``mois``, ``faits``) as a line with points.

    Parameters
    ----------
    monthly : DataFrame
        ``mois`` (dates), ``faits``.
    y_title : str
        The vertical axis' title.

    Returns
    -------
    alt.Chart
    """
    return (
        alt.Chart(monthly)
        .mark_line(point=True, color=BLUE)
        .encode(
            x=alt.X("mois:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("faits:Q", title=y_title),
            tooltip=[alt.Tooltip("mois:T", format="%m/%Y"), "faits:Q"],
        )
    )


def heatmap_from_hour_weekday(table: pd.DataFrame, weekdays: Sequence[str]) -> alt.Chart:
    """Facts by day of week and hour (``jour``, ``heure``, ``faits``) as a heat map.

    Parameters
    ----------
    table : DataFrame
        ``jour`` (names), ``heure`` (0–23), ``faits`` (aoristic: may be fractional).
    weekdays : sequence of str
        The days in display order, Monday first.

    Returns
    -------
    alt.Chart
    """
    return (
        alt.Chart(table)
        .mark_rect()
        .encode(
            x=alt.X("heure:O", title="heure"),
            y=alt.Y("jour:N", sort=list(weekdays), title=None),
            color=alt.Color("faits:Q", scale=alt.Scale(scheme="orangered"), title="faits"),
            tooltip=["jour:N", "heure:O", alt.Tooltip("faits:Q", format=".1f")],
        )
    )


def line_from_yearly(series: pd.DataFrame) -> alt.Chart:
    """A yearly series (``annee``, ``nombre``) as a line with points.

    Parameters
    ----------
    series : DataFrame
        ``annee``, ``nombre``.

    Returns
    -------
    alt.Chart
    """
    return (
        alt.Chart(series)
        .mark_line(point=True, color=BLUE)
        .encode(
            x=alt.X("annee:O", title="année"),
            y=alt.Y("nombre:Q", title="nombre"),
            tooltip=["annee:O", "nombre:Q"],
        )
    )


def trend_from_periods(spans: pd.DataFrame, long: pd.DataFrame, split: bool) -> alt.LayerChart:
    """The follow-up's monthly trend over the compared periods shaded behind it.

    Parameters
    ----------
    spans : DataFrame
        ``periode``, ``debut``, ``fin``: the periods (at most three), shaded.
    long : DataFrame
        ``mois``, ``serie``, ``faits``: one line per series.
    split : bool
        Whether there are several series (they are then told apart by their dashes).

    Returns
    -------
    alt.LayerChart
    """
    bands = (
        alt.Chart(spans)
        .mark_rect(opacity=0.18)
        .encode(
            x="debut:T",
            x2="fin:T",
            color=alt.Color(
                "periode:N",
                title="Périodes",
                scale=alt.Scale(
                    domain=list(spans["periode"]), range=[BLUE, ORANGE, LIGHT_BLUE][: len(spans)]
                ),
            ),
        )
    )
    line = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("mois:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("faits:Q", title="faits par mois"),
            strokeDash=alt.StrokeDash("serie:N", title=None) if split else alt.value([1, 0]),
            tooltip=[alt.Tooltip("mois:T", format="%m/%Y"), "serie:N", "faits:Q"],
        )
    )
    return alt.layer(bands, line).resolve_scale(color="independent")


def evaluation_from_monthly(monthly: pd.DataFrame, action_start: pd.Timestamp) -> alt.LayerChart:
    """An action's evaluation: monthly facts per zone, with the action's start as a rule.

    Parameters
    ----------
    monthly : DataFrame
        ``mois``, ``zone`` (treated, buffer, control), ``faits``.
    action_start : Timestamp
        The first day of the action.

    Returns
    -------
    alt.LayerChart
    """
    line = (
        alt.Chart(monthly)
        .mark_line(point=True)
        .encode(
            x=alt.X("mois:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("faits:Q", title="faits par mois"),
            color=alt.Color("zone:N", title=None, scale=alt.Scale(range=[BLUE, ORANGE, GREEN])),
            tooltip=[alt.Tooltip("mois:T", format="%m/%Y"), "zone:N", "faits:Q"],
        )
    )
    start = pd.DataFrame({"debut": [pd.Timestamp(action_start)], "libelle": ["début de l'action"]})
    rule = alt.Chart(start).mark_rule(color=RED, strokeDash=[6, 3]).encode(x="debut:T", tooltip=["libelle:N"])
    return alt.layer(line, rule)


def heatmap_from_near_repeat(
    heat: pd.DataFrame, duration_order: Sequence[str], distance_order: Sequence[str]
) -> alt.LayerChart:
    """The near-repeat table: observed over expected pairs per distance and time band.

    Parameters
    ----------
    heat : DataFrame
        ``distance``, ``duree``, ``observees``, ``attendues``, ``rapport``, ``p_valeur``,
        ``texte`` (the cell's label).
    duration_order, distance_order : sequence of str
        The bands in display order.

    Returns
    -------
    alt.LayerChart
    """
    base = alt.Chart(heat).encode(
        x=alt.X("duree:N", sort=list(duration_order), title="écart entre les deux faits"),
        y=alt.Y("distance:N", sort=list(distance_order), title="distance entre les deux faits"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "rapport:Q", title="observé / attendu", scale=alt.Scale(scheme="orangered", domainMin=0)
        ),
        tooltip=[
            alt.Tooltip("distance:N", title="distance"),
            alt.Tooltip("duree:N", title="écart"),
            alt.Tooltip("observees:N", title="paires observées"),
            alt.Tooltip("attendues:N", title="paires attendues"),
            alt.Tooltip("rapport:Q", title="rapport", format=".2f"),
            alt.Tooltip("p_valeur:Q", title="Probabilité par hasard (p)", format=".3f"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text="texte:N")
    return alt.layer(cells, text)


def curves_from_concentration(curves: pd.DataFrame) -> alt.LayerChart:
    """Concentration curves (share of facts against share of places) over the diagonal.

    Parameters
    ----------
    curves : DataFrame
        ``infraction``, ``part_lieux``, ``part_faits`` (shares in 0–1).

    Returns
    -------
    alt.LayerChart
    """
    diagonal = (
        alt.Chart(curves.drop_duplicates("part_lieux"))
        .mark_line(color="#999", strokeDash=[4, 4])
        .encode(x="part_lieux:Q", y="part_lieux:Q")
    )
    curve = (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X(
                "part_lieux:Q", title="part des lieux (les plus touchés d'abord)", axis=alt.Axis(format="%")
            ),
            y=alt.Y("part_faits:Q", title="part des faits", axis=alt.Axis(format="%")),
            color=alt.Color("infraction:N", title=None),
        )
    )
    return alt.layer(diagonal, curve)


def coverage_from_curve(curve: pd.DataFrame) -> alt.Chart:
    """Camera siting: the share of demand covered against the number of new cameras.

    Parameters
    ----------
    curve : DataFrame
        ``cameras``, ``couverture`` (share in 0–1).

    Returns
    -------
    alt.Chart
    """
    return (
        alt.Chart(curve)
        .mark_line(point=True, color=BLUE)
        .encode(
            x=alt.X("cameras:Q", title="nouvelles caméras"),
            y=alt.Y("couverture:Q", axis=alt.Axis(format="%"), title="demande couverte"),
            tooltip=["cameras:Q", alt.Tooltip("couverture:Q", format=".1%")],
        )
    )


def curves_from_backtest(curves: pd.DataFrame) -> alt.Chart:
    """The hit rate–area curves of the back-test: one line per baseline and share method.

    Parameters
    ----------
    curves : DataFrame
        Hit rate in % (columns: candidates) by area share in % (index), as
        :func:`usecases.backtest.backtest_view` gives it.

    Returns
    -------
    alt.Chart
    """
    long = curves.rename_axis("part").reset_index().melt("part", var_name="candidat", value_name="taux")
    return (
        alt.Chart(long.dropna(subset=["taux"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("part:Q", title="part du territoire (%)"),
            y=alt.Y("taux:Q", title="taux de réussite (%)"),
            color=alt.Color(
                "candidat:N", title=None, legend=alt.Legend(orient="bottom", columns=2, labelLimit=0)
            ),
            tooltip=[
                alt.Tooltip("candidat:N", title="méthode ou référence"),
                alt.Tooltip("part:Q", title="part du territoire (%)", format=",.2f"),
                alt.Tooltip("taux:Q", title="taux de réussite (%)", format=",.1f"),
            ],
        )
        .properties(height=320)
    )
