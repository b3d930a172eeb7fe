"""Faults injected at the operating-system calls every groklab write is made of (os.open, os.write, os.pwrite,
os.fsync, os.replace or os.link, os.makedirs: groklab.common.files), the way SQLite's test file system injects them.

A Fault names one file (by its name, or a glob such as step_*.pt), the occurrence of its write to strike (1: the
first) and what happens there:
- ENOSPC: the disk fills up during that write (half of it lands, then ENOSPC); from then on nothing under `root`
  can grow, but a file may still be overwritten within the space it holds, as on a real full disk;
- EIO: that write fails with EIO (a bad block: other files can still be written);
- EROFS: from that write on, the file system under `root` is read-only;
- KILL_BEFORE / KILL_AFTER: the process receives SIGKILL just before the write starts / just after it is durable
  (renamed into place, or appended and fsynced).
A write is one whole-file replacement (temporary file opened ... renamed), one append, or taking owner.lock.

`killed_cli` runs the real CLI in a process of its own with the fault installed (for the kills). The process is
forked from a server that imported groklab and torch once (multiprocessing's forkserver), so a kill costs no
interpreter start-up (about 5 s on these cores); the server has trained nothing, so no thread state is forked."""

from __future__ import annotations

import errno
import fnmatch
import multiprocessing
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("ENOSPC", "EIO", "EROFS", "KILL_BEFORE", "KILL_AFTER")
ERRORS = ("ENOSPC", "EIO", "EROFS")
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.\d+-\d+\.tmp$")  # groklab.common.files.write_atomic's temporary names
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR
BLOCK = 4096


def logical_name(path: str | os.PathLike) -> str:
    """The name of the file a write is for: a temporary file counts as the file it will replace."""
    name = Path(path).name
    match = _TEMPORARY.match(name)
    return match["name"] if match else name


