"""Snapshots: every index written atomically to `snapshots/<id>/`, each file with a checksum, and read back verified.

A snapshot is written as `snapshots/.tmp-<id>/`, every file fsynced, the manifest written last, then renamed to
`snapshots/<id>/` and the folder fsynced: a crash at any point leaves either the whole snapshot or none, and a
write that fails (a full disk) removes its temporary folder (start-up removes any left by a crash).
Per index (`<id>/index/<index>/`: under a folder of their own, so no index name can collide with the
manifest; snapshots written before that have `<id>/<index>/`, and are read as such):

- `schema.toml`: the schema as given;
- `bitmaps.bin` + `bitmaps.offsets.npy`: every bitmap (existence, field rows, time views, lists, kept
  segment members) in the roaring portable format, concatenated; the offsets table has one more entry
  than there are bitmaps;
- `*.npy`: numpy columns (purchase lines, numeric fields, value codes, order pairs), written by `np.save`
  in the narrowest integer type that holds their values (a line's dimension codes rarely need more than a byte;
  half the bytes to write, fsync and read), widened again on load;
- `*.msgpack`: external ids by column (None where erased), and long lists of names such as order ids, as
  a stream of msgpack arrays of up to 8,192 items each (so that they can be read a chunk at a time);
- `meta.msgpack`: everything else (names, dictionaries, segments, lists, tierings, histories), with each bitmap,
  column and file referenced by number or name.

The `.npy` and `.msgpack` files are named by the declared layout (layout.py), never by the state's keys:
`capture` refuses an array or long list the layout has no file for. FORMAT 1 snapshots (names taken from the
keys) are refused with a clear message, not migrated: bitseg is pre-1.0, and the log or a re-import rebuilds
the data.

`MANIFEST` (JSON plus a last line `crc32 <hex>` over the JSON) lists every file with its size and crc32, the log
sequence number each index was captured at, and `base_seq`, the log position the snapshot starts from.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
from pyroaring import BitMap

from bitseg.errors import PersistenceError
from bitseg.persistence.capture import ARRAY, BITMAP, LIST, OBJECTS, Captured
from bitseg.persistence.layout import FORMAT
from bitseg.persistence.wal import fsync_directory

MANIFEST = "MANIFEST"
TEMP_PREFIX = ".tmp-"
INDEXES = "index"  # the folder of the index folders in a snapshot
_CHUNK = 1 << 13  # items per msgpack array in a list file: decoding one holds the GIL for a few ms at most


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot on disk, as its manifest describes it (`problem` is set when the manifest cannot be read)."""

    id: str
    path: Path
    created: str = ""
    bytes: int = 0
    indexes: tuple[str, ...] = ()
    base_seq: int = 0
    daily: bool = False
    problem: str | None = None


# ── writing ──────────────────────────────────────────────────────────────────────────────────────────

