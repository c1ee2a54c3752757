"""The follow-up report for the préfet: PDF and HTML, with a static map drawn offline.

Everything printed comes from a :class:`analysis.followup.Followup`, formatted by the
same helpers the "Suivi" page uses, so the report shows the figures of the page. The
report is an export: the privacy rule always applies (secret rows never show a count).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.followup import DIMENSIONS, REFERENCE_LABELS, Followup
from core.formatting import (
    fmt_change,
    fmt_count,
    fmt_datetime,
    fmt_interval,
    fmt_pvalue,
)
from core.settings import SETTINGS
from rendering.change_classes import CHANGE_COLOURS, CHANGE_LABELS

#: The test columns as a reader who is not a statistician reads them (the letters kept for analysts).
P_LABEL = "Probabilité d'un tel écart par hasard (p)"
Q_LABEL = "Même probabilité, corrigée pour le nombre d'unités comparées (q)"


def totals_rows(followup: Followup) -> list[list[str]]:
    """Rows of the key-figures table (header first)."""
    rows = [
        ["Comparaison", "Période de référence", "Faits", "Référence", "Évolution", "IC 95 %", "Significatif"]
    ]
    for r in followup.totals.itertuples():
        if r.secret:  # a total of 1 to 5 incidents is never published
            rows.append([r.libelle, r.periode_reference, "secret", "secret", "secret", "secret", "–"])
            continue
        rows.append(
            [
                r.libelle,
                r.periode_reference,
                fmt_count(r.faits),
                fmt_count(r.faits_reference),
                fmt_change(r.evolution),
                fmt_interval(r.ic_bas, r.ic_haut),
                "oui" if r.significatif else "non",
            ]
        )
    return rows


def top_changes_rows(table: pd.DataFrame, *, limit: int = 10) -> list[list[str]]:
    """Rows (header first) of the significant changes of a comparison, published form."""
    rows = [["Unité", "Faits", "Référence", "Évolution", "IC 95 % du rapport", "Hasard (p)"]]
    sig = table[table["significatif"] & ~table["secret"]].head(limit)
    for r in sig.itertuples():
        rows.append(
            [
                r.libelle,
                fmt_count(r.faits),
                fmt_count(r.faits_reference),
                fmt_change(r.evolution),
                fmt_interval(r.ic_bas, r.ic_haut),
                fmt_pvalue(r.p_valeur),
            ]
        )
    return rows


def display_comparison(table: pd.DataFrame, *, hide_secret: bool = True) -> pd.DataFrame:
    """A comparison formatted for reading (French labels; secret rows say "secret")."""
    secret = table["secret"].to_numpy(dtype=bool) & hide_secret
    sens = {"hausse": "hausse significative", "baisse": "baisse significative", "stable": "—"}

    def hide(values: list[str]) -> list[str]:
        return ["secret" if s else v for v, s in zip(values, secret, strict=True)]

    return pd.DataFrame(
        {
            "Unité": table["libelle"].astype(str).to_numpy(),
            "Faits": hide([fmt_count(v) for v in table["faits"]]),
            "Référence": hide([fmt_count(v) for v in table["faits_reference"]]),
            "Évolution": hide([fmt_change(v) for v in table["evolution"]]),
            "IC 95 % du rapport": hide(
                [fmt_interval(a, b) for a, b in zip(table["ic_bas"], table["ic_haut"], strict=True)]
            ),
            P_LABEL: hide([fmt_pvalue(v) for v in table["p_valeur"]]),
            Q_LABEL: hide([fmt_pvalue(v) for v in table["q_valeur"]]),
            "Changement": ["secret" if s else sens[v] for v, s in zip(table["sens"], secret, strict=True)],
        },
        index=table.index,
    )


# -- the static map -------------------------------------------------------------------------
def draw_scale_bar(ax: object, bounds: tuple[float, float, float, float]) -> None:
    """A scale bar (a power of ten of metres, about a quarter of the width) in the lower left."""
    minx, miny, maxx, maxy = bounds
    length = 10 ** np.floor(np.log10(max((maxx - minx) / 4, 1.0)))
    x0, y0 = minx + (maxx - minx) * 0.03, miny + (maxy - miny) * 0.025
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=2)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + (maxy - miny) * 0.013, label, ha="center", fontsize=8)


def static_map_png(
    communes: gpd.GeoDataFrame,
    classes: np.ndarray,
    *,
    zones: gpd.GeoDataFrame | None = None,
    title: str = "",
    dpi: int = 150,
) -> bytes:
    """PNG of communes coloured by change class, with the priority zones outlined.

    Drawn with matplotlib only (no tiles, no network), in the CRS of ``communes``
    (metric), with a scale bar.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(7.0, 6.2), dpi=dpi)
    ax = fig.add_axes((0.0, 0.08, 1.0, 0.86))
    classes = np.asarray(classes, dtype=object)
    hatch = {"secret": "////"}
    for key, colour in CHANGE_COLOURS.items():
        part = communes[classes == key]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="#8a8a8a", linewidth=0.25, hatch=hatch.get(key))
    handles = [
        Patch(facecolor=CHANGE_COLOURS[k], edgecolor="#8a8a8a", hatch=hatch.get(k), label=CHANGE_LABELS[k])
        for k in CHANGE_COLOURS
    ]
    if zones is not None and not zones.empty:
        z = zones.to_crs(communes.crs)
        z.boundary.plot(ax=ax, color="#000000", linewidth=1.4)
        if "rang" in z.columns and len(z) <= 30:  # numbered like the zone table
            for rank, pt in zip(z["rang"], z.geometry.representative_point(), strict=True):
                ax.annotate(
                    str(int(rank)),
                    (pt.x, pt.y),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=7,
                    fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "black", "lw": 0.5},
                )
        handles.append(Patch(facecolor="none", edgecolor="#000000", label="zone prioritaire"))
    ax.set_axis_off()
    ax.set_aspect("equal")
    minx, miny, maxx, maxy = communes.total_bounds
    draw_scale_bar(ax, (minx, miny, maxx, maxy))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return png_from_figure(fig, dpi=dpi)


