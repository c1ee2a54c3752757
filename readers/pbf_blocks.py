"""The blocks of an OpenStreetMap PBF file, checked before osmium reads it.

A PBF file is a sequence of blocks (OSM wiki, « PBF Format »): a 4-byte length, a block header
(type, size) and the block, compressed with zlib and declaring its decompressed size. The
format bounds a header to 64 KiB and a block to 32 MiB; :func:`check_pbf_blocks` holds every
block to those bounds and to what it declares, and the whole file to the expansion any upload
is allowed (:func:`readers.limits.expanded_limit`), decompressing one block at a time and only
counting: a file of any size is checked in bounded memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import BinaryIO

from core.formatting import fmt_count
from readers.limits import expanded_limit
from readers.road_model import RoadFileError

#: The PBF format's bounds (OSM wiki, « PBF Format »): a block header under 64 KiB, a block
#: under 32 MiB compressed or not.
PBF_MAX_HEADER = 64 * 1024
PBF_MAX_BLOB = 32 * 1024 * 1024


# ---------------------------------------------------------------------------------------
# OSM PBF: the blocks, checked before osmium reads them
# ---------------------------------------------------------------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> dict[int, list[bytes | int]]:
    """The fields of a protobuf message (number -> values): varints as int, the others as bytes."""
    out: dict[int, list[bytes | int]] = {}
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise ValueError("truncated field")
            value, i = buf[i : i + size], i + size
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


@dataclass
class PbfSummary:
    """What :func:`check_pbf_blocks` found: blocks, their decompressed size, the header's box."""

    blocks: int
    decompressed: int
    bbox: tuple[float, float, float, float] | None  # lon_min, lat_min, lon_max, lat_max
    features: tuple[str, ...]
    timestamp: int | None = None  # the extract's replication time (seconds since 1970, UTC)


def check_pbf_blocks(stream: BinaryIO, filename: str, *, size: int) -> PbfSummary:
    """Read every block of an OSM PBF, decompress it counting only, and check the format's
    bounds and the expansion of the whole file (:func:`readers.limits.expanded_limit`).

    One block at a time is in memory (at most 32 MiB): a file of any size is checked in
    bounded memory, before osmium reads it.

    Raises
    ------
    RoadFileError
        A block larger than the format allows, one whose content is larger than it declares,
        a compression osmium cannot read, a history file, or a file expanding beyond the limit.
    """
    limit = expanded_limit(size)
    total = blocks = 0
    bbox = None
    features: tuple[str, ...] = ()
    timestamp = None
    bad = f"« {filename} » n'est pas un extrait OpenStreetMap valide"
    while True:
        head = stream.read(4)
        if not head:
            break
        if len(head) < 4:
            raise RoadFileError(f"{bad} : fichier tronqué (bloc {blocks + 1}). Téléchargez-le de nouveau.")
        n = int.from_bytes(head, "big")
        if n > PBF_MAX_HEADER:
            raise RoadFileError(f"{bad} : en-tête de bloc de {fmt_count(n)} octets (64 Kio au plus).")
        try:
            header = _fields(stream.read(n))
            kind = bytes(header[1][0]).decode("ascii", "replace")
            datasize = int(header[3][0])
        except (KeyError, IndexError, ValueError) as exc:
            raise RoadFileError(
                f"{bad} : en-tête du bloc {blocks + 1} illisible. Téléchargez-le de nouveau."
            ) from exc
        if datasize > PBF_MAX_BLOB:
            raise RoadFileError(
                f"{bad} : bloc {blocks + 1} de {fmt_count(datasize)} octets (32 Mio au plus)."
            )
        raw = stream.read(datasize)
        try:
            blob = _fields(raw)
        except ValueError as exc:
            raise RoadFileError(f"{bad} : bloc {blocks + 1} illisible. Téléchargez-le de nouveau.") from exc
        if 1 in blob:
            content = bytes(blob[1][0])
        elif 3 in blob:
            declared = int(blob.get(2, [0])[0])
            if declared > PBF_MAX_BLOB:
                raise RoadFileError(
                    f"{bad} : le bloc {blocks + 1} annonce {fmt_count(declared)} octets décompressés (32 Mio au plus)."
                )
            inflater = zlib.decompressobj()
            try:
                content = inflater.decompress(bytes(blob[3][0]), declared + 1)
            except zlib.error as exc:
                raise RoadFileError(f"{bad} : bloc {blocks + 1} corrompu ({exc}).") from exc
            if len(content) > declared or inflater.unconsumed_tail:
                raise RoadFileError(
                    f"« {filename} » est refusé : son bloc {blocks + 1} se décompresse au-delà de la taille "
                    "qu'il annonce (fichier piégé ou corrompu)."
                )
        else:
            raise RoadFileError(
                f"{bad} : bloc {blocks + 1} compressé autrement qu'en zlib. "
                "Utilisez un extrait Geofabrik, ou convertissez-le avec « osmium cat »."
            )
        blocks += 1
        total += len(content)
        if total > limit:
            raise RoadFileError(
                f"« {filename} » est refusé : une fois décompressé il dépasserait {fmt_count(limit // 2**20)} Mo "
                f"({fmt_count(size // 2**20)} Mo sur disque). Découpez l'extrait au département (osmium extract)."
            )
        if kind == "OSMHeader":
            try:
                head_fields = _fields(content)
            except ValueError as exc:
                raise RoadFileError(f"{bad} : en-tête OSM illisible.") from exc
            features = tuple(bytes(v).decode("utf-8", "replace") for v in head_fields.get(4, []))
            if "HistoricalInformation" in features:
                raise RoadFileError(
                    f"« {filename} » est un fichier d'historique OSM : téléchargez l'extrait courant (.osm.pbf)."
                )
            if 32 in head_fields:
                timestamp = int(head_fields[32][0])
            if 1 in head_fields:
                box = _fields(bytes(head_fields[1][0]))
                signed = [_signed(int(box[k][0])) * 1e-9 for k in (1, 2, 3, 4)]  # left right top bottom
                bbox = (signed[0], signed[3], signed[1], signed[2])
        elif kind != "OSMData":
            raise RoadFileError(f"{bad} : bloc de type « {kind[:40]} » inconnu.")
    if blocks == 0:
        raise RoadFileError(f"« {filename} » est vide.")
    return PbfSummary(blocks, total, bbox, features, timestamp)


def _signed(value: int) -> int:
    """A protobuf ``sint64`` from its zigzag varint."""
    return (value >> 1) ^ -(value & 1)
