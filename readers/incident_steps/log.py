"""The log every import step writes to: each rejected row with its reason, each correction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from readers.incident_files import REJECTION_COLUMNS


# ---------------------------------------------------------------------------------------
# The log every step writes to
# ---------------------------------------------------------------------------------------
@dataclass
class ImportLog:
    """What the steps found, row by row: rejections, corrections and warnings.

    Attributes
    ----------
    row_numbers : ndarray of int
        Row number in the file of each table row (the reports name rows by it).
    bad : ndarray of bool
        Rows rejected so far (for at least one reason).
    warnings : list of str
        Messages in French about rows kept but changed or incomplete.
    """

    row_numbers: np.ndarray
    bad: np.ndarray = field(init=False)
    warnings: list[str] = field(default_factory=list)
    _rejections: list[pd.DataFrame] = field(default_factory=list)
    _corrections: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bad = np.zeros(len(self.row_numbers), dtype=bool)

    def reject(
        self,
        mask: object,
        field_name: str,
        reason: str,
        values: pd.Series | Callable[[np.ndarray], pd.Series] | None = None,
    ) -> None:
        """Reject the rows of ``mask`` for ``reason``, quoting their value of ``values`` (a
        column, or a function giving the rejected rows' values: only they are written out)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        quoted = values(mask) if callable(values) else (values[mask] if values is not None else None)
        vals = (
            ""
            if quoted is None
            else quoted.astype(object).fillna("").astype(str).str.slice(0, 200).to_numpy()
        )
        self._rejections.append(
            pd.DataFrame(
                {"ligne": self.row_numbers[mask], "champ": field_name, "motif": reason, "valeur": vals}
            )
        )

    def correct(self, mask: pd.Series, field_name: str, correction: str) -> None:
        """Record that the rows of ``mask`` were corrected (kept, with the correction listed)."""
        if mask.any():
            self._corrections.append(
                pd.DataFrame(
                    {
                        "ligne": self.row_numbers[mask.to_numpy()],
                        "champ": field_name,
                        "correction": correction,
                    }
                )
            )

    def rejections(self, unread: pd.DataFrame) -> pd.DataFrame:
        """All rejections (``unread``: the records the reader could not parse), by row."""
        parts = [p for p in [unread, *self._rejections] if len(p)]
        if not parts:
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        out = pd.concat(parts, ignore_index=True)
        out["ligne"] = out["ligne"].astype("int64")
        return out.sort_values(["ligne", "champ"], kind="stable").reset_index(drop=True)

    def corrections(self) -> pd.DataFrame:
        """The corrections made (``ligne``, ``champ``, ``correction``)."""
        if not self._corrections:
            return pd.DataFrame(columns=["ligne", "champ", "correction"])
        return pd.concat(self._corrections, ignore_index=True)
