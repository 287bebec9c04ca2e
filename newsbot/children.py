"""Child processes that must not outlive the process that started them."""

import contextlib
import ctypes
import signal
import sys


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# The preexec_fn of a Popen whose child must not outlive this process (None elsewhere than Linux).
PREEXEC_DIE_WITH_PARENT = die_with_parent if sys.platform == "linux" else None
