"""PDF documents of the partner packs: commune sheet, canton meeting pack, plan of meetings.

Plain French for mayors and residents; every value is escaped (names come from files) and
already gated by :mod:`usecases.packs`.
"""

from __future__ import annotations

import html
import io

from core.settings import SETTINGS
from rendering.report import SYNTHETIC_WARNING, a4_pdf_from_story, pdf_styles, pdf_table

READING_NOTE = (
    "Ces chiffres sont ceux des faits enregistrés par la police et la gendarmerie (plaintes, "
    f"constatations), pas de toute la délinquance. Les effectifs de 1 à {SETTINGS.privacy_threshold}, et ceux qui permettraient "
    "de les retrouver, ne sont pas publiés (« secret »). Une évolution « significative » a moins de "
    "5 % de chances d'être due au hasard."
)


def _head(title: str, territory: str, synthetic: bool) -> list:
    from reportlab.platypus import Paragraph

    st = pdf_styles()
    story = [Paragraph(html.escape(title), st["h1"]), Paragraph(html.escape(territory), st["base"])]
    if synthetic:
        story.append(Paragraph(html.escape(SYNTHETIC_WARNING), st["warn"]))
    return story


def commune_sheet_document(
    *,
    title: str,
    territory: str,
    figures: list[list[str]],
    zones: list[list[str]],
    map_png: bytes,
    dataset: str,
    synthetic: bool,
) -> bytes:
    """One page: key figures, the commune on a small map, the priority zones that touch it."""
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph

    st = pdf_styles()
    story = _head(f"Fiche commune — {title}", territory, synthetic)
    story += [Paragraph("Chiffres clés", st["h2"]), pdf_table(figures, [11 * cm, 6 * cm])]
    story += [
        Paragraph("La commune et les zones prioritaires qui la touchent", st["h2"]),
        Image(io.BytesIO(map_png), width=9 * cm, height=9 * cm * 6.2 / 7.0),
    ]
    if zones:
        story.append(pdf_table([["Zone", "Communes concernées"], *zones], [2 * cm, 15 * cm]))
    else:
        story.append(Paragraph("Aucune zone prioritaire publiée ne touche la commune.", st["base"]))
    story.append(Paragraph(html.escape(READING_NOTE), st["small"]))
    return a4_pdf_from_story(
        story, title=f"Fiche commune — {title}", footer=f"{title} — jeu : {dataset}", synthetic=synthetic
    )


def canton_pack_document(
    *,
    title: str,
    territory: str,
    figures: list[list[str]],
    communes: list[list[str]],
    map_png: bytes,
    dataset: str,
    synthetic: bool,
) -> bytes:
    """A canton's public-meeting pack: figures, map of the last two months' changes, communes."""
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, PageBreak, Paragraph

    st = pdf_styles()
    story = _head(f"Réunion publique — {title}", territory, synthetic)
    story += [
        Paragraph(
            "Ce document présente, pour les habitants du canton, la délinquance enregistrée sur leur territoire "
            "et son évolution, commune par commune.",
            st["base"],
        ),
        Paragraph("Le canton en chiffres", st["h2"]),
        pdf_table(figures, [11 * cm, 6 * cm]),
        Paragraph("Évolution des deux derniers mois, commune par commune", st["h2"]),
        Image(io.BytesIO(map_png), width=14 * cm, height=14 * cm * 6.2 / 7.0),
        PageBreak(),
        Paragraph("Les communes du canton", st["h2"]),
        pdf_table(communes, [5.5 * cm, 2.2 * cm, 2.6 * cm, 4.0 * cm, 2.7 * cm]),
        Paragraph(html.escape(READING_NOTE), st["small"]),
    ]
    return a4_pdf_from_story(
        story, title=f"Réunion publique — {title}", footer=f"{title} — jeu : {dataset}", synthetic=synthetic
    )


def cantons_plan_document(*, territory: str, rows: list[list[str]], dataset: str, synthetic: bool) -> bytes:
    """The plan of public meetings: one per canton, the whole département covered."""
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph

    st = pdf_styles()
    story = _head("Plan des réunions publiques par canton", territory, synthetic)
    story += [
        Paragraph(
            f"Une réunion publique par canton couvre tout le département : {len(rows) - 1} réunions. "
            "Chaque canton a son dossier (fichier canton_<code>.pdf).",
            st["base"],
        ),
        pdf_table(rows, [7 * cm, 2.5 * cm, 3 * cm, 4.5 * cm]),
    ]
    return a4_pdf_from_story(
        story,
        title="Plan des réunions publiques",
        footer=f"{territory} — jeu : {dataset}",
        synthetic=synthetic,
    )
