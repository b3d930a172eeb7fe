"""Every file groklab writes goes through here: whole files replaced atomically, streams appended durably.

Each write is made of the operating system's own calls (open, write, fsync, rename, through the os module), so
that every one of them is a point where a fault can be injected and traced. A write that fails raises a
WriteError that names the file, the cause and the fix, and leaves what was there before as it was: a whole-file
write leaves the old file and removes its temporary file; a failed append is cut back to the end of the last
complete record.
"""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

_CAUSES = {
    errno.ENOSPC: ("the file system is full", "free space on it (df -h shows how much is left)"),
    errno.EDQUOT: ("the disk quota is used up", "free space within your quota (quota -s)"),
    errno.EROFS: ("the file system is read-only", "make it writable, or copy the folder to one that is"),
    errno.EACCES: ("permission was denied", "make the folder writable for this user, or copy it to one that is"),
    errno.EPERM: ("the operation was not permitted", "make the folder writable for this user"),
    errno.EIO: ("the storage reported an input/output error", "check the disk or network file system (dmesg), "
                "or copy the folder to other storage"),
}
_temporary_names = itertools.count()


class WriteError(OSError):
    """A file groklab could not write: names the file, the cause and what to do; nothing before it was changed."""

    def __init__(self, path: Path, err: OSError) -> None:
        super().__init__(err.errno, err.strerror, str(path))
        self.path = Path(path)
        self.cause, self.fix = _CAUSES.get(err.errno, (err.strerror or type(err).__name__, "fix that and retry"))
        self.next_step = ""

    def __str__(self) -> str:
        code = errno.errorcode.get(self.errno, str(self.errno))
        then = f"; then {self.next_step}" if self.next_step else ""
        return f"could not write {self.path}: {self.cause} ({code}); {self.fix}{then}"


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into a WriteError that names it (FileExistsError stays: the
    callers that create a name decide what an existing one means)."""
    try:
        yield
    except (WriteError, FileExistsError):
        raise
    except OSError as err:
        raise WriteError(path, err) from None


def make_folder(path: Path) -> None:
    """Create `path` and its parents (nothing when it exists)."""
    with writing(path):
        os.makedirs(path, exist_ok=True)


def _temporary(path: Path) -> Path:
    """A name beside `path` that no other writer uses (this process's id and a counter), hidden by its dot."""
    return path.with_name(f".{path.name}.{os.getpid()}-{next(_temporary_names)}.tmp")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_atomic(path: Path, data: bytes | str, *, keep_existing: bool = False) -> bool:
    """Replace `path` by `data` (text is written as UTF-8): written to a temporary file of a name no other
    writer uses, fsynced, then renamed over `path`, so a reader sees the old file or the new one, never half.
    With `keep_existing`, a file already at `path` (another writer's, however recent) is left as it is and False
    is returned: the first of several writers wins, whole."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = _temporary(path)
    with writing(path):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                _write_all(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            if not keep_existing:
                os.replace(tmp, path)
                return True
            try:
                os.link(tmp, path)  # fails when `path` exists, unlike a rename
            except FileExistsError:
                return False
            finally:
                _remove_quietly(tmp)
            return True
        except BaseException:
            _remove_quietly(tmp)
            raise


def overwrite_in_place(path: Path, data: str) -> None:
    """Write `data` over the existing file `path` where it lies, with no temporary file, so that it needs no new
    space on a full disk. Not atomic (a reader may see it half written): only for a last word that matters more,
    such as a run's failure when the disk is full."""
    payload = data.encode("utf-8")
    with writing(path):
        fd = os.open(path, os.O_WRONLY)
        try:
            offset = 0
            while offset < len(payload):
                offset += os.pwrite(fd, payload[offset:], offset)
            os.ftruncate(fd, len(payload))
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_quietly(path: Path) -> None:
    with suppress(OSError):
        os.unlink(path)


@contextmanager
def new_folder(path: Path) -> Iterator[Path]:
    """Build a folder under a temporary name beside `path` (yielded) and rename it to `path` once the block ends
    without an error, so that `path` appears whole or not at all (an empty folder there is replaced). On an error
    the temporary folder is removed and the WriteError names the file by its final path."""
    path = Path(path)
    tmp = _temporary(path)
    make_folder(path.parent)
    with writing(tmp):
        os.mkdir(tmp)
    try:
        try:
            yield tmp
        except WriteError as err:
            if err.path.is_relative_to(tmp):
                err.path = path / err.path.relative_to(tmp)
            raise
        with writing(path):
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class AppendFile:
    """A file records are appended to, each durable (written and fsynced) when `append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with writing(self.path):
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, text: str) -> None:
        """Append `text`; on failure the file is cut back to where it ended before, and WriteError is raised."""
        with writing(self.path):
            end = os.fstat(self._fd).st_size
            try:
                _write_all(self._fd, text.encode("utf-8"))
                os.fsync(self._fd)
            except OSError:
                with suppress(OSError):  # if even this fails, the reader skips a last line cut short
                    os.ftruncate(self._fd, end)
                raise

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def finite(value: Any) -> Any:
    """`value` with every non-finite float (NaN, infinity) replaced by None, in nested dicts and lists: what
    JSON can hold (a missing value reads back as NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def json_text(value: Any, indent: int | None = 1) -> str:
    """Strict JSON (no NaN or Infinity tokens, which other tools refuse) for results written or printed."""
    return json.dumps(finite(value), indent=indent, allow_nan=False, default=str)