class _Checked:
    """A file being written: counts bytes and computes the crc32 of everything written through it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "xb")  # noqa: SIM115 - closed by close(), which also fsyncs
        self.crc = 0
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self.file.write(data)

    def close(self) -> dict[str, int]:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        finally:
            self.file.close()  # the descriptor goes even when the disk is full (closing may raise again)
        return {"bytes": self.size, "crc32": self.crc}


def _write(path: Path, chunks: Iterable[bytes]) -> dict[str, int]:
    file = _Checked(path)
    try:
        for chunk in chunks:
            file.write(chunk)
    finally:
        entry = file.close()
    return entry


def _write_array(path: Path, array: np.ndarray) -> dict[str, int]:
    """An .npy file (what np.save writes), the data handed to the file without an intermediate copy."""
    array = np.ascontiguousarray(array)
    file = _Checked(path)
    try:
        np.lib.format.write_array_header_1_0(file, np.lib.format.header_data_from_array_1_0(array))
        if array.size:
            file.write(array.reshape(-1).view(np.uint8).data)
    finally:
        entry = file.close()
    return entry


def _chunks(items: list) -> Iterator[bytes]:
    for start in range(0, max(len(items), 1), _CHUNK):
        yield msgpack.packb(items[start: start + _CHUNK], use_bin_type=True)


def _write_index(folder: Path, captured: Captured) -> dict[str, dict[str, int]]:
    folder.mkdir()
    files: dict[str, dict[str, int]] = {}
    files["schema.toml"] = _write(folder / "schema.toml", [captured.schema_toml.encode()])
    offsets = np.zeros(len(captured.bitmaps) + 1, dtype=np.uint64)
    np.cumsum([len(b) for b in captured.bitmaps], out=offsets[1:])
    files["bitmaps.bin"] = _write(folder / "bitmaps.bin", captured.bitmaps)
    files["bitmaps.offsets.npy"] = _write_array(folder / "bitmaps.offsets.npy", offsets)
    for name, array in captured.arrays.items():
        files[name] = _write_array(folder / name, array)
    for name, items in captured.objects.items():
        files[name] = _write(folder / name, _chunks(items))
    files["meta.msgpack"] = _write(folder / "meta.msgpack", [msgpack.packb(captured.meta, use_bin_type=True)])
    fsync_directory(folder)
    return files


def new_id(root: Path, created: dt.datetime) -> str:
    """A folder name from the creation time (UTC) that sorts after every snapshot already there."""
    stamp = created.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    taken = [p.name for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []
    newest = max(taken, default="")
    candidate, n = stamp, 0
    while candidate in taken or candidate <= newest:
        n += 1
        candidate = f"{max(stamp, newest.split('-')[0])}-{n:03d}"
    return candidate


def write(root: Path, captured: list[Captured], base_seq: int, created: dt.datetime, daily: bool,
          extra: Mapping[str, Any] | None = None) -> SnapshotInfo:
    """Write a snapshot of the captured indexes atomically (`extra`: more manifest entries); returns what was
    written."""
    root.mkdir(parents=True, exist_ok=True)
    remove_temporary(root)
    snapshot_id = new_id(root, created)
    temp = root / (TEMP_PREFIX + snapshot_id)
    try:
        temp.mkdir()
        (temp / INDEXES).mkdir()
        indexes = {}
        for item in captured:
            indexes[item.name] = {"seq": item.seq, "files": _write_index(temp / INDEXES / item.name, item)}
        manifest = {"format": FORMAT, "id": snapshot_id, "created": created.isoformat(), "daily": daily,
                    "base_seq": base_seq, "indexes": indexes, "folders": INDEXES, **(extra or {})}
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        _write(temp / MANIFEST, [body, b"\ncrc32 %08x\n" % zlib.crc32(body)])
        fsync_directory(temp)
        _publish(temp, root / snapshot_id)
    except Exception:
        shutil.rmtree(temp, ignore_errors=True)  # a failed write leaves no folder holding the last free space
        raise
    fsync_directory(root)
    return _info(root / snapshot_id, manifest)


def _publish(temp: Path, final: Path) -> None:
    """The moment a snapshot exists: one rename of its finished folder."""
    os.rename(temp, final)


def remove_temporary(root: Path) -> None:
    """Delete what a snapshot write cut short by a crash left behind."""
    for path in root.glob(TEMP_PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)


def prune(root: Path, keep: int, keep_on_demand: int | None = None) -> list[str]:
    """Keep the newest `keep` daily snapshots and, apart from them, the newest `keep_on_demand` others (on demand,
    at shutdown; default `keep`), and always the newest two (the log reaches back to the second); delete the
    rest. Returns the deleted ids."""
    keep_on_demand = keep if keep_on_demand is None else keep_on_demand
    daily = others = 0
    gone = []
    for number, info in enumerate(list_all(root)):  # newest first
        if info.daily and info.problem is None:
            daily += 1
            kept = daily <= keep
        else:
            others += 1
            kept = others <= keep_on_demand
        if not kept and number >= 2:
            gone.append(info.id)
    for snapshot_id in gone:
        shutil.rmtree(root / snapshot_id)
    if gone:
        fsync_directory(root)
    return gone


# ── reading ──────────────────────────────────────────────────────────────────────────────────────────

def read_manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    try:
        text = file.read_bytes()
    except OSError as err:
        raise PersistenceError(f"snapshot {path.name}: cannot read {file}: {err.strerror}") from None
    body, _, last = text.rstrip(b"\n").rpartition(b"\n")
    try:
        expected = int(last.split(b" ")[1], 16) if last.startswith(b"crc32 ") else None
    except (IndexError, ValueError):
        expected = None
    if expected is None or zlib.crc32(body) != expected:
        raise PersistenceError(f"snapshot {path.name}: {file} is damaged (its checksum does not match)")
    manifest = json.loads(body)
    if manifest.get("format") == 1:
        raise PersistenceError(f"snapshot {path.name}: format 1 is no longer read (before 1.0, snapshots are "
                               "not migrated); delete it to start from the log, or re-import the data")
    if manifest.get("format") != FORMAT:
        raise PersistenceError(f"snapshot {path.name}: format {manifest.get('format')!r} is not {FORMAT}; "
                               "it was written by another version of bitseg")
    return manifest


def _info(path: Path, manifest: Mapping[str, Any]) -> SnapshotInfo:
    size = sum(f["bytes"] for index in manifest["indexes"].values() for f in index["files"].values())
    return SnapshotInfo(manifest["id"], path, manifest["created"], size, tuple(sorted(manifest["indexes"])),
                        manifest["base_seq"], manifest.get("daily", False))


def list_all(root: Path) -> list[SnapshotInfo]:
    """Every snapshot folder, newest first, as its manifest describes it (checksums of data files not read)."""
    if not root.exists():
        return []
    out = []
    for path in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        try:
            out.append(_info(path, read_manifest(path)))
        except (PersistenceError, ValueError, KeyError) as err:
            out.append(SnapshotInfo(path.name, path, problem=str(err)))
    return out


def _read_verified(path: Path, entry: Mapping[str, int], snapshot_id: str) -> np.ndarray:
    """A file's bytes (as a writable uint8 array, not zero-filled first), checked against the manifest."""
    try:
        with open(path, "rb", buffering=0) as file:
            data = np.empty(os.fstat(file.fileno()).st_size, dtype=np.uint8)
            view = data.data
            done = 0
            while done < len(data):
                got = file.readinto(view[done:])
                if not got:
                    break
                done += got
            data = data[:done]
    except OSError as err:
        raise PersistenceError(f"snapshot {snapshot_id}: cannot read {path}: {err.strerror}") from None
    if len(data) != entry["bytes"] or zlib.crc32(data.data) != entry["crc32"]:
        raise PersistenceError(f"snapshot {snapshot_id}: {path} is damaged (its size or checksum does not match "
                               "the manifest)")
    return data


