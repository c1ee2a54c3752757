"""Appending a new extract to a saved data set, month after month.

With identifiers: an incident whose identifier is already in the data set is a
*duplicate* when its content is the same (kept once) and an *update* when it differs (the
newer row wins; the change is listed). Without identifiers (they were generated at import),
*exact duplicates* (same start, offence, place and point) are found and the user decides,
once for all of them, to drop or keep them. Every row of the new file is accounted for.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import model as m

#: Columns that make two incidents without identifiers the same incident.
EXACT_KEY = (m.START, m.OFFENCE, m.PLACE, "_x", "_y")
#: What to do with exact duplicates when the file has no identifiers.
DROP, KEEP = "ignorer", "garder"


@dataclass
class AppendResult:
    """The merged incidents and what happened to each row of the new file."""

    incidents: gpd.GeoDataFrame
    n_new: int
    n_duplicates: int
    n_updated: int
    duplicates: pd.DataFrame
    updates: pd.DataFrame

    def summary(self, n_rejected: int) -> str:
        """« n nouveaux, n doublons, n mis à jour, n rejetés » in French."""
        from core.formatting import fmt_count

        return (
            f"{fmt_count(self.n_new)} nouveaux, {fmt_count(self.n_duplicates)} doublons, "
            f"{fmt_count(self.n_updated)} mis à jour, {fmt_count(n_rejected)} rejetés"
        )


def _content(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """The comparable content of incidents (every model column but the identifier; the point as text)."""
    cols = [c for c in m.INCIDENT_COLUMNS if c != m.ID]
    out = pd.DataFrame(frame[cols]).astype(object).where(frame[cols].notna(), None)
    out["_point"] = frame.geometry.to_wkb(hex=True).where(frame.geometry.notna(), None)
    return out


def _changed_columns(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """For each row pair, the columns whose values differ, as « a, b »."""
    diff = ~((old.to_numpy() == new.to_numpy()) | (pd.isna(old).to_numpy() & pd.isna(new).to_numpy()))
    names = np.array([("point" if c == "_point" else c) for c in old.columns])
    return [", ".join(names[row]) for row in diff]


def appended_with_identifiers(existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> AppendResult:
    """Merge ``new`` into ``existing`` by identifier (the newer row wins on a change)."""
    # Arrow's hash tables (pandas' ``isin`` on Arrow strings is a Python loop: 10 s on 1 M rows).
    old_ids = pa.array(existing[m.ID].astype(str).to_numpy(dtype=object), type=pa.string())
    new_ids = pa.array(new[m.ID].astype(str).to_numpy(dtype=object), type=pa.string())
    known = pc.is_in(new_ids, value_set=old_ids).to_numpy(zero_copy_only=False)
    pos = pc.index_in(new_ids.filter(pa.array(known)), value_set=old_ids).to_numpy(zero_copy_only=False)
    old_part = _content(existing.iloc[pos]).reset_index(drop=True)
    new_part = _content(new[known]).reset_index(drop=True)
    changes = _changed_columns(old_part, new_part)
    changed = np.array([bool(c) for c in changes], dtype=bool)
    known_ids = np.asarray(new_ids.filter(pa.array(known)).to_pylist(), dtype=object)
    updated_ids = known_ids[changed]
    updated = pa.array(list(updated_ids), type=pa.string())
    kept = existing[~pc.is_in(old_ids, value_set=updated).to_numpy(zero_copy_only=False)]
    incoming = new[~known | pc.is_in(new_ids, value_set=updated).to_numpy(zero_copy_only=False)]
    merged = m.conform_incidents(pd.concat([kept, incoming], ignore_index=True))
    dup_ids = known_ids[~changed]
    updates = pd.DataFrame(
        {m.ID: updated_ids, "colonnes modifiées": np.array(changes, dtype=object)[changed]}
    )
    return AppendResult(
        incidents=merged,
        n_new=int((~known).sum()),
        n_duplicates=int(len(dup_ids)),
        n_updated=int(changed.sum()),
        duplicates=pd.DataFrame({m.ID: dup_ids}),
        updates=updates,
    )


def _exact_keys(frame: gpd.GeoDataFrame) -> pd.MultiIndex:
    g = frame.geometry
    xy = pd.DataFrame(
        {
            "_x": np.where(g.notna(), g.x.round(6), np.nan) if len(g) else [],
            "_y": np.where(g.notna(), g.y.round(6), np.nan) if len(g) else [],
        },
        index=frame.index,
    )
    keys = pd.concat([pd.DataFrame(frame[[m.START, m.OFFENCE, m.PLACE]]), xy], axis=1).astype(str)
    return pd.MultiIndex.from_frame(keys[list(EXACT_KEY)])


def appended_without_identifiers(
    existing: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *, duplicates: str = DROP
) -> AppendResult:
    """Merge ``new`` into ``existing``; exact duplicates dropped (:data:`DROP`) or kept (:data:`KEEP`).

    The new rows get identifiers that cannot collide with the data set's (``<prefix>-L<row>``
    is made unique by a numeric suffix when needed).
    """
    dup = _exact_keys(new).isin(_exact_keys(existing))
    listed = pd.DataFrame(new.loc[dup, [m.START, m.OFFENCE, m.PLACE, m.COMMUNE]]).reset_index(drop=True)
    incoming = new[~dup] if duplicates == DROP else new
    incoming = incoming.copy()
    taken = set(existing[m.ID].astype(str))
    ids = []
    for value in incoming[m.ID].astype(str):
        candidate, k = value, 1
        while candidate in taken:
            k += 1
            candidate = f"{value}-{k}"
        taken.add(candidate)
        ids.append(candidate)
    incoming[m.ID] = ids
    merged = m.conform_incidents(pd.concat([existing, incoming], ignore_index=True))
    return AppendResult(
        incidents=merged,
        n_new=int((~dup).sum()) + (int(dup.sum()) if duplicates == KEEP else 0),
        n_duplicates=int(dup.sum()) if duplicates == DROP else 0,
        n_updated=0,
        duplicates=listed,
        updates=pd.DataFrame({m.ID: [], "colonnes modifiées": []}),
    )
