"""Candidate lattice near the incidents, whole département (the Vidéoprotection default).

Ours: :func:`geo.candidates.candidates_from_lattice` with ``demand_xy``: the nodes within the
coverage radius of an incident, enumerated around the incidents. Anchor, same run: the
straightforward way, the whole lattice over the territory's bounding box, kept inside the
territory, then filtered by a k-d tree query (scipy). Same nodes expected.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import model as m
from core.vocabulary import PUBLIC_PLACES
from data.default_dataset import DEFAULT_SLUG
from data.locations import default_store
from geo.candidates import candidates_from_lattice
from geo.communes import communes_for_departement  # noqa: E402


def main() -> None:
    inc = default_store().load(DEFAULT_SLUG).to_crs(2154)
    inc = inc[inc[m.PLACE].isin(PUBLIC_PLACES)]
    communes = communes_for_departement("53").to_crs(2154)
    xy = np.column_stack([inc.geometry.x, inc.geometry.y])
    print(f"{len(xy):,} faits sur la voie publique, les transports et les commerces (Mayenne, 2022-2025)")
    for spacing, radius in ((100.0, 150.0), (50.0, 150.0), (100.0, 300.0)):
        t = time.perf_counter()
        ours = candidates_from_lattice(communes, spacing, demand_xy=xy, radius=radius)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        full = candidates_from_lattice(communes, spacing)
        fxy = np.column_stack([full.geometry.x, full.geometry.y])
        dist, _ = cKDTree(xy).query(fxy, distance_upper_bound=radius * (1 + 1e-12))
        anchor = fxy[np.isfinite(dist)]
        t_anchor = time.perf_counter() - t
        oxy = np.column_stack([ours.geometry.x, ours.geometry.y])
        same = len(oxy) == len(anchor) and np.allclose(np.sort(oxy, axis=0), np.sort(anchor, axis=0))
        print(
            f"maille {spacing:.0f} m, rayon {radius:.0f} m : nous {t_ours:.2f} s ({len(oxy):,} nœuds) ; "
            f"ancre maillage complet ({len(fxy):,} nœuds) + arbre k-d {t_anchor:.2f} s ; "
            f"ratio {t_anchor / t_ours:.1f}x ; mêmes nœuds : {same}"
        )


if __name__ == "__main__":
    main()
