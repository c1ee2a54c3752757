"""Packs for partners: a one-page sheet per commune (mayors) and a meeting pack per canton.

Everything here is the published view. The figures of every commune, canton and of the
département are gated **together**, window by window (twelve months, the twelve before, the
last two months, the same two months a year earlier): one secrecy computation per window over
the communes with their EPCI and canton totals (:func:`core.privacy.hierarchy_masks`), so
that no hidden commune can be recovered from its canton's total, from its EPCI's, or from the
other sheets. A change is shown only when both of its counts are.

:func:`pack_data_for_departement` does the computation once per data set and département; the
sheets, the canton packs and « Ma commune » read from it.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.periods import Period, default_periods
from analysis.rate_tests import rate_ratio_test
from core import model as m
from core.formatting import fmt_change, fmt_count, fmt_date, fmt_number
from core.model import IncidentFilter
from core.privacy import SECRET_LABEL, group_labels, hierarchy_masks, is_secret
from usecases.zones import default_zones_for_selection

#: The four windows of a pack (key -> French label).
WINDOWS = {
    "an": "douze derniers mois",
    "an_prec": "douze mois précédents",
    "bimestre": "deux derniers mois",
    "bimestre_ref": "mêmes mois un an plus tôt",
}


@dataclass
class PackData:
    """The département's published figures by commune and canton, for every pack."""

    departement: str
    windows: dict[str, tuple[dt.date, dt.date]]
    communes: pd.DataFrame  # index code: nom, population, epci, canton, canton_nom, faits_<w>, secret_<w>
    cantons: pd.DataFrame  # index canton code: nom, population, faits_<w>, secret_<w>, communes (list)
    departement_rate: float  # incidents per 1,000 inhabitants over twelve months
    zones: gpd.GeoDataFrame  # published priority zones (metric CRS): rang, communes, faits, geometry
    geometry: gpd.GeoSeries  # communes, metric CRS, indexed by code


