"""Colours and labels of the change classes (significant rise, fall, no change, secret),
shared by the maps and the report so that a class looks the same everywhere."""

from __future__ import annotations

CHANGE_COLOURS = {"hausse": "#c9191e", "baisse": "#1f5fbf", "stable": "#f0f0f0", "secret": "#c8c8c8"}
CHANGE_LABELS = {
    "hausse": "hausse significative",
    "baisse": "baisse significative",
    "stable": "pas de changement significatif",
    "secret": "effectifs soumis au secret",
}
