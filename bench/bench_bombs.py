"""Decompression bombs against a fresh server: the peak memory each one costs it.

For each bomb, a fresh server (``streamlit run app.py``, local mode, its own workspace) is
started; a raw websocket client (``tests/security/client.py``) opens the Données page, asks
for an upload URL as the front end does, uploads the bomb, and sends the widget state that
hands it to the page, which reads it. Measured from ``/proc/<pid>/status`` of the server
process: its resident memory just before the upload and its peak (``VmHWM``, reset through
``/proc/<pid>/clear_refs`` just before, so the peak is this bomb's), and the message the page
answered. Goal (issue 23): every bomb refused with a French message, peak under +300 MB.

The bombs (built here): a Parquet file of two million copies of one 1,000-character string,
dictionary-encoded (~2 GB once read); an SSMSI base of 600 MB of identical rows in gzip; a ZIP
named ``.gpkg`` holding 300 MB of zeros (GDAL would open it through ``/vsizip/``).

Run: ``.venv/bin/python bench/bench_bombs.py``. These are measures, never test asserts.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLsRequest, UploadedFileInfo  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from tests.e2e.helpers import ARTIFACTS, streamlit_process  # noqa: E402
from tests.security.client import RawSession  # noqa: E402
from tests.security.test_bombs import gzip_bomb, parquet_bomb, zip_named  # noqa: E402

GOAL_MB = 300


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def one_bomb(label: str, data: bytes, filename: str, uploader: str) -> tuple[str, float, float, str]:
    workspace = tempfile.mkdtemp(prefix="bench-bombes-")
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_process({"DELINQ_WORKSPACE_DIR": workspace}) as (base, proc):
        with RawSession(base) as s:
            run = s.rerun(page="donnees")
            widget = run.widget("file_uploader", uploader)
            got = s.backmsg_and_wait(
                BackMsg(file_urls_request=FileURLsRequest(request_id="b", file_names=[filename])), 3
            )
            info = next(
                m for m in got if m.WhichOneof("type") == "file_urls_response"
            ).file_urls_response.file_urls[0]
            put = httpx.put(
                base + info.upload_url,
                files={"file": (filename, data)},
                headers={"X-Xsrftoken": s.cookies.get("_streamlit_xsrf")},
                cookies=s.cookies,
                timeout=120,
            )
            assert put.status_code == 204, put.status_code
            time.sleep(0.5)
            before = status_kb(proc.pid, "VmRSS")
            Path(f"/proc/{proc.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            state = FileUploaderState(
                uploaded_file_info=[UploadedFileInfo(name=filename, size=len(data), file_id=info.file_id)]
            )
            answer = s.rerun(
                widgets=[WidgetState(id=widget.id, file_uploader_state_value=state)], timeout=600
            )
            peak = status_kb(proc.pid, "VmHWM")
            said = next(
                (t for t in answer.sent().texts if "refusé" in t or "archive" in t), "(pas de refus affiché)"
            )
        return label, (peak - before) / 1024, len(data) / 1024, said


def main() -> int:
    bombs = [
        ("Parquet, 2 M × 1 000 caractères", parquet_bomb(), "faits.parquet", "Fichier"),
        ("SSMSI .csv.gz, 600 Mo de lignes", gzip_bomb(), "base.csv.gz", "Base SSMSI"),
        ("ZIP nommé .gpkg, 300 Mo de zéros", zip_named(b"\0" * (300 * 1024 * 1024)), "faits.gpkg", "Fichier"),
    ]
    print(f"{'bombe':36} {'taille':>10} {'pic serveur':>12}  objectif < +{GOAL_MB} Mo  message")
    for label, data, filename, uploader in bombs:
        name, peak_mb, size_kb, said = one_bomb(label, data, filename, uploader)
        verdict = "oui" if peak_mb < GOAL_MB else "NON"
        print(f"{name:36} {size_kb:8.0f} Ko {peak_mb:+9.0f} Mo  {verdict:>3}  {said[:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
