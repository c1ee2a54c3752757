"""Read what the Streamlit server actually sends to a browser tab, as an attacker would.

Every WebSocket frame the page receives is decoded with Streamlit's own protobuf classes
(``ForwardMsg``); the elements it carries give the metric values, the table and chart
data (Arrow), the texts, the map components' arguments (folium's HTML and script) and
the download URLs. Nothing is read from what happens to be visible on screen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

#: A GeoJSON "properties" object inside folium's generated script.
_PROPERTIES = re.compile(r'"properties":\s*(\{[^{}]*\})')


@dataclass
class Sent:
    """What the server sent, by kind."""

    metrics: list[tuple[str, str]] = field(default_factory=list)
    tables: list[pd.DataFrame] = field(default_factory=list)
    charts: list[pd.DataFrame] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    map_properties: list[dict] = field(default_factory=list)
    #: Label to URL of the last run's download buttons (older files are deleted by the server).
    downloads: dict[str, str] = field(default_factory=dict)
    #: Raw arguments of every component (folium's HTML and script, with its coordinates; the
    #: app's own map component's data, with the geometry it sends).
    components: list[str] = field(default_factory=list)
    #: Each table with the display texts its Styler sent (None: the browser formats the values)
    #: and its column configuration (column -> settings, as the browser receives them).
    displayed: list[tuple[pd.DataFrame, pd.DataFrame | None, dict]] = field(default_factory=list)
    #: What the browser writes in each table's missing cells (its ``placeholder``; "" when the
    #: page set none: the browser then writes « None »), in the order of ``displayed``.
    missing_texts: list[str] = field(default_factory=list)
    #: The data of every app map (ui.layer_map): layers' values, geometry sent, legend.
    layer_maps: list[dict] = field(default_factory=list)
    #: The Vega-Lite specification (JSON) of every chart.
    chart_specs: list[dict] = field(default_factory=list)
    #: Label, data type (0: integer, 1: float) and printf format of every number input.
    number_inputs: list[tuple[str, int, str]] = field(default_factory=list)
    #: Label, data type (0: integer, 1: float, 2+: dates) and printf format of every slider.
    sliders: list[tuple[str, int, str]] = field(default_factory=list)
    #: Label and placeholder of every select box and multiselect ("" when the page set none:
    #: the browser then shows Streamlit's English « Choose an option »).
    selects: list[tuple[str, str]] = field(default_factory=list)


def _frame(arrow_bytes: bytes) -> pd.DataFrame | None:
    if not arrow_bytes:
        return None
    with pa.ipc.open_stream(pa.py_buffer(arrow_bytes)) as reader:
        return reader.read_all().to_pandas()


def _map_properties(json_args: str) -> Iterator[dict]:
    """The feature properties of every GeoJSON layer in a st_folium component's arguments."""
    args = json.loads(json_args or "{}")
    text = " ".join(str(v) for v in args.values())
    for match in _PROPERTIES.finditer(text):
        try:
            yield json.loads(match.group(1))
        except json.JSONDecodeError:
            continue


def _layer_map_properties(data: dict) -> Iterator[dict]:
    """The feature properties of every layer the app's map component (ui.layer_map) receives."""
    for layer in data.get("layers", []):
        for row in layer.get("values", []):
            yield dict(zip(layer["fields"], row, strict=True))


class Wire:
    """Collects the binary frames a page receives over Streamlit's WebSocket."""

    def __init__(self, page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._keep))

    def _keep(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes | bytearray):
            self.frames.append(bytes(payload))

    def clear(self) -> None:
        """Forget what was received so far (read only what a later action brings)."""
        self.frames.clear()

    def sent(self) -> Sent:
        """Everything the frames carry, sorted by kind."""
        return collect(self.frames)


def _elements(frames) -> Iterator[object]:
    for payload in frames:
        msg = ForwardMsg.FromString(payload)
        if msg.HasField("delta") and msg.delta.HasField("new_element"):
            yield msg.delta.new_element


def collect(frames) -> Sent:
    """Everything serialised ``ForwardMsg`` frames carry, sorted by kind."""
    out = Sent()
    for el in _elements(frames):
        kind = el.WhichOneof("type")
        if kind == "metric":
            out.metrics.append((el.metric.label, el.metric.body))
        elif kind in ("dataframe", "table"):
            element = getattr(el, kind)
            arrow = element.arrow_data
            frame = _frame(arrow.data)
            if frame is not None:
                out.tables.append(frame)
                shown = _frame(arrow.styler.display_values) if arrow.HasField("styler") else None
                columns = json.loads(getattr(element, "columns", "") or "{}")
                out.displayed.append((frame, shown, columns))
                out.missing_texts.append(getattr(element, "placeholder", ""))
        elif kind == "number_input":
            out.number_inputs.append(
                (el.number_input.label, el.number_input.data_type, el.number_input.format)
            )
        elif kind in ("selectbox", "multiselect"):
            widget = getattr(el, kind)
            out.selects.append((widget.label, widget.placeholder))
        elif kind == "slider":
            out.sliders.append((el.slider.label, el.slider.data_type, el.slider.format))
        elif kind == "vega_lite_chart":
            chart = el.vega_lite_chart
            out.chart_specs.append(json.loads(chart.spec or "{}"))
            for data in [chart.data, *(d.data for d in chart.datasets)]:
                frame = _frame(data.data)
                if frame is not None:
                    out.charts.append(frame)
        elif kind in ("markdown", "heading", "alert", "text"):
            out.texts.append(getattr(el, kind).body)
        elif kind == "component_instance":
            out.map_properties.extend(_map_properties(el.component_instance.json_args))
            out.components.append(el.component_instance.json_args)
        elif kind == "bidi_component":
            bidi = el.bidi_component
            text = bidi.json if bidi.WhichOneof("data") == "json" else bidi.mixed.json
            data = json.loads(text or "{}")
            out.layer_maps.append(data)
            out.map_properties.extend(_layer_map_properties(data))
            out.components.append(text)
            out.components.extend(data.get("geometries", {}).values())  # GeoJSON, as sent
        elif kind == "download_button" and el.download_button.url:
            out.downloads[el.download_button.label] = el.download_button.url
    return out