def png_from_figure(fig, *, dpi: int = 150) -> bytes:
    """The PNG bytes of a matplotlib figure (the reports' static maps and charts)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# -- report content ---------------------------------------------------------------------------
@dataclass
class ReportContent:
    """What goes into the report besides the follow-up figures."""

    territory: str
    dataset: str
    synthetic: bool
    reference: str  # key of the reference shown on the map and in the top changes
    map_png: bytes
    filters: str = ""
    generated: dt.datetime = field(default_factory=dt.datetime.now)
    sources: tuple[str, ...] = ()
    evaluations: tuple[tuple[str, list[list[str]]], ...] = ()  # title, rows (header first)
    backtest: str = ""  # the zones' back-test in one sentence (usecases.backtest.report_sentence)


SYNTHETIC_WARNING = (
    "Données de démonstration : les faits sont synthétiques (générés, calibrés sur les totaux "
    "départementaux réels du SSMSI) ; la géographie est réelle. Aucune conclusion opérationnelle "
    "ne doit en être tirée."
)

METHOD_NOTES = (
    "Comparaison de deux périodes : nombre de faits par jour de la période suivie rapporté à celui de "
    "la période de référence (rapport de taux ; même population dans les deux périodes).",
    "Test exact conditionnel : à total fixé, les faits de la période suivie suivent une loi binomiale ; "
    "p bilatérale égale à deux fois la plus petite queue ; intervalle de confiance à 95 % de "
    "Clopper-Pearson transformé en rapport de taux (il exclut 1 exactement quand p < 0,05).",
    "Beaucoup d'unités étant comparées à la fois, un changement n'est signalé « significatif » que "
    "s'il le reste après la correction de Benjamini-Hochberg (taux de fausses découvertes de 5 %).",
    f"Secret statistique : les effectifs de 1 à {SETTINGS.privacy_threshold} ne sont pas publiés, ni ceux qui permettraient de les "
    "retrouver par différence (secret secondaire) ; aucune position de fait n'est montrée.",
    "Zones prioritaires : celles de la page « Zones prioritaires » à ses réglages d'ouverture (mailles "
    "récurrentes, 0,1 % du territoire), dessinées sur les douze mois précédant la période suivie, puis "
    "figées. Une zone retenue pour un niveau élevé tend à "
    "baisser ensuite par simple retour à la moyenne : lire leurs baisses avec prudence.",
    "Faits datés par le début de leur fenêtre de commission ; périodes en jours entiers, bornes incluses.",
)


EVALUATION_NOTE = (
    "Évaluations : zone cible, zone tampon et zone témoin comptées sur deux fenêtres de même durée "
    "avant et après le début de l'action. WDD (Wheeler et Ratcliffe 2018) : évolution nette de la cible "
    "et de la zone tampon par rapport à la zone témoin, négative en cas de baisse ; lecture de la zone "
    "tampon par le quotient WDQ (Bowers et Johnson 2003). Une cible choisie après un pic baisse souvent "
    "d'elle-même (retour à la moyenne)."
)


def _dimension_sections(followup: Followup, reference: str) -> list[tuple[str, list[list[str]]]]:
    titles = {
        "commune": "Par commune",
        "epci": "Par EPCI",
        "zone": "Par zone prioritaire",
        "force": "Par force",
        "infraction": "Par infraction",
    }
    out = []
    for dim in DIMENSIONS:
        table = followup.tables.get((reference, dim))
        if table is not None:
            out.append((titles[dim], top_changes_rows(table)))
    return out


def summary_sentence(followup: Followup, reference: str) -> str:
    """The report in one sentence, for the top of page 1: the period's incidents, their change
    against ``reference`` and whether it is significant, and how many communes changed
    significantly (a secret total is not given: « un petit nombre de faits »)."""
    totals = followup.totals
    row = totals[totals["reference"] == reference] if "reference" in totals else totals.iloc[:0]
    ref_label = REFERENCE_LABELS.get(reference, reference)
    if row.empty:
        return f"Sur {followup.current.label}, la comparaison avec la {ref_label} n'est pas possible : les données ne la couvrent pas."
    r = row.iloc[0]
    if r["secret"]:
        head = f"Sur {followup.current.label}, un petit nombre de faits (sous le seuil du secret statistique)"
    else:
        verdict = "un écart significatif" if r["significatif"] else "un écart qui peut tenir au hasard"
        head = (
            f"Sur {followup.current.label}, {fmt_count(r['faits'])} faits enregistrés, "
            f"{fmt_change(r['evolution'])} par rapport à la {ref_label} ({verdict})"
        )
    communes = followup.tables.get((reference, "commune"))
    if communes is None or communes.empty or "significatif" not in communes:
        return head + "."
    shown = communes[~communes["secret"].astype(bool)] if "secret" in communes else communes
    sig = shown[shown["significatif"].astype(bool)]
    up = int((sig["sens"] == "hausse").sum()) if "sens" in sig else 0
    down = int((sig["sens"] == "baisse").sum()) if "sens" in sig else 0
    if not up and not down:
        return head + " ; aucune commune en changement significatif."
    parts = [
        f"{fmt_count(n)} commune{'s' if n > 1 else ''} en {word}"
        for n, word in ((up, "hausse"), (down, "baisse"))
        if n
    ]
    return head + " ; " + " et ".join(parts) + " significative" + ("s" if up + down > 1 else "") + "."


def _period_lines(followup: Followup) -> list[str]:
    lines = [f"Période suivie : {followup.current.label} ({followup.current.days} jours)"]
    for key, p in followup.references.items():
        lines.append(f"Référence ({REFERENCE_LABELS.get(key, key)}) : {p.label} ({p.days} jours)")
    if followup.zones_period is not None:
        lines.append(f"Zones prioritaires : {followup.n_zones}, détectées sur {followup.zones_period.label}")
    return lines


def html_report_from_followup(followup: Followup, content: ReportContent) -> str:
    """A self-contained HTML report (map embedded, every value escaped)."""
    e = html.escape

    def table(rows: list[list[str]]) -> str:
        if len(rows) == 1:
            return "<p><em>Aucun changement significatif.</em></p>"
        head = "".join(f"<th>{e(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    ref_label = REFERENCE_LABELS.get(content.reference, content.reference)
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{e('Suivi de la délinquance – ' + content.territory)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#161616}"
        "table{border-collapse:collapse;margin:.5rem 0 1.2rem}td,th{border:1px solid #bbb;padding:.25rem .5rem;"
        "font-size:.9rem}th{background:#eef}.warn{background:#fff4e5;border-left:4px solid #e67e00;"
        "padding:.6rem}img{max-width:100%}@media print{.page{page-break-after:always}}</style></head><body>",
        "<div class='page'>",
        f"<h1>Suivi de la délinquance enregistrée — {e(content.territory)}</h1>",
        f"<p><strong>{e(summary_sentence(followup, content.reference))}</strong></p>",
        f"<p>Rapport établi le {e(fmt_datetime(content.generated))} ; "
        f"jeu de données : {e(content.dataset)}.</p>",
    ]
    if content.synthetic:
        parts.append(f"<p class='warn'><strong>{e(SYNTHETIC_WARNING)}</strong></p>")
    if content.filters:
        parts.append(f"<p>Sélection : {e(content.filters)}</p>")
    parts.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in _period_lines(followup)) + "</ul>")
    parts.append("<h2>Chiffres clés</h2>" + table(totals_rows(followup)))
    if content.backtest:
        parts.append(f"<h2>Les zones prioritaires prédisent-elles ?</h2><p>{e(content.backtest)}</p>")
    img = base64.b64encode(content.map_png).decode("ascii")
    parts.append(
        f"<h2>Carte des changements significatifs ({e(ref_label)})</h2>"
        f"<img alt='Carte des changements par commune et des zones prioritaires' src='data:image/png;base64,{img}'>"
    )
    parts.append("</div><div class='page'>")
    parts.append(f"<h2>Principaux changements significatifs ({e(ref_label)})</h2>")
    for label, rows in _dimension_sections(followup, content.reference):
        parts.append(f"<h3>{e(label)}</h3>" + table(rows))
    if content.evaluations:
        parts.append("</div><div class='page'><h2>Évaluations d'actions</h2>")
        for title, rows in content.evaluations:
            parts.append(f"<h3>{e(title)}</h3>" + table(rows))
        parts.append(f"<p>{e(EVALUATION_NOTE)}</p>")
    parts.append("</div><div class='page'><h2>Notes de méthode</h2><ul>")
    parts.extend(f"<li>{e(n)}</li>" for n in METHOD_NOTES)
    parts.append("</ul><h2>Sources</h2><ul>")
    parts.extend(f"<li>{e(s)}</li>" for s in content.sources)
    parts.append("</ul></div></body></html>")
    return "".join(parts)


def pdf_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (shipped with matplotlib: full French and symbols) once."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVu", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    return "DejaVu", "DejaVu-Bold"


def pdf_styles(small_size: float = 8.0) -> dict[str, object]:
    """Paragraph styles of the PDF exports (DejaVu Sans): base, small, h1-h3, lead (the
    summary sentence), warn."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = pdf_fonts()
    # A long name in a narrow cell breaks after one of its hyphens (« Château-Gontier-sur- /
    # Mayenne »), not inside a word (« …-sur-May / enne »).
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12.5, embeddedHyphenation=1)

    def heading(name: str, size: float, leading: float, *, before: float, after: float) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            parent=base,
            fontName=bold,
            fontSize=size,
            leading=leading,
            spaceBefore=before,
            spaceAfter=after,
            keepWithNext=1,
        )

    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=small_size, leading=small_size + 2),
        # Headings keep with what follows them (never alone at the foot of a page).
        "h1": heading("h1", 15, 19, before=0, after=6),
        "h2": heading("h2", 12, 15, before=8, after=4),
        "h3": heading("h3", 10, 13, before=6, after=2),
        "lead": ParagraphStyle("lead", parent=base, fontName=bold, fontSize=10.5, leading=14, spaceAfter=6),
        "warn": ParagraphStyle(
            "warn",
            parent=base,
            fontName=bold,
            backColor=colors.HexColor("#fff4e5"),
            borderPadding=5,
            spaceAfter=8,
        ),
    }


