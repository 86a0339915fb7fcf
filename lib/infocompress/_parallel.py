"""One task per model in joblib worker processes, with a progress bar (private helpers).

Every per-model loop of the library that runs on the CPU (training an ensemble, training it
further, Hessian diagonals, compression sweeps, importance comparisons) goes through
:func:`run_tasks`, so all of them share one behaviour:

* the tasks run through :class:`joblib.Parallel`, so ``joblib.parallel_config(backend=...)``
  moves them to another backend (a Dask or Ray cluster) without new code;
* results come back in task order, whatever the number of workers;
* loky's warning about a replaced worker process is hidden (:func:`tolerate_worker_restarts`),
  so that a cold execution of a chapter prints exactly what a warm one prints.
"""

from __future__ import annotations

import contextlib
import warnings

from .progress import progress_bar

__all__ = ["LOKY_RESTART", "run_tasks", "tolerate_worker_restarts"]

#: The start of the warning loky emits when it replaced a worker process while jobs were
#: queued (its guard against memory growth restarts a worker whose memory grew by a few
#: hundred MB; whether that happens depends on the machine's allocator).
LOKY_RESTART = "A worker stopped while some jobs were given to the executor"


@contextlib.contextmanager
def tolerate_worker_restarts():
    """Hide loky's warning about a replaced worker process inside the ``with`` block.

    The replacement worker runs the queued jobs, so the results are complete and do not
    depend on it. The warning is issued by the executor's manager thread of this process;
    the filter list is shared by all threads, so the block covers it. Any other warning is
    shown as usual.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     with tolerate_worker_restarts():
    ...         warnings.warn(LOKY_RESTART + ". This can be caused by a memory leak.")
    ...     warnings.warn("another warning")
    >>> [str(w.message) for w in seen]
    ['another warning']
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LOKY_RESTART, category=UserWarning)
        yield


def run_tasks(function, arguments, *, total, n_jobs=None, desc=None, progress=None):
    """``[function(*args) for args in arguments]``, computed in joblib worker processes.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled to the workers).
    arguments : iterable of tuple
        The positional arguments of each task; a generator is consumed lazily, so large
        per-task inputs are not all built at once.
    total : int
        Number of tasks (for the progress bar).
    n_jobs : int or None, optional
        Worker processes (joblib convention; None = joblib's current default, one process
        unless a ``joblib.parallel_config`` says otherwise).
    desc : str, optional
        Label of the progress bar.
    progress : bool or None, optional
        See :func:`infocompress.progress.progress_enabled`.

    Returns
    -------
    list
        The results, in the order of ``arguments``.

    Examples
    --------
    >>> run_tasks(divmod, [(7, 2), (9, 4)], total=2, n_jobs=1, progress=False)
    [(3, 1), (2, 1)]
    """
    import joblib

    tasks = (joblib.delayed(function)(*args) for args in arguments)
    runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    with tolerate_worker_restarts():
        return list(progress_bar(runner(tasks), desc=desc, total=total, progress=progress))