def _array(data: np.ndarray) -> np.ndarray:
    """An .npy file's array over the bytes already read (no copy; writable)."""
    head = io.BytesIO(data[:4096].tobytes())
    major, _ = np.lib.format.read_magic(head)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(head)
    count = int(np.prod(shape))
    array = np.frombuffer(data, dtype=dtype, count=count, offset=head.tell())
    return array.reshape(shape, order="F" if fortran else "C")


class ChunkedList:
    """A long list of names from a snapshot, verified but not yet decoded: `chunks()` decodes it a piece at a time."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def chunks(self) -> Iterator[list]:
        unpacker = msgpack.Unpacker(io.BytesIO(self._data.data), raw=False, max_buffer_size=1 << 31)
        yield from unpacker

    def to_list(self) -> list:
        return [item for chunk in self.chunks() for item in chunk]


@dataclass
class LoadedIndex:
    name: str
    schema_toml: str
    seq: int
    state: dict[str, Any]


def load(path: Path, deferred: Iterable[str] = ()) -> tuple[dict[str, Any], list[LoadedIndex]]:
    """The manifest and every index of a snapshot, each file verified; PersistenceError names a damaged one.

    Long lists stored in the files named in `deferred` come back as ChunkedList, for the caller to decode later.
    """
    manifest = read_manifest(path)
    folder = path / manifest["folders"] if "folders" in manifest else path
    indexes = [_load_index(path.name, folder / name, entry, frozenset(deferred))
               for name, entry in sorted(manifest["indexes"].items())]
    return manifest, indexes


def _load_index(snapshot_id: str, folder: Path, entry: Mapping[str, Any], deferred: frozenset[str]) -> LoadedIndex:
    files = entry["files"]
    missing = set(files) - {p.name for p in folder.iterdir()} if folder.is_dir() else set(files)
    if missing:
        raise PersistenceError(f"snapshot {snapshot_id}: {folder / min(missing)} is missing")

    def verified(file: str) -> np.ndarray:
        if file not in files:
            raise PersistenceError(f"snapshot {snapshot_id}: {folder / file} is not in the manifest")
        return _read_verified(folder / file, files[file], snapshot_id)

    blob = verified("bitmaps.bin").data
    offsets = _array(verified("bitmaps.offsets.npy")).tolist()

    def ext(code: int, data: bytes) -> Any:
        if code == BITMAP:
            i = int.from_bytes(data, "little")
            return BitMap.deserialize(blob[offsets[i]: offsets[i + 1]])  # type: ignore[arg-type]
        if code == ARRAY:
            file, dtype = msgpack.unpackb(data, raw=False)
            array = _array(verified(file))
            return array if array.dtype == np.dtype(dtype) else array.astype(dtype)
        if code == OBJECTS:
            items = ChunkedList(verified(data.decode())).to_list()
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array
        if code == LIST:
            chunked = ChunkedList(verified(data.decode()))
            return chunked if data.decode() in deferred else chunked.to_list()
        raise PersistenceError(f"snapshot {snapshot_id}: unknown reference type {code} in {folder}")

    try:
        state = msgpack.unpackb(verified("meta.msgpack"), ext_hook=ext, raw=False, strict_map_key=False)
    except PersistenceError:
        raise
    except Exception as err:
        raise PersistenceError(f"snapshot {snapshot_id}: {folder} does not decode ({err})") from err
    schema_toml = verified("schema.toml").tobytes().decode()
    return LoadedIndex(folder.name, schema_toml, entry["seq"], state)
