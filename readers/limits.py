"""Bounds on what an uploaded file may become in memory, checked before it is read.

An upload is at most ``server.maxUploadSize`` (200 MB), but a small file can expand: a gzip
base of 1 MB can hold gigabytes of CSV, a Parquet file of a kilobyte two million copies of a
dictionary-encoded 1,000-character string, a file named ``.gpkg`` can be a ZIP that GDAL opens
through its ``/vsizip/`` virtual file system. Each reader calls these checks first:

- :func:`refuse_containers`: archives (ZIP, 7z, RAR, bzip2, xz, tar) and a gzip where none is
  expected are refused, never opened; a GeoPackage must start with the SQLite header, a
  GeoJSON with ``{``; nothing reaches GDAL but the file's own bytes (``/vsimem/``);
- :func:`gunzip_bounded`: a gzip is first decompressed as a stream that is only counted,
  stopped at :func:`expanded_limit`; only then is it decompressed for real;
- :func:`check_parquet_expansion`: a Parquet file is scanned batch by batch (one batch in
  memory at a time), adding up what its columns become once decoded, stopped at the limit.

The limit is relative: :data:`MAX_EXPANSION` times the file's size plus
:data:`EXPANSION_FLOOR_BYTES`. Measured on real files: the SSMSI bases of the real-data samples
expand 3.9x (départementale) and 6.4x (communale) from gzip, 1.7x to 9.2x from Parquet (snappy
or zstd) once decoded; the default data set's GeoParquet 6.9x. The bombs of
``tests/security/test_bombs.py`` expand 300x (gzip) to 10,000x (Parquet).
"""

from __future__ import annotations

import io
import zlib

from core.formatting import fmt_count

#: An uploaded file may expand to this many times its size (plus the floor) once decoded.
MAX_EXPANSION = 100
#: What any file may expand to whatever its size (bytes).
EXPANSION_FLOOR_BYTES = 64 * 1024 * 1024
#: Rows per batch when a Parquet file is scanned.
PARQUET_SCAN_ROWS = 16_384

_ARCHIVES = {
    b"PK\x03\x04": "ZIP",
    b"PK\x05\x06": "ZIP",
    b"7z\xbc\xaf": "7z",
    b"Rar!": "RAR",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
}
SQLITE_HEADER = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"


def expanded_limit(n_bytes: int) -> int:
    """The most a file of ``n_bytes`` may become once decompressed or decoded."""
    return EXPANSION_FLOOR_BYTES + MAX_EXPANSION * n_bytes


def _mb(n: int) -> str:
    return fmt_count(max(1, round(n / 1024 / 1024)))


def refuse_containers(
    data: bytes, filename: str, error: type[Exception], *, gzip_allowed: bool = False
) -> None:
    """Refuse an archive (or a gzip where none is expected) before any reader opens it.

    Raises
    ------
    error
        In French: what the file is and what to do.
    """
    head = data[:8]
    for magic, kind in _ARCHIVES.items():
        if head.startswith(magic):
            raise error(
                f"« {filename} » est une archive {kind} : elle n'est pas ouverte par l'application. "
                "Décompressez-la sur votre poste et importez le fichier qu'elle contient."
            )
    if len(data) > 262 and data[257:262] == b"ustar":
        raise error(
            f"« {filename} » est une archive tar : décompressez-la et importez le fichier qu'elle contient."
        )
    if head.startswith(GZIP_MAGIC) and not gzip_allowed:
        raise error(
            f"« {filename} » est compressé (gzip) : décompressez-le et importez le fichier qu'il contient "
            "(seules les bases SSMSI sont acceptées en .gz)."
        )


def check_geopackage(data: bytes, filename: str, error: type[Exception]) -> None:
    """A GeoPackage is a SQLite file: anything else named ``.gpkg`` is refused."""
    refuse_containers(data, filename, error)
    if not data.startswith(SQLITE_HEADER):
        raise error(
            f"« {filename} » n'est pas un GeoPackage (il ne commence pas par l'en-tête SQLite). "
            "Exportez de nouveau la couche en GeoPackage depuis votre SIG, ou en CSV."
        )


def gunzip_bounded(data: bytes, filename: str, error: type[Exception]) -> bytes:
    """Decompress a gzip file, after checking as a stream that it stays within the limit.

    Raises
    ------
    error
        A damaged archive, or one that expands beyond :func:`expanded_limit` (a decompression
        bomb, or a file too large for this server), in French.
    """
    limit = expanded_limit(len(data))
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total, pending = 0, data
    try:
        while pending:
            chunk = inflater.decompress(pending, 1 << 20)
            total += len(chunk)
            if total > limit:
                raise error(
                    f"« {filename} » se décompresse en plus de {_mb(limit)} Mo ({fmt_count(MAX_EXPANSION)} fois sa taille) : "
                    "fichier refusé (archive piégée, ou trop grande pour ce serveur). Vérifiez qu'il vient bien de "
                    "data.gouv.fr ; pour une base très volumineuse, importez-la décompressée et filtrée sur vos départements."
                )
            pending = inflater.unconsumed_tail
            if inflater.eof:
                if inflater.unused_data.startswith(GZIP_MAGIC):  # a multi-member gzip: go on with the next
                    pending, inflater = inflater.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
                    continue
                break
    except zlib.error as exc:
        raise error(
            f"Archive .gz « {filename} » illisible ou tronquée : téléchargez de nouveau le fichier."
        ) from exc
    import gzip

    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise error(
            f"Archive .gz « {filename} » illisible ou tronquée : téléchargez de nouveau le fichier."
        ) from exc


def decoded_nbytes(batch) -> int:
    """What a record batch takes once every dictionary column is decoded (the readers turn
    every column into plain text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    total = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            values = column.dictionary
            if (
                pa.types.is_string(values.type)
                or pa.types.is_binary(values.type)
                or pa.types.is_large_string(values.type)
            ):
                lengths = pc.fill_null(pc.binary_length(values), 0)
                total += int(pc.sum(pc.take(lengths, column.indices)).as_py() or 0) + 8 * len(column)
            else:
                total += (
                    values.type.bit_width // 8 * len(column)
                    if hasattr(values.type, "bit_width")
                    else column.nbytes
                )
        else:
            total += column.nbytes
    return total


def check_parquet_expansion(data: bytes, filename: str, error: type[Exception]) -> None:
    """Scan a Parquet file batch by batch and refuse it if its decoded columns exceed the limit.

    The column chunks' uncompressed sizes in the footer are not enough: dictionary-encoded
    strings are stored once and repeated by index, so two million copies of one long string
    count a few hundred kilobytes there and gigabytes once read. Here each batch is decoded
    (one at a time) and its size added up.
    """
    import pyarrow.parquet as pq

    limit = expanded_limit(len(data))
    try:
        reader = pq.ParquetFile(io.BytesIO(data))
        total = 0
        for batch in reader.iter_batches(batch_size=PARQUET_SCAN_ROWS):
            total += decoded_nbytes(batch)
            if total > limit:
                raise error(
                    f"« {filename} » occuperait plus de {_mb(limit)} Mo une fois lu ({fmt_count(MAX_EXPANSION)} fois sa taille) : "
                    "fichier refusé (fichier piégé, ou colonnes de texte très longues répétées). Exportez seulement les "
                    "colonnes utiles, ou en CSV."
                )
    except error:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types on damaged files
        raise error(
            f"Lecture impossible du fichier Parquet « {filename} » ({type(exc).__name__}). Vérifiez le fichier ou exportez-le en CSV."
        ) from exc
