"""The back-test by street segment (Zones page, with the area back-test): the same rolling
windows, the segments of the département's network as the unit, scored by the share of the
network's length (:mod:`analysis.street_backtest`).

Published view: as the area back-test, no count of 1 to 5 and no ratio resting on one: a
window whose horizon holds at most 5 incidents on the network, or where a candidate caught 1
to 5, is left out of that share's means for every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.backtest import rolling_windows
from analysis.street_backtest import SEGMENT_CANDIDATES, street_backtest
from analysis.streets import SNAP_M, StreetIndex, snap_points
from core import model as m
from core.formatting import fmt_count, fmt_number, fmt_share
from core.model import IncidentFilter, filter_incidents, located
from core.privacy import Audience, secret_cells, too_small_for_a_ratio
from core.settings import SETTINGS

#: Shares of the network's length the table shows.
STREET_SHARES: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
METHOD, BASELINE = "troncons_recurrents", "troncons_precedents"


@dataclass
class StreetBacktestView:
    """The table (one row per length share), its sentence and its notes."""

    table: pd.DataFrame
    sentence: str
    captions: list[str] = field(default_factory=list)


def street_backtest_table(
    incidents: gpd.GeoDataFrame,
    flt: IncidentFilter,
    streets: StreetIndex,
    *,
    train_months: int,
    horizon_months: int,
    windows: int,
) -> pd.DataFrame:
    """The raw scores (:func:`analysis.street_backtest.street_backtest`) of the selection's
    incidents (every date) on the département's segments."""
    sel = located(filter_incidents(incidents, flt.undated())).dropna(subset=[m.START])
    if sel.empty:
        return pd.DataFrame()
    sel = sel.to_crs(streets.roads.crs)
    dates = pd.to_datetime(sel[m.START]).dt.tz_localize(None).to_numpy()
    chosen = rolling_windows(
        pd.Timestamp(dates.min()),
        pd.Timestamp(dates.max()),
        train_months=train_months,
        horizon_months=horizon_months,
        count=windows,
    )
    if not chosen:
        return pd.DataFrame()
    snapped = snap_points(
        sel.geometry.x.to_numpy(),
        sel.geometry.y.to_numpy(),
        streets.net.lines,
        max_distance=SNAP_M,
        tree=streets.tree,
    )
    return street_backtest(snapped.segment, dates, streets.net.length, chosen, STREET_SHARES)


def street_backtest_view(
    table: pd.DataFrame, *, audience: Audience, horizon_months: int
) -> StreetBacktestView:
    """Means over the windows, for an audience (see the module's note)."""
    if table.empty:
        return StreetBacktestView(
            pd.DataFrame(), "Pas de rétro-évaluation par tronçon : l'historique ne couvre aucune fenêtre."
        )
    shown = table
    if audience.published:
        bad = too_small_for_a_ratio(table["faits"].to_numpy()) | secret_cells(
            table["faits_captes"].to_numpy()
        )
        flag = table.assign(_bad=bad).groupby(["fenetre", "part_visee"])["_bad"].transform("any")
        shown = table[~flag.to_numpy()]
    withheld = (
        table.groupby(["fenetre", "part_visee"]).ngroups - shown.groupby(["fenetre", "part_visee"]).ngroups
    )
    means = shown.groupby(["part_visee", "candidat"])[
        ["taux_de_reussite", "part_longueur", "pai", "pei"]
    ].mean()
    counted = shown.groupby("part_visee")["fenetre"].nunique()
    rows = []
    shares = sorted(table["part_visee"].unique())
    for share in shares:
        if share not in counted.index or (share, METHOD) not in means.index:
            rows.append({"Part de la longueur visée": fmt_share(share), "Fenêtres": "0"})
            continue
        own, ref = means.loc[(share, METHOD)], means.loc[(share, BASELINE)]
        ratio = own.taux_de_reussite / ref.taux_de_reussite if ref.taux_de_reussite > 0 else np.nan
        rows.append(
            {
                "Part de la longueur visée": fmt_share(share),
                "Fenêtres": fmt_count(int(counted[share])),
                "Part de la longueur (méthode)": fmt_share(own.part_longueur),
                "Taux de réussite (méthode)": fmt_share(own.taux_de_reussite),
                "PAI (longueur)": fmt_number(own.pai, 1),
                "PEI": fmt_number(own.pei, 2),
                "Taux de réussite (référence)": fmt_share(ref.taux_de_reussite),
                "Rapport à la référence": fmt_number(ratio, 2) if np.isfinite(ratio) else "–",
            }
        )
    horizon = "du mois suivant" if horizon_months == 1 else f"des {horizon_months} mois suivants"
    key = 0.01 if 0.01 in shares else shares[len(shares) // 2]
    if (key, METHOD) in means.index and means.loc[(key, METHOD)].part_longueur == 0:
        sentence = (
            f"Par tronçon de rue : aucun tronçon ne tient dans {fmt_share(key)} de la longueur du réseau "
            "(visez une part plus grande)."
        )
    elif (key, METHOD) in means.index:
        own, ref = means.loc[(key, METHOD)], means.loc[(key, BASELINE)]
        ratio = own.taux_de_reussite / ref.taux_de_reussite if ref.taux_de_reussite > 0 else np.nan
        sentence = (
            f"Par tronçon de rue : sur {fmt_share(own.part_longueur)} de la longueur du réseau, les tronçons "
            f"récurrents ont capté en moyenne {fmt_share(own.taux_de_reussite)} des faits {horizon} tombés sur "
            f"une rue, contre {fmt_share(ref.taux_de_reussite)} pour les tronçons les plus touchés de la "
            f"fenêtre" + (f" (rapport {fmt_number(ratio, 2)})." if np.isfinite(ratio) else ".")
        )
    else:
        sentence = (
            "Rétro-évaluation par tronçon non publiable : sur chaque fenêtre, l'horizon ou les faits captés ont un "
            f"effectif de 1 à {SETTINGS.privacy_threshold} (secret statistique)."
        )
    captions = [
        f"Mêmes fenêtres que ci-dessus ; chaque fait rattaché au tronçon le plus proche à moins de {SNAP_M:.0f} m "
        "(les autres ne comptent pas ici). Candidats : "
        + " ; ".join(SEGMENT_CANDIDATES.values())
        + ". Les tronçons les mieux notés sont pris jusqu'à la part de la longueur visée. PAI (longueur) : taux "
        "de réussite / part de la longueur. PEI : faits captés / le plus que des tronçons de même longueur "
        "pouvaient capter (borne fractionnaire : le PEI affiché est un minorant)."
    ]
    if withheld:
        captions.append(
            f"{withheld} couple(s) fenêtre × part non publié(s) : effectif de 1 à {SETTINGS.privacy_threshold} "
            "(secret statistique) ; les moyennes portent sur les autres."
        )
    return StreetBacktestView(pd.DataFrame(rows), sentence, captions)
