"""The video-protection sheet for the mayor: a PDF with the sites, their map and the method.

The référent sûreté hands it over: parameters, key figures, a static map drawn offline
(communes, coverage circles, numbered sites), the list of sites with their coordinates,
and the method notes the page shows. It is an export: it takes the site table *after*
:func:`analysis.siting_publication.published_sites`, so no count the secrecy rule hides is printed, and
no incident point is drawn.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.siting import HIGHS_MAX_NNZ
from analysis.siting_base import EXISTING_SITE, NEW_SITE
from core.formatting import fmt_count, fmt_datetime, fmt_decimal, fmt_number, fmt_percent
from core.settings import SETTINGS
from geo.candidates import MAX_LATTICE_SITES
from rendering.maps.streets import STREET_COLOURS
from rendering.report import SYNTHETIC_WARNING, a4_pdf_from_story, draw_scale_bar, pdf_styles, png_from_figure

#: Method notes, shared by the page (markdown) and the PDF: (title, text).
SITING_METHOD_NOTES: tuple[tuple[str, str], ...] = (
    (
        "Couverture",
        "un fait est couvert s'il est à moins du rayon choisi d'une caméra. Le champ de vision réel "
        "(obstacles, orientation, éclairage) n'est pas modélisé : la liste est un point de départ pour "
        "la visite de terrain du référent sûreté, pas un plan d'implantation.",
    ),
    (
        "Sites candidats",
        "le maillage régulier ne garde que les nœuds à moins du rayon d'au moins un fait (ailleurs une "
        "caméra ne verrait rien) ; son espacement n'est élargi qu'au-delà de "
        f"{fmt_count(MAX_LATTICE_SITES)} nœuds. Le réseau routier du département (quand il en a un, le choix "
        "par défaut) donne les carrefours (trois rues ou plus) et un point tous les 100 m le long des grands "
        "axes (importance 1 à 3).",
    ),
    (
        "Emplacement",
        "« angle rue X / rue Y » pour un site à moins de 30 m d'un carrefour de deux rues nommées ; sinon la "
        "rue nommée la plus proche (à moins de 150 m) et, à moins de 200 m le long d'elle, l'angle le plus "
        "proche. Les coordonnées WGS84 restent dans la liste (et Lambert-93 dans l'export CSV).",
    ),
    (
        "Nombre de caméras donné",
        "la demande pondérée couverte est maximisée (problème de couverture maximale). Le calcul part "
        "d'une solution gloutonne améliorée par échanges, puis cherche l'optimum par séparation et "
        "évaluation (relaxations linéaires résolues par HiGHS). Écart prouvé : (borne − solution) / "
        "borne, où la borne est une couverture qu'aucun choix de caméras ne peut dépasser ; 0 % "
        "signifie que la solution est optimale. Très grands secteurs (plus de "
        f"{fmt_count(HIGHS_MAX_NNZ)} liaisons "
        "fait–site) : glouton + échanges et borne lagrangienne.",
    ),
    (
        "Couverture visée",
        "le plus petit nombre de nouvelles caméras qui l'atteint. « Prouvé » signifie qu'aucun choix "
        "avec une caméra de moins n'y parvient.",
    ),
    (
        "Caméras existantes",
        "toujours conservées ; la demande qu'elles couvrent est comptée d'abord.",
    ),
    (
        "Rang et faits ajoutés",
        "les sites sont classés par gain marginal : chacun compte les faits qu'il couvre en plus des "
        f"sites mieux classés. Les effectifs de 1 à {SETTINGS.privacy_threshold} (et ceux qui permettraient de les retrouver) sont "
        "remplacés par « secret » dans les exports.",
    ),
    (
        "Courbe de couverture",
        "choix gloutons emboîtés (chaque point ajoute une caméra aux précédentes), à au moins 63 % "
        "(1 − 1/e) de l'optimum pour chaque nombre de caméras.",
    ),
)


def method_notes_markdown() -> str:
    """The method notes as a markdown list (the page's « Méthode et limites »)."""
    return "\n".join(f"- **{title}** : {text}" for title, text in SITING_METHOD_NOTES)


def siting_map_png(
    sites: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    radius: float,
    area: shapely.Geometry | None = None,
    streets: gpd.GeoDataFrame | None = None,
    dpi: int = 150,
) -> bytes:
    """PNG of the sites with their coverage circles over the streets and the commune outlines.

    Drawn with matplotlib only (no tiles, no network) in the metric CRS of ``communes``,
    framed on the sites (or, without sites, on the study area or the communes), with a scale
    bar. New sites are numbered by rank; existing cameras are grey. With ``streets``, the
    roads in the frame are drawn by importance and the names of the longest named ones
    written along them.

    Parameters
    ----------
    sites : GeoDataFrame
        From :func:`analysis.siting_adapter.sites_from_geodataframes` (``rang``, ``statut``).
    communes : GeoDataFrame
        Commune polygons, metric CRS (``nom``).
    radius : float
        Coverage radius, metres.
    area : shapely geometry, optional
        Study area in the CRS of ``communes``, outlined.
    streets : GeoDataFrame, optional
        Road segments (``nom``, ``importance``), any CRS.
    dpi : int
        Resolution.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    sites = sites.to_crs(communes.crs)
    fig = Figure(figsize=(7.0, 6.2), dpi=dpi)
    ax = fig.add_axes((0.0, 0.08, 1.0, 0.88))
    if len(sites):  # zoomed on the sites: the mayor reads streets, not the whole commune
        frame = shapely.union_all(sites.geometry.buffer(radius).to_numpy())
    elif area is not None:
        frame = area
    else:
        frame = shapely.union_all(communes.geometry.to_numpy())
    minx, miny, maxx, maxy = shapely.buffer(frame, radius).bounds
    if max(maxx - minx, maxy - miny) < MIN_FRAME_M:  # one site: a few blocks around it
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        minx, miny, maxx, maxy = (
            cx - MIN_FRAME_M / 2,
            cy - MIN_FRAME_M / 2,
            cx + MIN_FRAME_M / 2,
            cy + MIN_FRAME_M / 2,
        )
    pad = 0.04 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    # Widened (or heightened) to the drawing's proportions: a narrow frame (sites strung north
    # to south) filled a fifth of the page's width, with a scale bar of 1 km.
    aspect = (fig.get_figwidth() * 1.0) / (fig.get_figheight() * 0.88)
    width, height = maxx - minx, maxy - miny
    if width < aspect * height:
        grow = (aspect * height - width) / 2
        minx, maxx = minx - grow, maxx + grow
    else:
        grow = (width / aspect - height) / 2
        miny, maxy = miny - grow, maxy + grow
    view = communes.cx[minx:maxx, miny:maxy]
    view.plot(ax=ax, facecolor="#f4f4f4", edgecolor="#9a9a9a", linewidth=0.5)
    if streets is not None and len(streets):
        _draw_streets(ax, streets.to_crs(communes.crs), (minx, miny, maxx, maxy))
    if len(view) <= 40 and streets is None:
        for name, pt in zip(view["nom"], view.geometry.representative_point(), strict=True):
            if minx < pt.x < maxx and miny < pt.y < maxy:
                ax.annotate(str(name), (pt.x, pt.y), fontsize=6, color="#555555", ha="center")
    if area is not None:
        gpd.GeoSeries([area], crs=communes.crs).boundary.plot(
            ax=ax, color="#e67e00", linewidth=1.2, linestyle="--"
        )
    for status, colour in ((EXISTING_SITE, "#777777"), (NEW_SITE, "#000091")):
        part = sites[sites["statut"] == status]
        if len(part):
            part.buffer(radius).plot(ax=ax, facecolor=colour, alpha=0.18, edgecolor=colour, linewidth=0.6)
            part.plot(ax=ax, color=colour, markersize=6)
    new = sites[sites["statut"] == NEW_SITE]
    if len(new) <= 60:
        for rank, pt in zip(new["rang"], new.geometry, strict=True):
            ax.annotate(
                str(int(rank)),
                (pt.x, pt.y),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6.5,
                fontweight="bold",
                color="#000091",
            )
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_axis_off()
    ax.set_aspect("equal")
    draw_scale_bar(ax, (minx, miny, maxx, maxy))
    handles = [
        Line2D([], [], marker="o", color="#000091", linestyle="", label="nouveau site (numéro : rang)"),
        Patch(facecolor="#000091", alpha=0.18, edgecolor="#000091", label=f"champ couvert ({radius:.0f} m)"),
        Line2D([], [], marker="o", color="#777777", linestyle="", label="caméra existante"),
    ]
    if area is not None:
        handles.append(Line2D([], [], color="#e67e00", linestyle="--", label="secteur étudié"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    return png_from_figure(fig, dpi=dpi)


#: The smallest side of the sheet's map (metres).
MIN_FRAME_M = 900.0
#: Line width (points) of the streets on the sheet's map, by importance (their colours: the app's maps').
STREET_WIDTHS_PT = {1: 2.6, 2: 2.1, 3: 1.7, 4: 1.2, 5: 0.8}


def _draw_streets(ax, streets: gpd.GeoDataFrame, frame: tuple[float, float, float, float]) -> None:
    """The streets within ``frame``, main roads on top, and the names of the longest named ones."""
    box = shapely.box(*frame)
    inside = streets[streets.intersects(box)]
    if inside.empty:
        return
    for importance in (5, 4, 3, 2, 1):
        part = inside[inside["importance"] == importance]
        if len(part):
            width, colour = STREET_WIDTHS_PT[importance], STREET_COLOURS[importance]
            part.plot(ax=ax, color=colour, linewidth=width, zorder=1)
    clipped = inside.assign(geometry=inside.geometry.intersection(box))
    named = clipped[clipped["nom"].notna() & (clipped.geometry.length > 0)]
    if named.empty:
        return
    length = named.geometry.length.groupby(named["nom"]).sum().sort_values(ascending=False)
    for name in length.index[:STREET_LABELS]:
        seg = named[named["nom"] == name]
        longest = seg.geometry.iloc[int(np.argmax(seg.geometry.length.to_numpy()))]
        mid = longest.interpolate(0.5, normalized=True)
        a = longest.interpolate(0.45, normalized=True)
        b = longest.interpolate(0.55, normalized=True)
        angle = float(np.degrees(np.arctan2(b.y - a.y, b.x - a.x)))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        ax.annotate(
            str(name),
            (mid.x, mid.y),
            fontsize=5.5,
            color="#444444",
            ha="center",
            va="center",
            rotation=angle,
            rotation_mode="anchor",
            zorder=2,
        )


#: Street names written on the sheet's map, at most.
STREET_LABELS = 14


@dataclass
class SitingSheet:
    """What the sheet says besides the site table."""

    territory: str
    area: str
    dataset: str
    synthetic: bool
    parameters: list[tuple[str, str]]
    figures: list[tuple[str, str]]
    map_png: bytes
    generated: dt.datetime = field(default_factory=dt.datetime.now)
    streets: str = ""  # what the streets drawn are (source, date), under the map


#: Columns of the site table printed in the PDF, with their headers.
SHEET_COLUMNS: dict[str, str] = {
    "rang": "Rang",
    "statut": "Statut",
    "adresse": "Emplacement",
    "commune": "Commune",
    "faits": "Faits ajoutés",
    "couverture_cumulee": "Couv. cumulée",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "x_lambert93": "X Lambert-93",
    "y_lambert93": "Y Lambert-93",
}


def _cell(column: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if column == "couverture_cumulee":
        return fmt_percent(float(value), 1)
    if column in ("latitude", "longitude"):
        return fmt_decimal(float(value), 6)
    if column in ("x_lambert93", "y_lambert93"):
        return fmt_number(float(value), 0)
    if column == "rang":
        return "–" if int(value) == 0 else str(int(value))
    if column == "faits":
        return fmt_number(float(value), 0)
    return str(value)


def pdf_sheet_from_sites(table: pd.DataFrame, sheet: SitingSheet) -> bytes:
    """The sheet (A4 PDF): parameters, key figures and map, then the list of sites and the method.

    Parameters
    ----------
    table : DataFrame
        From :func:`rendering.tables.site_table_from_sites` on *published* sites.
    sheet : SitingSheet
        Territory, parameters, figures and the map (:func:`siting_map_png`).

    Returns
    -------
    bytes
        The PDF.
    """
    from reportlab.lib import colors
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, PageBreak, Paragraph, Spacer, Table, TableStyle

    e = html.escape
    styles = pdf_styles(small_size=7.5)
    base, small, h1, h2, warn = styles["base"], styles["small"], styles["h1"], styles["h2"], styles["warn"]
    style = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeff")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def pairs(rows: list[tuple[str, str]]) -> Table:
        t = Table(
            [[Paragraph(e(a), small), Paragraph(e(b), small)] for a, b in rows], colWidths=[5 * cm, 12 * cm]
        )
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb"))]))
        return t

    story = [
        Paragraph(e(f"Vidéoprotection — proposition d'emplacements — {sheet.territory}"), h1),
        Paragraph(
            e(
                f"Fiche établie le {fmt_datetime(sheet.generated)} ; secteur : {sheet.area} ; "
                f"jeu de données : {sheet.dataset}."
            ),
            base,
        ),
    ]
    if sheet.synthetic:
        story += [Spacer(1, 4), Paragraph(e(SYNTHETIC_WARNING), warn)]
    story += [Paragraph("Paramètres", h2), pairs(sheet.parameters)]
    story += [Paragraph("Résultat", h2), pairs(sheet.figures)]
    story += [
        Paragraph("Carte des emplacements", h2),
        Image(io.BytesIO(sheet.map_png), width=13 * cm, height=13 * cm * 6.2 / 7.0),
    ]
    if sheet.streets:
        story.append(Paragraph(e(sheet.streets), small))
    story += [
        PageBreak(),
        Paragraph("Sites proposés", h2),
    ]
    columns = [c for c in SHEET_COLUMNS if c in table.columns]
    if "adresse" in columns:  # the place by its streets; Lambert-93 stays in the CSV export
        columns = [c for c in columns if c not in ("x_lambert93", "y_lambert93")]
    rows = [[Paragraph(e(SHEET_COLUMNS[c]), small) for c in columns]]
    rows += [[Paragraph(e(_cell(c, r[c])), small) for c in columns] for _, r in table.iterrows()]
    widths = {
        "rang": 1.3,
        "statut": 1.7,
        "adresse": 5.1,
        "commune": 3.0,
        "faits": 1.5,
        "couverture_cumulee": 1.7,
        "x_lambert93": 2.1,
        "y_lambert93": 2.1,
    }
    t = Table(rows, colWidths=[widths.get(c, 1.9) * cm for c in columns], repeatRows=1)
    t.setStyle(style)
    story += [t, Paragraph("Méthode et limites", h2)]
    story += [Paragraph(f"• <b>{e(title)}</b> : {e(text)}", base) for title, text in SITING_METHOD_NOTES]

    return a4_pdf_from_story(
        story,
        title=f"Vidéoprotection — {sheet.territory}",
        footer=f"{sheet.territory} — vidéoprotection",
        synthetic=sheet.synthetic,
    )