def pdf_report_from_followup(followup: Followup, content: ReportContent) -> bytes:
    """The PDF report (A4): page 1 key figures and map, page 2 changes, page 3 method and sources."""
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, PageBreak, Paragraph, Spacer

    e = html.escape
    styles = pdf_styles()
    base, small, h1, h2, h3, warn = (
        styles["base"],
        styles["small"],
        styles["h1"],
        styles["h2"],
        styles["h3"],
        styles["warn"],
    )

    def table(rows: list[list[str]], widths: list[float] | None = None):
        if len(rows) == 1:
            return Paragraph("<i>Aucun changement significatif.</i>", base)
        return pdf_table(rows, widths)

    ref_label = REFERENCE_LABELS.get(content.reference, content.reference)
    story = [Paragraph(e(f"Suivi de la délinquance enregistrée — {content.territory}"), h1)]
    story.append(
        Paragraph(
            e(f"Rapport établi le {fmt_datetime(content.generated)} ; jeu de données : {content.dataset}."),
            base,
        )
    )
    if content.synthetic:
        story += [Spacer(1, 4), Paragraph(e(SYNTHETIC_WARNING), warn)]
    story.insert(1, Paragraph(e(summary_sentence(followup, content.reference)), styles["lead"]))
    if content.filters:
        story.append(Paragraph(e(f"Sélection : {content.filters}"), base))
    story += [Paragraph("• " + e(x), base) for x in _period_lines(followup)]
    story += [Paragraph("Chiffres clés", h2), table(totals_rows(followup))]
    if content.backtest:
        story += [
            Paragraph("Les zones prioritaires prédisent-elles ?", h2),
            Paragraph(e(content.backtest), base),
        ]
    story += [
        Paragraph(e(f"Carte des changements significatifs par commune ({ref_label})"), h2),
        Image(io.BytesIO(content.map_png), width=15.5 * cm, height=15.5 * cm * 6.2 / 7.0),
        PageBreak(),
        Paragraph(e(f"Principaux changements significatifs ({ref_label})"), h2),
    ]
    widths = [6.2 * cm, 1.7 * cm, 1.9 * cm, 1.9 * cm, 3.4 * cm, 1.7 * cm]
    for label, rows in _dimension_sections(followup, content.reference):
        story += [Paragraph(e(label), h3), table(rows, widths)]
    if content.evaluations:
        story += [PageBreak(), Paragraph("Évaluations d'actions", h2)]
        for title, rows in content.evaluations:
            story += [
                Paragraph(e(title), h3),
                table(
                    rows, [6.0 * cm, 1.8 * cm, 1.8 * cm, 5.4 * cm, 1.8 * cm] if len(rows[0]) == 5 else None
                ),
            ]
        story.append(Paragraph(e(EVALUATION_NOTE), small))
    story += [PageBreak(), Paragraph("Notes de méthode", h2)]
    story += [Paragraph("• " + e(n), base) for n in METHOD_NOTES]
    story += [Paragraph("Sources", h2)]
    story += [Paragraph("• " + e(s), base) for s in content.sources]

    return a4_pdf_from_story(
        story,
        title=f"Suivi de la délinquance — {content.territory}",
        footer=f"{content.territory} — {followup.current.label}",
        synthetic=content.synthetic,
    )