def _windows(last: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    current, year_before, _ = default_periods(pd.Timestamp(last))
    year_start = last - dt.timedelta(days=364)
    return {
        "an": (year_start, last),
        "an_prec": (year_start - dt.timedelta(days=365), year_start - dt.timedelta(days=1)),
        "bimestre": (current.start.date(), current.end.date()),
        "bimestre_ref": (year_before.start.date(), year_before.end.date()),
    }


def pack_data_for_departement(
    incidents: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, keys: pd.DataFrame, *, departement: str, crs: str
) -> PackData:
    """Counts and joint secrecy of every commune and canton over the four windows.

    Parameters
    ----------
    incidents : GeoDataFrame
        Every incident of the data set.
    communes : GeoDataFrame
        Communes of the département (``code``, ``nom``, ``population``, ``epci_code``).
    keys : DataFrame
        EPCI and canton of each commune (``epci``, ``canton``, ``canton_nom``), indexed like
        ``communes``.
    departement : str
        Its code.
    crs : str
        Metric CRS (zones, maps).
    """
    last = incidents[m.START].max().date()
    windows = _windows(last)
    day = incidents[m.START].dt.normalize()
    codes = communes["code"].to_numpy()
    table = pd.DataFrame(
        {
            "nom": communes["nom"].to_numpy(),
            "population": communes["population"].to_numpy(),
            "epci": keys["epci"].to_numpy(),
            "canton": keys["canton"].to_numpy(),
            "canton_nom": keys["canton_nom"].to_numpy(),
        },
        index=pd.Index(codes, name="code"),
    )
    canton_codes = group_labels(keys["canton"].to_numpy())
    cantons = pd.DataFrame(index=pd.Index(canton_codes, name="canton"))
    cantons["nom"] = (
        pd.Series(table["canton_nom"].to_numpy(), index=table["canton"].astype(str).to_numpy())
        .groupby(level=0)
        .first()
    )
    cantons["population"] = table.groupby(table["canton"].astype(str))["population"].sum()
    cantons["communes"] = table.groupby(table["canton"].astype(str)).apply(lambda t: list(t.index))
    epci_labels = group_labels(keys["epci"].to_numpy())
    for w, (start, end) in windows.items():
        inside = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
        counts = (
            pd.Series(codes)
            .map(incidents.loc[inside, m.COMMUNE].value_counts())
            .fillna(0)
            .astype(int)
            .to_numpy()
        )
        base, groups, _ = hierarchy_masks(counts, [keys["epci"].to_numpy(), keys["canton"].to_numpy()])
        table[f"faits_{w}"] = counts
        table[f"secret_{w}"] = base
        table[f"secret_epci_{w}"] = (
            pd.Series(groups[0], index=epci_labels)
            .reindex(table["epci"].astype(str).to_numpy())
            .fillna(False)
            .to_numpy()
        )
        cantons[f"faits_{w}"] = table.groupby(table["canton"].astype(str))[f"faits_{w}"].sum()
        cantons[f"secret_{w}"] = pd.Series(groups[1], index=canton_codes)
    pop = float(communes["population"].sum())
    current = Period(pd.Timestamp(windows["bimestre"][0]), pd.Timestamp(windows["bimestre"][1]))
    zones_period = Period(current.start - pd.DateOffset(years=1), current.start - pd.Timedelta(days=1))
    zones = default_zones_for_selection(
        incidents,
        communes,
        IncidentFilter(start=zones_period.start.date(), end=zones_period.end.date()),
        crs=crs,
    )
    if len(zones):
        zones = zones.loc[np.array([not is_secret(f) for f in zones["faits"]], dtype=bool)]
    return PackData(
        departement=departement,
        windows=windows,
        communes=table,
        cantons=cantons,
        departement_rate=int(table["faits_an"].sum()) / pop * 1000 if pop else float("nan"),
        zones=zones,
        geometry=gpd.GeoSeries(communes.to_crs(crs).geometry.to_numpy(), index=codes, crs=crs),
    )


def _count(row: pd.Series, w: str) -> str:
    return SECRET_LABEL if bool(row[f"secret_{w}"]) else fmt_count(int(row[f"faits_{w}"]))


def _change(row: pd.Series, now: str, before: str, days_now: int, days_before: int) -> tuple[str, str]:
    """« -12 % (significative) », and the map class (hausse, baisse, stable, secret)."""
    if bool(row[f"secret_{now}"]) or bool(row[f"secret_{before}"]):
        return SECRET_LABEL, "secret"
    test = rate_ratio_test(
        np.array([int(row[f"faits_{now}"])]),
        np.array([int(row[f"faits_{before}"])]),
        days_current=days_now,
        days_reference=days_before,
    ).iloc[0]
    if not np.isfinite(test["rapport"]):
        return "—", "stable"
    significant = bool(test["p_valeur"] < 0.05)
    direction = "hausse" if test["rapport"] > 1 else "baisse"
    return (
        f"{fmt_change(test['rapport'] - 1)} ({'significative' if significant else 'non significative'})",
        direction if significant else "stable",
    )


def _days(pack: PackData, w: str) -> int:
    start, end = pack.windows[w]
    return (end - start).days + 1


def figures_rows(pack: PackData, row: pd.Series, *, rate_base: float) -> list[list[str]]:
    """Key figures of a commune or canton as table rows (header first)."""
    hidden = bool(row["secret_an"])
    rate = SECRET_LABEL if hidden or not rate_base else fmt_number(int(row["faits_an"]) / rate_base * 1000, 2)
    year, _ = _change(row, "an", "an_prec", _days(pack, "an"), _days(pack, "an_prec"))
    two, _ = _change(row, "bimestre", "bimestre_ref", _days(pack, "bimestre"), _days(pack, "bimestre_ref"))
    w = pack.windows
    return [
        ["Indicateur", "Valeur"],
        [f"Faits, {WINDOWS['an']} (du {fmt_date(w['an'][0])} au {fmt_date(w['an'][1])})", _count(row, "an")],
        ["Pour 1 000 habitants", rate],
        ["Département, pour 1 000 habitants", fmt_number(pack.departement_rate, 2)],
        ["Évolution sur un an", year],
        [
            f"Faits, {WINDOWS['bimestre']} (du {fmt_date(w['bimestre'][0])} au {fmt_date(w['bimestre'][1])})",
            _count(row, "bimestre"),
        ],
        ["Évolution contre les mêmes mois un an plus tôt", two],
    ]


def commune_change_classes(pack: PackData, codes: list[str]) -> np.ndarray:
    """Map class of the two-month change of each commune (``secret`` where hidden)."""
    rows = pack.communes.loc[codes]
    return np.array(
        [
            _change(r, "bimestre", "bimestre_ref", _days(pack, "bimestre"), _days(pack, "bimestre_ref"))[1]
            for _, r in rows.iterrows()
        ],
        dtype=object,
    )


def zones_touching(pack: PackData, codes: list[str]) -> gpd.GeoDataFrame:
    """Published priority zones that touch these communes."""
    if pack.zones.empty:
        return pack.zones
    area = pack.geometry.loc[codes].union_all()
    return pack.zones[pack.zones.intersects(area)]


@dataclass
class PackDocument:
    """A PDF of a pack: its file name and its bytes."""

    file_name: str
    data: bytes


def commune_sheet_pdf(
    pack: PackData, code: str, *, territory: str, dataset: str, synthetic: bool
) -> PackDocument:
    """The one-page sheet of a commune (PDF)."""
    from rendering.packs import commune_sheet_document
    from rendering.report import static_map_png

    row = pack.communes.loc[code]
    zones = zones_touching(pack, [code])
    shape = gpd.GeoDataFrame(geometry=pack.geometry.loc[[code]].to_numpy(), crs=pack.geometry.crs)
    png = static_map_png(shape, commune_change_classes(pack, [code]), zones=zones, dpi=110)
    data = commune_sheet_document(
        title=f"{row['nom']} ({code})",
        territory=territory,
        figures=figures_rows(pack, row, rate_base=float(row["population"])),
        zones=[
            [str(int(r)), str(c)]
            for r, c in zip(zones.get("rang", []), zones.get("communes", []), strict=False)
        ],
        map_png=png,
        dataset=dataset,
        synthetic=synthetic,
    )
    return PackDocument(f"fiche_{code}.pdf", data)


def all_commune_sheets_zip(pack: PackData, *, territory: str, dataset: str, synthetic: bool) -> bytes:
    """Every commune's sheet in one ZIP."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for code in pack.communes.index:
            doc = commune_sheet_pdf(pack, code, territory=territory, dataset=dataset, synthetic=synthetic)
            zf.writestr(doc.file_name, doc.data)
    return buf.getvalue()


def canton_pack_pdf(
    pack: PackData, canton: str, *, territory: str, dataset: str, synthetic: bool
) -> PackDocument:
    """The public-meeting pack of a canton (PDF): figures, communes, map, follow-up."""
    from rendering.packs import canton_pack_document
    from rendering.report import static_map_png

    row = pack.cantons.loc[canton]
    codes = list(row["communes"])
    members = pack.communes.loc[codes].sort_values("nom")
    rows = [
        [
            "Commune",
            "Habitants",
            f"Faits ({WINDOWS['an']})",
            "Évolution sur un an",
            f"Faits ({WINDOWS['bimestre']})",
        ]
    ]
    for code, r in members.iterrows():
        year, _ = _change(r, "an", "an_prec", _days(pack, "an"), _days(pack, "an_prec"))
        rows.append(
            [
                f"{r['nom']} ({code})",
                fmt_count(int(r["population"])),
                _count(r, "an"),
                year,
                _count(r, "bimestre"),
            ]
        )
    shapes = gpd.GeoDataFrame(geometry=pack.geometry.loc[codes].to_numpy(), crs=pack.geometry.crs)
    png = static_map_png(
        shapes, commune_change_classes(pack, codes), zones=zones_touching(pack, codes), dpi=110
    )
    data = canton_pack_document(
        title=f"Canton de {row['nom']}",
        territory=territory,
        figures=figures_rows(pack, row, rate_base=float(row["population"])),
        communes=rows,
        map_png=png,
        dataset=dataset,
        synthetic=synthetic,
    )
    return PackDocument(f"canton_{canton}.pdf", data)


def cantons_plan_rows(pack: PackData) -> list[list[str]]:
    """The plan of public meetings: every canton, its communes and population."""
    rows = [["Canton", "Communes", "Habitants", f"Faits ({WINDOWS['an']})"]]
    for code, r in pack.cantons.sort_values("nom").iterrows():
        rows.append(
            [
                f"{r['nom']} ({code})",
                fmt_count(len(r["communes"])),
                fmt_count(int(r["population"])),
                _count(r, "an"),
            ]
        )
    return rows


def all_canton_packs_zip(pack: PackData, *, territory: str, dataset: str, synthetic: bool) -> bytes:
    """Every canton's pack and the plan of meetings in one ZIP."""
    from rendering.packs import cantons_plan_document

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "plan_des_reunions.pdf",
            cantons_plan_document(
                territory=territory, rows=cantons_plan_rows(pack), dataset=dataset, synthetic=synthetic
            ),
        )
        for canton in pack.cantons.index:
            doc = canton_pack_pdf(pack, canton, territory=territory, dataset=dataset, synthetic=synthetic)
            zf.writestr(doc.file_name, doc.data)
    return buf.getvalue()
