"""Append-only files (the JSON Lines journal, the WARC archive) written a whole record at a time, in one
write() with no Python buffer to lose to a kill; a write the disk refuses is taken back."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

# fsync errors that mean "this file cannot be synced" (a device such as /dev/full, a pipe), not lost data.
_NO_FSYNC = (errno.EINVAL, errno.EROFS, errno.ENOTSUP)


def write_whole(fd: int, data: bytes, before: int, path: Path) -> None:
    """Append `data` to the file open at `fd` (O_APPEND), whose size was `before`; OSError if the disk
    refuses it, after taking back the part that did get written."""
    written = 0
    try:
        while written < len(data):  # more than once only on a full disk or a signal
            written += os.write(fd, data[written:])
    except OSError:
        if written:
            _take_back(fd, before, written, path)
        raise


def _take_back(fd: int, before: int, written: int, path: Path) -> None:
    # Cut only if nothing follows what we wrote (another writer's record after ours stays; the
    # next run's trim of a partial last record has nothing to do then either).
    try:
        if os.fstat(fd).st_size == before + written:
            os.ftruncate(fd, before)
            return
    except OSError as exc:
        logger.debug("Could not cut the partial record from %s: %s", path, exc)
    logger.warning("%s ends in a partial record (%d bytes); the next crawl removes it", path, written)


def close_synced(fd: int) -> OSError | None:
    """fsync and close; the error if the kernel could not write back what it had taken."""
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_FSYNC:
            return exc
    finally:
        os.close(fd)
    return None