def pdf_table(rows: list[list[str]], widths: list[float] | None = None):
    """A reportlab table of text cells (escaped), header row shaded and repeated on each page."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    small = pdf_styles()["small"]
    t = Table(
        [[Paragraph(html.escape(str(c)), small) for c in r] for r in rows], colWidths=widths, repeatRows=1
    )
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeff")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def a4_pdf_from_story(story: list, *, title: str, footer: str, synthetic: bool) -> bytes:
    """Build an A4 PDF (1.5 cm margins) from reportlab flowables, with a numbered footer.

    Parameters
    ----------
    story : list
        reportlab flowables.
    title : str
        Document title (PDF metadata).
    footer : str
        Footer text, followed by the page number and, for synthetic data, a warning.
    synthetic : bool
        Add « DONNÉES SYNTHÉTIQUES » to every footer.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    regular, _ = pdf_fonts()

    def draw_footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        text = f"{footer} — page {doc.page}" + (" — DONNÉES SYNTHÉTIQUES" if synthetic else "")
        canvas.drawString(1.5 * cm, 1.0 * cm, text)
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.6 * cm,
        title=title,
        author="Cartographie de la délinquance",
        lang="fr-FR",  # the catalog's /Lang: a screen reader reads it in French
        invariant=True,
    )
    doc.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buf.getvalue()
