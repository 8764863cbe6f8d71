"""Opening an HDF5 file for reading: one error line for a missing, unreadable or damaged file, and no hang.

Every object is opened once (a damaged object header or B-tree is an error naming the object) and the global
heap collections that hold variable-length strings are checked: the HDF5 library would loop forever on a
damaged one.
"""

from __future__ import annotations

import os
from pathlib import Path

from lfi.errors import EventFileError
from lfi.reading import error_reason, is_read_error

__all__ = ["open_hdf5", "printable_name"]


def printable_name(name: str | bytes) -> str:
    """An HDF5 object name as text (a name that is not UTF-8 keeps its bytes as escapes)."""
    return name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name


def open_hdf5(path: str | os.PathLike):
    """Open an HDF5 file for reading; a missing or unreadable file is one :class:`EventFileError` line.

    Before returning, every object is opened once (a damaged object header or B-tree is an error naming the
    object) and the global heap collections that hold variable-length strings are checked (see
    :func:`_check_global_heaps`: the HDF5 library would loop forever on a damaged one).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: " + ("not a file" if path.exists() else "no such file"))
    try:
        f = h5py.File(path, "r")
    except (OSError, RuntimeError, ValueError) as err:
        raise EventFileError(f"{path}: not a readable HDF5 file ({error_reason(err)}); truncated or corrupted?") from None
    try:
        _check_global_heaps(f, path)
    except BaseException:
        f.close()
        raise
    return f


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SCAN_BLOCK = 1 << 24


def _check_global_heaps(f, path: Path) -> None:
    """Refuse a file with a damaged global heap collection before HDF5 reads a string from it.

    Variable-length strings (names, attributes) live in global heap collections. The HDF5 library (2.0.0,
    in h5py 3.16) loops forever loading a collection whose object list is damaged, e.g. by a zeroed object
    header: the free-space object then has size 0 and its parser never moves on. So every collection is
    walked here as the library walks it, and one whose objects do not tile it exactly is an error. Only the
    bytes outside the datasets' raw data are searched for collections (object headers, B-trees and heaps: a
    small part of a file), so this costs little next to reading the events.
    """
    with open(path, "rb") as raw:
        head = raw.read(16)
        if not head.startswith(_HDF5_SIGNATURE) or len(head) < 16:
            return  # a user block before the superblock: not written by lfi, not checked
        lengths = head[14] if head[8] in (0, 1) else head[10]
        if lengths != 8:
            return
        size = os.fstat(raw.fileno()).st_size
        extents = _raw_data_extents(f, path)
        start = 0
        for lo, hi in sorted(extents) + [(size, size)]:
            for block in range(start, min(lo, size), _SCAN_BLOCK):  # a gap between raw data: metadata
                raw.seek(block)
                data = raw.read(min(_SCAN_BLOCK + 3, lo - block))
                at = data.find(b"GCOL")
                while at >= 0:
                    _check_collection(raw, path, block + at, size)
                    at = data.find(b"GCOL", at + 1)
            start = max(start, hi)


def _raw_data_extents(f, path: Path) -> list[tuple[int, int]]:
    """(start, stop) byte ranges of every dataset's raw data; a damaged object is an error naming it."""
    import h5py

    extents: list[tuple[int, int]] = []
    seen = {hash(f.id)}
    where = "/"

    def walk(group) -> None:
        nonlocal where
        for name in group:  # h5py gives bytes for a name that is not UTF-8
            where = f"{printable_name(group.name).rstrip('/')}/{printable_name(name)}"
            node = group.get(name)  # None for a dangling soft link
            if node is None or hash(node.id) in seen:  # hard links may form cycles
                continue
            seen.add(hash(node.id))
            if isinstance(node, h5py.Group):
                walk(node)
            elif isinstance(node, h5py.Dataset):
                offset = node.id.get_offset()
                if offset is not None:
                    extents.append((offset, offset + node.id.get_storage_size()))
                elif node.chunks is not None:
                    node.id.chunk_iter(lambda chunk: extents.append((chunk.byte_offset, chunk.byte_offset + chunk.size)))
            where = printable_name(group.name)

    try:
        walk(f)
    except Exception as err:
        if not is_read_error(err):
            raise
        raise EventFileError(f"{path}: object {where}: unreadable ({error_reason(err)}); truncated or corrupted file?") from err
    return extents


def _check_collection(raw, path: Path, at: int, file_size: int) -> None:
    """Walk the global heap collection at byte ``at`` as HDF5 does; raise unless its objects tile it exactly."""
    raw.seek(at)
    header = raw.read(16)
    if len(header) < 16 or header[4] != 1 or header[5:8] != b"\0\0\0":
        return  # the four letters, not a collection header
    size = int.from_bytes(header[8:16], "little")
    if size < 16 or at + size > file_size:
        raise EventFileError(
            f"{path}: global heap collection at byte {at} has size {size}, beyond the file; truncated or corrupted file?"
        )
    data = header + raw.read(size - 16)
    position = 16
    while position + 16 <= size:  # the library takes a tail too small for an object header as free space
        index = int.from_bytes(data[position : position + 2], "little")
        length = int.from_bytes(data[position + 8 : position + 16], "little")
        step = 16 + (length + 7) // 8 * 8 if index > 0 else length
        if step <= 0 or position + step > size:
            raise EventFileError(
                f"{path}: global heap collection at byte {at} is damaged (object at byte {at + position}); "
                "truncated or corrupted file?"
            )
        position += step
