"""Decompression bombs and disguised archives: refused with a French message before they expand.

The bombs are built here, small on disk and huge once read; none is ever decoded in full (the
peak memory of a server reading them is measured by ``bench/bench_bombs.py``).
"""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import IncidentFileError
from readers.incident_files import read_incident_file
from readers.organisation import OrganisationFileError, competence_from_bytes
from readers.sites import roads_from_bytes
from readers.ssmsi import StatisticsFileError, official_statistics_from_bytes

SSMSI_HEADER = (
    '"CODGEO_2026";"annee";"indicateur";"unite_de_compte";"nombre";"taux_pour_mille";"est_diffuse";"insee_pop";'
    '"insee_pop_millesime";"insee_log";"insee_log_millesime";"complement_info_nombre";"complement_info_taux"\n'
)
SSMSI_ROW = '"53130";"2025";"Cambriolages de logement";"Infraction";"12";"0,4";"diff";"49728";"2023";"26000";"2022";"NA";"NA"\n'


def parquet_bomb(rows: int = 2_000_000, width: int = 1000) -> bytes:
    """Two million copies of one 1,000-character string, dictionary-encoded: ~2 GB once read."""
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array(["x" * width]))
    out = io.BytesIO()
    pq.write_table(pa.table({"libelle": column}), out, compression="zstd")
    return out.getvalue()


def gzip_bomb(target_bytes: int = 600 * 1024 * 1024) -> bytes:
    """An SSMSI base of ``target_bytes`` of identical rows, gzip-compressed as a stream."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = (SSMSI_ROW * (1_048_576 // len(SSMSI_ROW))).encode()
    parts = [packer.compress(SSMSI_HEADER.encode())]
    for _ in range(target_bytes // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


def zip_named(member: bytes, name: str = "faits.gpkg") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, member)
    return out.getvalue()


def test_the_parquet_bomb_is_small_on_disk_and_huge_once_decoded():
    from readers.limits import decoded_nbytes

    data = parquet_bomb()
    assert len(data) < 300_000  # ~2 GB once read: ten thousand times its size
    first = next(pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=1000))
    assert decoded_nbytes(first) >= 1000 * 1000  # what the scan counts: the decoded strings


def test_a_parquet_bomb_is_refused():
    with pytest.raises(IncidentFileError, match="fois sa taille"):
        read_incident_file(parquet_bomb(), "faits.parquet")


def test_a_normal_parquet_still_reads():
    out = io.BytesIO()
    pq.write_table(pa.table({"date": ["2025-01-02"] * 1000, "infraction": ["Vol"] * 1000}), out)
    raw = read_incident_file(out.getvalue(), "faits.parquet")
    assert raw.n_rows == 1000


def test_a_gzip_bomb_is_refused_as_a_stream():
    from readers.limits import expanded_limit

    data = gzip_bomb()
    assert len(data) < 3_000_000 and expanded_limit(len(data)) < 600 * 1024 * 1024
    with pytest.raises(StatisticsFileError, match="se décompresse en plus de"):
        official_statistics_from_bytes(data, "base.csv.gz")


def test_a_small_real_gzip_base_still_reads():
    import gzip

    data = gzip.compress((SSMSI_HEADER + SSMSI_ROW * 50).encode())
    stats = official_statistics_from_bytes(data, "base.csv.gz")
    assert len(stats.table) == 50


@pytest.mark.parametrize("name", ["faits.gpkg", "faits.geojson", "faits.csv", "faits.parquet"])
def test_a_zip_under_any_name_is_never_opened(name):
    data = zip_named(b"\0" * 5_000_000)
    with pytest.raises(IncidentFileError, match="archive ZIP"):
        read_incident_file(data, name)


def test_a_geopackage_must_be_sqlite():
    with pytest.raises(IncidentFileError, match="en-tête SQLite"):
        read_incident_file(b"\x00" * 2000, "faits.gpkg")


def test_other_archives_and_stray_gzip_are_refused():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        info = tarfile.TarInfo("faits.csv")
        info.size = 3
        t.addfile(info, io.BytesIO(b"a;b"))
    with pytest.raises(IncidentFileError, match="tar"):
        read_incident_file(out.getvalue(), "faits.csv")
    import gzip

    with pytest.raises(IncidentFileError, match="gzip"):
        read_incident_file(gzip.compress(b"date;infraction\n"), "faits.csv")
    with pytest.raises(StatisticsFileError, match="archive ZIP"):
        official_statistics_from_bytes(zip_named(b"x"), "base.csv")


def test_organisation_and_road_files_refuse_archives():
    with pytest.raises(OrganisationFileError, match="archive ZIP"):
        competence_from_bytes(zip_named(b"x", "competence.csv"), "competence.csv")
    with pytest.raises(IncidentFileError, match="archive ZIP"):
        roads_from_bytes(zip_named(b"x"), "routes.gpkg")
    with pytest.raises(IncidentFileError, match="ni un GeoJSON ni un GeoPackage"):
        roads_from_bytes(b"not a file", "routes.txt")
