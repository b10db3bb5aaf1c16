"""Starting, joining and leaving Ray for a batch (``--ray local``, ``auto``, ``HOST:PORT``).

Privacy: ``--ray local`` starts Ray with usage statistics off (``RAY_USAGE_STATS_ENABLED=0``,
set before Ray starts), without its dashboard, with token authentication whose token lives only
in this process's environment (Ray would write one under ``~/.ray``), and with its logs and
sockets in an owner-only temporary folder that `shutdown` removes (not ``/tmp/ray``). Joining a
cluster fails fast, in one line, when its address does not answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
from typing import Any

from gong_client.batch.errors import BatchError

__all__ = ["INSTALL_HINT", "connect", "death_reason", "import_ray", "one_line", "shutdown"]

INSTALL_HINT = "pip install '.[ray]' (or 'gong-diarize[ray]')"
_LOCAL_OBJECT_STORE_BYTES = 512 * 2**20  # jobs and outcomes are small; recordings go by path
_PROBE_TIMEOUT_S = 5.0
_DEFAULT_PORT = 6379
_local_temp_dirs: list[str] = []  # of the local instances this process started


def import_ray() -> Any:
    """Ray, or a one-line `BatchError` saying how to install it."""
    try:
        import ray
    except ModuleNotFoundError:
        raise BatchError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def connect(address: str = "local", *, num_cpus: int | None = None) -> bool:
    """Start or join Ray for a batch; True when this call did it (the caller shuts it down).

    Parameters
    ----------
    address
        ``"local"``: start a private Ray instance on this machine; ``"auto"``: join the cluster
        that ``ray start`` set up here (or ``RAY_ADDRESS``); else a cluster's ``HOST:PORT``
        (or a Ray Client ``ray://HOST:PORT``).
    num_cpus
        CPUs of a local instance (default: the machine's).

    Raises
    ------
    BatchError
        Ray is not installed, no cluster is found, or its address cannot be reached.
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read when Ray starts
    imported_before = sys.modules.get("ray") is not None
    if imported_before and sys.modules["ray"].is_initialized():
        return False
    if address == "local":
        _private_token(refresh=imported_before)  # before Ray is imported, where it can be
    ray = import_ray()
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address == "local":
        temp_dir = tempfile.mkdtemp(prefix="gong-ray-")  # owner-only; removed by `shutdown`
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=_LOCAL_OBJECT_STORE_BYTES,
                _temp_dir=temp_dir,
                **quiet,
            )
        except Exception as exc:  # Ray's start-up errors have no common base class
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise BatchError(f"--ray local: cannot start Ray ({one_line(exc)})") from None
        _local_temp_dirs.append(temp_dir)
        return True
    target = _resolve(ray, address)
    _probe(address, target)
    try:
        ray.init(address=target, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as exc:  # noqa: BLE001 (as above)
        raise BatchError(f"--ray {address}: cannot join the cluster ({one_line(exc)})") from None
    return True


def shutdown() -> None:
    """Shut Ray down in this process, and remove a local instance's files (logs, sockets)."""
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()
    while _local_temp_dirs:
        shutil.rmtree(_local_temp_dirs.pop(), ignore_errors=True)


def _private_token(refresh: bool) -> None:
    """Token authentication for a local instance, with a token that lives in this process's
    environment only (Ray would otherwise write one under ``~/.ray``).

    Ray reads the mode when it is imported; `refresh` makes an earlier import see it (as
    Ray's own start-up does when it turns token authentication on by default).
    """
    if "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
    if os.environ["RAY_AUTH_MODE"] == "token" and not (
        os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    ):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    if refresh:
        with contextlib.suppress(Exception):  # an internal call; Ray then keeps its default
            from ray._raylet import Config

            Config.initialize("")


def _resolve(ray: Any, address: str) -> str:
    """The cluster address to join, for ``auto`` the one Ray finds on this machine."""
    if address != "auto":
        return address
    try:
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address("auto")
    except ConnectionError:
        found = None
    except Exception:  # noqa: BLE001 (an internal helper: fall back to Ray's own lookup)
        return "auto"
    if not found:
        raise BatchError(
            "--ray auto: no running Ray cluster found on this machine (start one with "
            "`ray start --head`, set RAY_ADDRESS, or use --ray local)"
        )
    return found


def _probe(given: str, target: str) -> None:
    """Fail fast when the address does not answer (Ray itself would retry for minutes)."""
    if target == "auto":
        return
    host_port = target.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    host = host.strip("[]")
    try:
        port_number = int(port) if port else _DEFAULT_PORT
    except ValueError:
        raise BatchError(f"--ray {given}: not an address (HOST:PORT, auto or local)") from None
    if not host:
        raise BatchError(f"--ray {given}: not an address (HOST:PORT, auto or local)")
    try:
        with socket.create_connection((host, port_number), timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise BatchError(
            f"--ray {given}: cannot reach a Ray cluster at {host}:{port_number} ({why})"
        ) from None


def one_line(exc: BaseException) -> str:
    """`exc` as one line of at most 300 characters."""
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def death_reason(exc: BaseException) -> str:
    """Why an actor died, in one line, from Ray's (long, multi-line) error."""
    text = str(exc)
    detail = re.search(r"Worker exit detail: (.*?)(?: Some common causes|$)", text, re.S)
    if detail:
        why = " ".join(detail.group(1).split()).rstrip(".")
        if "connection error" in why or "End of file" in why:
            why = "its process ended abruptly: killed, out of memory or a native crash"
        return why
    if "creation task" in text:  # the actor could not even start
        errors = [line.strip() for line in text.splitlines() if re.match(r"\s*\w+Error\b", line)]
        return "it could not start: " + (errors[-1] if errors else one_line(exc))
    return one_line(exc).split(". ")[0]