@dataclass
class Fault:
    root: Path
    name: str
    occurrence: int
    kind: str
    seen: int = 0
    struck: bool = False
    _fds: dict[int, str] = field(default_factory=dict)  # open descriptors under root -> their path
    _appending: set[int] = field(default_factory=set)  # those opened to append (a history: a write per record)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        self.root = Path(self.root).resolve()

    # --- what the calls are for
    def _under_root(self, path: str | os.PathLike) -> bool:
        try:
            return Path(os.path.abspath(path)).is_relative_to(self.root)
        except TypeError:  # a descriptor, not a path
            return False

    def _targets(self, path: str | os.PathLike) -> bool:
        return self._under_root(path) and fnmatch.fnmatch(logical_name(path), self.name)

    def _begins(self, path: str) -> bool:
        """A write of the target begins here: count it; True when it is the one to strike."""
        if not self._targets(path):
            return False
        self.seen += 1
        return self.seen == self.occurrence

    def _fail(self, code: int, path: str) -> None:
        raise OSError(code, os.strerror(code), path)

    def _disk_full(self, fd: int, extra: int) -> bool:
        """Whether growing file `fd` by `extra` bytes needs space a full disk does not have."""
        size = os.fstat(fd).st_size
        return self.kind == "ENOSPC" and self.struck and -(-(size + extra) // BLOCK) > -(-size // BLOCK)

    # --- the calls
    def install(self) -> None:
        real = {name: getattr(os, name) for name in ("open", "write", "pwrite", "fsync", "replace", "link",
                                                     "makedirs", "mkdir", "close", "ftruncate", "unlink")}
        fault = self

        def fs_closed(path: str | os.PathLike) -> bool:  # the file system under root became read-only
            return fault.struck and fault.kind == "EROFS" and fault._under_root(path)

        def open_(path, flags, mode=0o777, *, dir_fd=None):
            writes = flags & _WRITE_FLAGS
            if writes and fault._under_root(path):
                if fs_closed(path):
                    fault._fail(errno.EROFS, path)
                if not flags & os.O_APPEND and fault._begins(path):  # an append is counted at each write
                    fault._strike_at_open(path)
            fd = real["open"](path, flags, mode, dir_fd=dir_fd)
            if fault._under_root(path):
                fault._fds[fd] = os.fspath(path)
                if flags & os.O_APPEND:
                    fault._appending.add(fd)
            return fd

        def write_(fd, data):
            path = fault._fds.get(fd)
            if path is not None:
                if fs_closed(path):
                    fault._fail(errno.EROFS, path)
                if fd in fault._appending and fault._begins(path):
                    fault._strike_at_append(fd, data, path, real["write"])
                if fault._disk_full(fd, len(data)):
                    fault._fail(errno.ENOSPC, path)
                if fault.kind == "EIO" and fault.struck and fault._pending_eio == path:
                    fault._pending_eio = None
                    fault._fail(errno.EIO, path)
            return real["write"](fd, data)

        def pwrite_(fd, data, offset):
            path = fault._fds.get(fd)
            if path is not None:
                if fs_closed(path):
                    fault._fail(errno.EROFS, path)
                if fault.kind == "EIO" and fault.struck and fault._pending_eio == path:
                    fault._pending_eio = None
                    fault._fail(errno.EIO, path)
                size = os.fstat(fd).st_size
                if fault._disk_full(fd, max(0, offset + len(data) - size)):
                    fault._fail(errno.ENOSPC, path)
            written = real["pwrite"](fd, data, offset)
            if path is not None and fault._after == path:
                fault._kill()
            return written

        def fsync_(fd):
            real["fsync"](fd)
            path = fault._fds.get(fd)
            if path is not None and fault._after == path and fd in fault._appending:
                fault._kill()

        def publisher(name):  # os.replace and os.link: a temporary file put in place under its final name
            def publish(src, dst, **kwargs):
                if fs_closed(dst):
                    fault._fail(errno.EROFS, dst)
                real[name](src, dst, **kwargs)
                if fault._after == os.fspath(src):
                    fault._kill()
            return publish

        def makedirs_(path, mode=0o777, exist_ok=False):
            if fs_closed(path) and not (exist_ok and os.path.isdir(path)):
                fault._fail(errno.EROFS, path)
            return real["makedirs"](path, mode, exist_ok)

        def mkdir_(path, mode=0o777, *, dir_fd=None):
            if fs_closed(path):
                fault._fail(errno.EROFS, path)
            return real["mkdir"](path, mode, dir_fd=dir_fd)

        def close_(fd):
            fault._fds.pop(fd, None)
            fault._appending.discard(fd)
            return real["close"](fd)

        def unlink_(path, *, dir_fd=None):
            if fs_closed(path):
                fault._fail(errno.EROFS, path)
            return real["unlink"](path, dir_fd=dir_fd)

        def ftruncate_(fd, length):
            path = fault._fds.get(fd)
            if path is not None and fs_closed(path):
                fault._fail(errno.EROFS, path)
            return real["ftruncate"](fd, length)

        self._after: str | None = None
        self._pending_eio: str | None = None
        for name, function in (("open", open_), ("write", write_), ("pwrite", pwrite_), ("fsync", fsync_),
                               ("replace", publisher("replace")),
                               ("link", publisher("link")), ("makedirs", makedirs_), ("mkdir", mkdir_),
                               ("close", close_), ("ftruncate", ftruncate_), ("unlink", unlink_)):
            setattr(os, name, function)
        self._real = real

    def uninstall(self) -> None:
        for name, function in self._real.items():
            setattr(os, name, function)

    # --- striking
    def _kill(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def _strike_at_open(self, path: str) -> None:
        """The struck write is a whole-file replacement (or owner.lock) opened here."""
        self.struck = True
        if self.kind == "KILL_BEFORE":
            self._kill()
        elif self.kind == "KILL_AFTER":
            self._after = os.fspath(path)  # killed once it is renamed into place (or, for the lock, written)
        elif self.kind == "EROFS":
            self._fail(errno.EROFS, path)
        elif self.kind == "EIO":
            self._pending_eio = os.fspath(path)  # its first write fails
        # ENOSPC: the disk is full from now on; the write fails as soon as it needs space

    def _strike_at_append(self, fd: int, data: bytes, path: str, write) -> None:
        """The struck write is an append of `data` to `path`."""
        self.struck = True
        if self.kind == "KILL_BEFORE":
            self._kill()
        elif self.kind == "KILL_AFTER":
            self._after = path  # killed once it is fsynced
        elif self.kind == "EROFS":
            self._fail(errno.EROFS, path)
        elif self.kind == "EIO":
            self._fail(errno.EIO, path)
        elif self.kind == "ENOSPC":
            write(fd, bytes(data[: len(data) // 2]))  # half of it lands before the disk is full
            self._fail(errno.ENOSPC, path)


_SERVER = multiprocessing.get_context("forkserver")
_SERVER.set_forkserver_preload(["groklab.cli", "groklab.run.execute", "groklab.train.trainer", "tests.faults"])


def killed_cli(fault: Fault, arguments: list[str], log: Path, timeout_s: float = 300) -> tuple[int | None, str]:
    """`groklab ARGUMENTS` in a real process with `fault` installed: (its exit code, -9 when SIGKILLed, None when
    it ran past `timeout_s`; what it printed, stdout and stderr together, kept in `log`)."""
    process = _SERVER.Process(target=_cli_with_fault, args=(fault, arguments, log))
    process.start()
    process.join(timeout_s)
    if process.exitcode is None:
        process.kill()
        process.join()
        return None, log.read_text()
    return process.exitcode, log.read_text()


def _cli_with_fault(fault: Fault, arguments: list[str], log: Path) -> None:
    """In the forked process: stdout and stderr to `log`, the fault installed, then the CLI (its exit code is
    the process's)."""
    from groklab.cli import main

    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for stream in (1, 2):
        os.dup2(descriptor, stream)
    os.close(descriptor)
    fault.install()
    sys.argv = ["groklab", *arguments]
    main()
