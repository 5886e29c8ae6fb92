"""A private D-Bus "system bus" for the fake BlueZ, and the environment bleak reads.

bleak connects to the system bus named by ``DBUS_SYSTEM_BUS_ADDRESS`` and, at its first connect,
runs ``bluetoothctl --version`` (it refuses BlueZ older than 5.55). Both are pointed at this
private world for the duration, then restored.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from devices.errors import SourceError

BLUEZ_VERSION: Final = "5.72"

_CONFIG: Final = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


class FakeBluezUnavailable(SourceError):
    """The simulated Bluetooth stack cannot run here (not Linux, or no ``dbus-daemon``)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"the simulated Bluetooth stack is unavailable ({detail}): it needs Linux with "
            "dbus-daemon (Debian/Ubuntu: `apt install dbus`); use the plain simulator instead"
        )


_PR_SET_PDEATHSIG: Final = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process dies (Linux).

    Even a SIGKILL of ours then ends the private ``dbus-daemon`` (prctl ``PR_SET_PDEATHSIG``).
    Everything is looked up before the fork: the child only makes two system calls. ``None``
    where prctl is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the death signal was armed
            os._exit(1)

    return preexec


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextlib.contextmanager
def private_system_bus() -> Iterator[str]:
    """Start a private ``dbus-daemon`` and make it the system bus; yields its address.

    Also puts a ``bluetoothctl`` shim reporting BlueZ 5.72 first on ``PATH``. The daemon is
    ended on the way out, and gets SIGTERM from the kernel if this process dies first.
    """
    if not sys.platform.startswith("linux"):
        raise FakeBluezUnavailable(f"platform {sys.platform!r} is not Linux")
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        raise FakeBluezUnavailable("dbus-daemon not found on PATH")
    with tempfile.TemporaryDirectory(prefix="biofeedback-bluez-") as tmp:
        root = Path(tmp)
        config = root / "bus.conf"
        config.write_text(_CONFIG.format(socket=root / "system_bus_socket"))
        shim = root / "bin" / "bluetoothctl"
        shim.parent.mkdir()
        shim.write_text(f"#!/bin/sh\necho 'bluetoothctl: {BLUEZ_VERSION}'\n")
        shim.chmod(0o755)
        proc = subprocess.Popen(
            [
                daemon,
                f"--config-file={config}",
                "--nofork",
                "--nopidfile",
                "--nosyslog",
                "--print-address=1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # Its own session: a Ctrl-C in the terminal must reach us, not kill the bus under us.
            start_new_session=True,
            # And it ends with us, even when we are killed with SIGKILL.
            preexec_fn=die_with_parent(),
        )
        try:
            assert proc.stdout is not None
            address = proc.stdout.readline().strip()
            if not address:
                raise FakeBluezUnavailable("dbus-daemon exited at start")
            path = f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            with _environment(DBUS_SYSTEM_BUS_ADDRESS=address, PATH=path):
                yield address
        finally:
            proc.terminate()
            proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
