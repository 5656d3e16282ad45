"""Running the fits of :func:`compare_selectors` on a Dask cluster (optional extra ``skproj[dask]``)."""

import contextlib
import socket

__all__ = ["dask_backend"]


def _check_reachable(address, timeout):
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp", "tls") or not host or not port.isdigit():
        raise ValueError(f"scheduler address {address!r}: expected an address like tcp://HOST:PORT.")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach the Dask scheduler at {address} "
                              f"({exc.strerror or type(exc).__name__}).") from None


@contextlib.contextmanager
def dask_backend(address, *, timeout=5.0):
    """Run joblib's parallel loops (``n_jobs``) on the ``dask.distributed`` cluster at ``address``.

    Inside ``with dask_backend("tcp://host:8786"):``, ``compare_selectors(..., n_jobs=-1)``
    sends its (fold, selector) fits to the cluster's workers through joblib's dask backend,
    with the same results as ``n_jobs=1``. The scheduler is checked first with a plain TCP
    connection (within ``timeout`` seconds), so that a wrong address fails at once with one
    line instead of after the client's retries.

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://HOST:PORT`` (``tls://`` or bare ``HOST:PORT`` too).
    timeout : float, default=5.0
        Seconds to wait for the TCP connection; the Dask client then gets twice as long.

    Yields
    ------
    client : distributed.Client
        The client, closed on exit (the cluster itself keeps running).

    Raises
    ------
    ImportError
        If dask.distributed is not installed (the message names ``pip install 'skproj[dask]'``).
    ValueError
        If ``address`` is not of the form above.
    ConnectionError
        If nothing answers at ``address``.
    """
    try:
        import joblib
        from distributed import Client
    except ImportError:
        raise ImportError("running on a Dask cluster needs dask.distributed, which is not "
                          "installed (pip install 'skproj[dask]').") from None
    _check_reachable(address, timeout)
    try:
        client = Client(address, timeout=f"{2 * timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConnectionError(f"cannot reach the Dask scheduler at {address} ({detail}).") from None
    with client, joblib.parallel_config(backend="dask", client=client, wait_for_workers_timeout=60):
        yield client
