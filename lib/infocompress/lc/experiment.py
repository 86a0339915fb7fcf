"""LC against direct compression and retraining on trained networks, with honest SEs.

The chapter "The LC algorithm on a neural network" and its power pilot
(``benchmarks/lc_power_pilot.py``) run one experiment: take a trained network (the
reference :math:`\\bar w`), compress it in several ways and, for each compression, compare
three compressed models (Carreira-Perpiñán 2017, sections 4.2 and 6.2):

* **DC**, direct compression :math:`\\Delta(\\Pi(\\bar w))`, the start of the LC path;
* **DC + retraining**, the DC model trained further on the task loss inside the compressed
  set (codebook with the assignments fixed, surviving weights with the support fixed,
  factors of a low-rank matrix; :func:`~infocompress.lc.torch_step.torch_retrain`);
* **LC**, the end of the LC path (:func:`~infocompress.lc.lc_algorithm` with the SGD L step
  :func:`~infocompress.lc.torch_step.torch_l_step`).

:func:`compare_methods` does it for one network and one compression;
:func:`compare_methods_ensemble` for the first networks of an ensemble and several
compressions, one network and compression per worker process. The result has the layout of
a compression sweep (:func:`infocompress.compression.compression_sweep`), with one "K" per
(compression, method) pair, so :func:`infocompress.sweeps.change` and
:func:`infocompress.sweeps.combine` apply to it; :func:`change` adds the test error rate
with the crossed SE over networks and test images.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from .._validation import (
    RNG,
    ArrayLike,
    DataPair,
    HasAttrs,
    Instance,
    Integer,
    Models,
    OneOf,
    Options,
    Real,
    Sizes,
    TorchModule,
    as_finite_array,
    as_generator,
    check_int,
    validate_params,
)
from .algorithm import lc_algorithm
from .compression import (
    AdaptiveQuantization,
    Binarization,
    CompressionTask,
    FixedCodebook,
    LowRank,
    Pruning,
)

__all__ = [
    "METHODS",
    "change",
    "compare_methods",
    "compare_methods_cached",
    "compare_methods_ensemble",
    "is_feasible",
    "pooled_change",
    "side",
]

#: The compressed models compared, in the order of the result's "K" axis within a task.
METHODS = ("DC", "DC + retraining", "LC")


@validate_params(arrays=Instance(dict, list, tuple, description="a dict or sequence of arrays"),
                 rtol=Real(low=0))
def is_feasible(compression, arrays, *, rtol=1e-5):
    """Whether ``arrays`` (the groups of one compression entry) lie in its feasible set.

    Parameters
    ----------
    compression : Compression
    arrays : sequence of ndarray
        The entry's groups (concatenated, flattened, for quantization and pruning; one
        matrix for low rank).
    rtol : float, default 1e-5
        Singular values of a low-rank matrix beyond the rank count as zero below
        ``rtol`` times the largest (float32 round-off of ``U @ V.T``).

    Returns
    -------
    bool

    Examples
    --------
    >>> is_feasible(Pruning(1), [np.array([0.0, 2.0, 0.0])])
    True
    >>> is_feasible(AdaptiveQuantization(2), [np.array([1.0, 2.0, 3.0])])
    False
    """
    flat = np.concatenate([np.ravel(as_finite_array(a, 'arrays')) for a in arrays])
    if isinstance(compression, (AdaptiveQuantization, FixedCodebook)):
        k = compression.n_clusters if isinstance(compression, AdaptiveQuantization) \
            else compression.codebook.size
        return bool(np.unique(flat).size <= k)
    if isinstance(compression, Binarization):
        return bool(np.unique(np.abs(flat)).size <= 1)
    if isinstance(compression, Pruning):
        return bool(np.count_nonzero(flat) <= compression.kappa)
    if isinstance(compression, LowRank):
        if len(arrays) != 1:
            raise ValueError("a low-rank entry holds one matrix")
        m = np.asarray(arrays[0], dtype=float)
        if compression.shape is not None:
            m = m.reshape(compression.shape)
        s = np.linalg.svd(m, compute_uv=False)
        return bool(np.all(s[compression.rank:] <= rtol * s[0]))
    raise ValueError(f"unknown compression type {type(compression).__name__}")


def _metrics(model, w, train, test):
    """Training loss and error (mean), per-sample test losses and 0/1 errors of weights w."""
    import torch
    import torch.nn.functional as F

    from .torch_step import set_model_weights

    set_model_weights(model, w)
    was = model.training
    model.eval()
    out = {}
    try:
        with torch.no_grad():
            for name, (x, y) in (("train", train), ("test", test)):
                logits = model(x)
                losses = F.cross_entropy(logits, y, reduction="none").double().numpy()
                wrong = (logits.argmax(1) != y).numpy()
                out[name] = (losses, wrong)
    finally:
        model.train(was)
    return {"train": float(out["train"][0].mean()),
            "train_error": float(out["train"][1].mean()),
            "test": float(out["test"][0].mean()),
            "test_error": float(out["test"][1].mean()),
            "test_losses": out["test"][0].astype(np.float32),
            "test_errors": out["test"][1].astype(bool)}


@validate_params(model=TorchModule(), train=DataPair(), test=DataPair(),
                 compression=Instance(dict, CompressionTask,
                 description="a dict or CompressionTask"), mus=ArrayLike(ndim=1), lr=Real(low=0,
                 low_open=True), momentum=Real(low=0, high=1, high_open=True),
                 weight_decay=Real(low=0), batch_size=Integer(low=1),
                 epochs_per_mu=Integer(low=1), retrain_optimizer=OneOf("adam", "sgd"),
                 retrain_lr=Real(low=0, low_open=True),
                 retrain_epochs=Options(None, Integer(low=0)), rng=RNG)
def compare_methods(model, train, test, compression, *, mus, lr=0.01, momentum=0.9,
                    weight_decay=0.0, batch_size=10, epochs_per_mu=1, clip=True,
                    retrain_optimizer="adam", retrain_lr=1e-3, retrain_epochs=None,
                    record_path=True, rng=None):
    """DC, DC + retraining and LC for one trained network and one compression.

    The network is not modified (a copy is trained). All three start from the same direct
    compression :math:`\\Theta^{DC} = \\Pi(\\bar w)`. LC runs one L step of
    ``epochs_per_mu`` epochs of SGD (step ``lr`` clipped at :math:`1/\\mu`, heavy-ball
    ``momentum``, ``weight_decay``, mini-batches of ``batch_size``, dropout on) and one C
    step per value of ``mus`` (augmented Lagrangian). Retraining trains the continuous part
    of :math:`\\Theta^{DC}` and the free parameters for ``retrain_epochs`` epochs (default:
    as many as LC's L steps together) with ``retrain_optimizer`` at ``retrain_lr``. Every
    model is evaluated in evaluation mode (dropout off).

    Parameters
    ----------
    model : torch.nn.Module
        The reference network (float32 parameters).
    train, test : pair (x, y)
        The network's own training set and the test set.
    compression : dict or CompressionTask
        Parameter name (or tuple of names, compressed jointly) -> Compression; parameters
        not named stay free (e.g. biases).
    mus : array-like of shape (K,)
        Penalty schedule (:func:`~infocompress.lc.mu_schedule`).
    lr, momentum, weight_decay : float
        SGD of the L step (``lr`` before clipping).
    batch_size : int, default 10
        Mini-batch of the L step and of retraining.
    epochs_per_mu : int, default 1
    clip : bool, default True
        Clip the L step's rate at :math:`1/\\mu` (eq. (17) of the paper).
    retrain_optimizer : {"adam", "sgd"}, default "adam"
    retrain_lr : float, default 1e-3
    retrain_epochs : int, optional
        Default ``len(mus) * epochs_per_mu``.
    record_path : bool, default True
        Record the training and test loss of :math:`\\Delta(\\Theta)` at every
        :math:`\\mu`.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    dict
        ``"reference"``, ``"DC"``, ``"DC + retraining"``, ``"LC"``: each a dict with
        ``"train"`` (mean cross-entropy on ``train``, nats), ``"train_error"``, ``"test"``,
        ``"test_error"``, ``"test_losses"`` (per test image, float32) and ``"test_errors"``
        (bool per test image); ``"path"``: the LC path (``"mu"``, ``"violation"`` and, if
        recorded, ``"train"`` and ``"test"`` of the compressed model); ``"feasible"``: every
        DC, retrained and LC model satisfies its constraints; ``"seconds"``:
        ``{"lc": ..., "retrain": ...}``.

    Raises
    ------
    ValueError
        For an invalid compression, schedule or setting (from the LC functions).

    References
    ----------
    Carreira-Perpiñán (2017), sections 4.2 (DC is the start of the LC path), 5.1.2 (the
    clipped SGD schedule of the L step) and 6.2.2 (retraining after DC).

    Examples
    --------
    >>> import torch
    >>> from infocompress.models import make_mlp
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(40, 8, 8)).astype(np.float32); y = rng.integers(0, 10, 40)
    >>> net = make_mlp((8,), rng=0)
    >>> out = compare_methods(net, (x[:30], y[:30]), (x[30:], y[30:]),
    ...                       {"1.weight": AdaptiveQuantization(2)},
    ...                       mus=[1e-2, 1e-1], batch_size=10, rng=1)
    >>> sorted(k for k in out if k in METHODS), out["feasible"], out["path"]["mu"].size
    (['DC', 'DC + retraining', 'LC'], True, 2)
    """
    import torch
    from threadpoolctl import threadpool_limits

    from .torch_step import model_weights, set_model_weights, torch_l_step, torch_retrain

    rng = as_generator(rng)
    mus = np.asarray(mus, dtype=float)
    epochs_per_mu = check_int(epochs_per_mu, "epochs_per_mu", low=1)
    if retrain_epochs is None:
        retrain_epochs = int(mus.size) * epochs_per_mu
    task = compression if isinstance(compression, CompressionTask) \
        else CompressionTask(compression)
    work = copy.deepcopy(model).cpu()
    train = (torch.as_tensor(np.array(train[0], dtype=np.float32)),
             torch.as_tensor(np.asarray(train[1], dtype=np.int64)))
    test = (torch.as_tensor(np.array(test[0], dtype=np.float32)),
            torch.as_tensor(np.asarray(test[1], dtype=np.int64)))
    w_ref = model_weights(work)
    lc_rng, rt_rng = rng.spawn(2)
    out = {}
    with threadpool_limits(1):
        out["reference"] = _metrics(work, w_ref, train, test)
        step = torch_l_step(work, None, train, epochs=epochs_per_mu, batch_size=batch_size,
                            lr_schedule=lr, momentum=momentum, weight_decay=weight_decay,
                            clip=clip, rng=lc_rng)
        path_losses = {"train": [], "test": []}

        def loss(w):  # called twice per mu: the L-step iterate, then the compressed model
            if loss.compressed:
                m = _metrics(work, w, train, test)
                path_losses["train"].append(m["train"])
                path_losses["test"].append(m["test"])
            loss.compressed = not loss.compressed
            return np.nan

        loss.compressed = False
        t0 = time.perf_counter()
        res = lc_algorithm(step, task, w_ref, mus, augmented=True,
                           loss=loss if record_path else None, progress=False)
        t_lc = time.perf_counter() - t0
        out["DC"] = _metrics(work, res.w_dc, train, test)
        out["LC"] = _metrics(work, res.w, train, test)
        set_model_weights(work, w_ref)
        t0 = time.perf_counter()
        _, w_rt = torch_retrain(work, None, train, task, res.theta_dc, epochs=retrain_epochs,
                                batch_size=batch_size, lr_schedule=retrain_lr,
                                optimizer=retrain_optimizer, momentum=momentum,
                                weight_decay=weight_decay, rng=rt_rng, progress=False)
        t_rt = time.perf_counter() - t0
        out["DC + retraining"] = _metrics(work, w_rt, train, test)
    feasible = True
    for keys, comp in task.entries:
        for w in (res.w_dc, res.w, w_rt):
            feasible &= is_feasible(comp, [w[k] for k in keys])
    out["path"] = {"mu": res.path["mu"], "violation": res.path["violation"]}
    if record_path:
        out["path"]["train"] = np.asarray(path_losses["train"])
        out["path"]["test"] = np.asarray(path_losses["test"])
    out["feasible"] = bool(feasible)
    out["seconds"] = {"lc": t_lc, "retrain": t_rt}
    return out


def _job(model, train, test, compression, seed, kwargs):
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return compare_methods(model, train, test, compression, rng=seed, **kwargs)
    finally:
        torch.set_num_threads(old)


@validate_params(n_jobs=Options(None, Integer()), models=Models(), x_pool=ArrayLike(),
                 y_pool=ArrayLike(ndim=1),
                 subsets=ArrayLike(ndim=2), x_test=ArrayLike(), y_test=ArrayLike(ndim=1), rng=RNG)
def compare_methods_ensemble(models, x_pool, y_pool, subsets, x_test, y_test, tasks, *,
                             rng=None, n_jobs=-1, progress=None, **kwargs):
    """:func:`compare_methods` for several networks and compressions, in parallel.

    Network ``m`` is trained on ``x_pool[subsets[m]]`` and tested on ``(x_test, y_test)``.
    One (network, compression) pair runs per task of :class:`joblib.Parallel` (``n_jobs``
    worker processes, one torch and BLAS thread each), with a seed drawn from ``rng`` in a
    fixed order, so the result does not depend on ``n_jobs``.

    Parameters
    ----------
    models : sequence of torch.nn.Module
    x_pool, y_pool : ndarray
        Training pool.
    subsets : array-like of int of shape (n_models, k)
        Row ``m`` indexes network ``m``'s training images in the pool.
    x_test, y_test : ndarray
    tasks : dict
        Name -> compression (as in :func:`compare_methods`).
    rng : None, int or numpy.random.Generator
    n_jobs : int or None, default -1
    progress : bool or None, optional
    **kwargs
        Settings of :func:`compare_methods` (``mus``, ``lr``, ...).

    Returns
    -------
    dict
        A sweep-like result: ``"labels"``, a list of ``(task, method)`` pairs, one per
        entry of the "K" axis (tasks in the order given, methods in :data:`METHODS` order);
        ``"n_clusters"`` (0, 1, ... for that axis); ``"loss"`` with ``"train"`` and
        ``"test"`` and ``"accuracy"`` with ``"test"``, arrays of shape
        (n_labels, n_models); ``"per_sample"`` with ``"test"`` (losses) and
        ``"test_error"`` (0/1), shape (n_labels, n_models, n_test); ``"original"``: the
        same for the reference networks (``"loss"``, ``"accuracy"``, ``"per_sample"``);
        ``"train_error"`` (n_labels, n_models) and ``"original_train_error"``;
        ``"paths"``: ``{task: list of path dicts, one per network}``; ``"feasible"``: all
        compressed models feasible; ``"seconds"``: per task, the LC and retraining seconds
        of each network in its worker.

    Examples
    --------
    >>> from infocompress.models import make_mlp
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 8, 8)).astype(np.float32); y = rng.integers(0, 10, 60)
    >>> nets_ = [make_mlp((8,), rng=s) for s in range(2)]
    >>> res = compare_methods_ensemble(nets_, x[:40], y[:40], [np.arange(20),
    ...     np.arange(20, 40)], x[40:], y[40:], {"q2": {"1.weight": AdaptiveQuantization(2)}},
    ...     rng=1, n_jobs=1, mus=[1e-2], batch_size=10)
    >>> res["labels"], res["loss"]["test"].shape, res["per_sample"]["test"].shape
    ([('q2', 'DC'), ('q2', 'DC + retraining'), ('q2', 'LC')], (3, 2), (3, 2, 20))
    """
    from .._parallel import run_tasks

    models = list(models)
    if not models:
        raise ValueError("models must hold at least one network")
    for xs, ys, what in ((x_pool, y_pool, "pool"), (x_test, y_test, "test")):
        if np.shape(xs)[:1] != np.shape(ys)[:1] or not np.shape(ys)[0]:
            raise ValueError(f"x_{what} and y_{what} must have the same non-zero number of "
                             f"rows, got shapes {np.shape(xs)} and {np.shape(ys)}")
    if not isinstance(tasks, dict) or not tasks:
        raise ValueError(f"tasks must be a non-empty dict name -> compression, got {tasks!r}")
    sub = np.asarray(subsets)
    if sub.ndim != 2 or sub.shape[0] != len(models):
        raise ValueError(f"subsets must have shape ({len(models)}, k), got {sub.shape}")
    if not np.issubdtype(sub.dtype, np.integer) or (
            sub.size and (sub.min() < 0 or sub.max() >= np.shape(x_pool)[0])):
        raise ValueError(f"subsets must hold integer indices into the {np.shape(x_pool)[0]} "
                         f"pool images")
    names = list(tasks)
    seeds = as_generator(rng).integers(2**62, size=(len(models), len(names)))
    test = (np.asarray(x_test, dtype=np.float32), np.asarray(y_test))
    jobs = [(m, t) for m in range(len(models)) for t in range(len(names))]
    calls = ((models[m], (np.asarray(x_pool[sub[m]], dtype=np.float32),
                          np.asarray(y_pool[sub[m]])),
              test, tasks[names[t]], int(seeds[m, t]), kwargs)
             for m, t in jobs)
    outs = run_tasks(_job, calls, total=len(jobs), n_jobs=n_jobs,
                     desc="LC, DC and retraining", progress=progress)
    by = {(m, t): o for (m, t), o in zip(jobs, outs, strict=True)}
    return _assemble(by, names, len(models))


def _assemble(by, names, n_models):
    """The sweep-like result of :func:`compare_methods_ensemble` from its pieces
    ``by[(m, t)]`` (network ``m``, task ``t``), outputs of :func:`compare_methods`."""
    labels = [(name, meth) for name in names for meth in METHODS]

    def stack(key):
        rows = []
        for t, _ in enumerate(names):
            for meth in METHODS:
                rows.append([by[m, t][meth][key] for m in range(n_models)])
        return np.asarray(rows)

    ref = [by[m, 0]["reference"] for m in range(n_models)]
    result = {
        "labels": labels,
        "n_clusters": np.arange(len(labels)),
        "loss": {"train": stack("train"), "test": stack("test")},
        "accuracy": {"test": 1.0 - stack("test_error")},
        "per_sample": {"test": stack("test_losses").astype(float),
                       "test_error": stack("test_errors").astype(float)},
        "train_error": stack("train_error"),
        "original": {
            "loss": {"train": np.array([r["train"] for r in ref]),
                     "test": np.array([r["test"] for r in ref])},
            "accuracy": {"test": np.array([1.0 - r["test_error"] for r in ref])},
            "per_sample": {"test": np.stack([r["test_losses"] for r in ref]).astype(float),
                           "test_error": np.stack([r["test_errors"] for r in ref])
                           .astype(float)},
        },
        "original_train_error": np.array([r["train_error"] for r in ref]),
        "paths": {name: [by[m, t]["path"] for m in range(n_models)]
                  for t, name in enumerate(names)},
        "feasible": all(o["feasible"] for o in by.values()),
        "seconds": {name: {"lc": np.array([by[m, t]["seconds"]["lc"]
                                           for m in range(n_models)]),
                           "retrain": np.array([by[m, t]["seconds"]["retrain"]
                                                for m in range(n_models)])}
                    for t, name in enumerate(names)},
    }
    return result


def _cached_job(model, train, test, name, compression, seed, kwargs, key):
    from .. import cache

    value, _ = cache.cached("lc-compare", key, lambda: _job(model, train, test, compression,
                                                            np.random.default_rng(seed),
                                                            kwargs))
    return value


@validate_params(n_jobs=Options(None, Integer()), ensemble=HasAttrs("models", "x_test",
                                   description="an infocompress.ensembles.Ensemble"),
                 networks=Sizes(low=0), rng=RNG)
def compare_methods_cached(ensemble, networks, tasks, *, rng=None, n_jobs=-1, progress=None,
                           **kwargs):
    """:func:`compare_methods_ensemble` for some networks of an ensemble, cached on disk.

    Each (network, compression) pair is computed in a worker process (or loaded) under a
    key that names the ensemble, the network's index, the compression (its ``repr``), the
    settings, one seed drawn from ``rng`` and the source of this module and of the LC code,
    so the pair's result is reused by any later call with the same arguments. The pair's
    generator is ``default_rng(SeedSequence(seed, spawn_key=(network, t)))`` for the
    ``t``-th task: the result of a network does not depend on which other networks are
    run with it.

    Parameters
    ----------
    ensemble : infocompress.ensembles.Ensemble
        A trained ensemble (``models``, ``x_pool``, ``y_pool``, ``subsets``, ``x_test``,
        ``y_test``, ``key``).
    networks : sequence of int
        Indices of the networks, distinct, in ``[0, ensemble.n_models)``.
    tasks : dict
        Name -> compression (as in :func:`compare_methods`).
    rng : None, int or numpy.random.Generator
        One integer is drawn from it.
    n_jobs : int or None, default -1
    progress : bool or None, optional
    **kwargs
        Settings of :func:`compare_methods` (``mus``, ``lr``, ...).

    Returns
    -------
    dict
        As :func:`compare_methods_ensemble`, plus ``"networks"`` (the indices).

    Raises
    ------
    ValueError
        If ``networks`` is empty, repeats an index or is out of range, or ``tasks`` is not
        a non-empty dict.

    Examples
    --------
    >>> compare_methods_cached(None, [0], {})
    Traceback (most recent call last):
    ...
    ValueError: ensemble must be an infocompress.ensembles.Ensemble, got None
    """
    from .. import cache, kmeans, kmeans1d
    from .._parallel import run_tasks
    from . import algorithm, torch_step
    from . import compression as comp_mod

    nets_ = [int(m) for m in networks]
    if not nets_ or len(set(nets_)) != len(nets_):
        raise ValueError("networks must be a non-empty sequence of distinct indices, "
                         f"got {list(networks)}")
    if not isinstance(tasks, dict) or not tasks:
        raise ValueError(f"tasks must be a non-empty dict name -> compression, got {tasks!r}")
    n_all = len(ensemble.models)
    if min(nets_) < 0 or max(nets_) >= n_all:
        raise ValueError(f"networks must lie in [0, {n_all}), got {nets_}")
    names = list(tasks)
    seed = int(as_generator(rng).integers(2**62))
    settings = {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
                for k, v in kwargs.items()}
    # the code that determines a result: the experiment, the LC loop, the C steps (and the
    # k-means they call) and the torch L step
    source = cache.source_digest(compare_methods, _job, _metrics, is_feasible, algorithm,
                                 comp_mod, kmeans, kmeans1d, torch_step)
    test = (np.asarray(ensemble.x_test, dtype=np.float32), np.asarray(ensemble.y_test))
    jobs = [(i, t) for i in range(len(nets_)) for t in range(len(names))]

    def call(i, t):
        m = nets_[i]
        key = {"what": "lc-compare", "ensemble": cache.key_digest(ensemble.key),
               "network": m, "task": names[t], "compression": repr(tasks[names[t]]),
               "seed": seed, "settings": settings, "source": source}
        sub = np.asarray(ensemble.subsets[m])
        ss = np.random.SeedSequence(seed, spawn_key=(m, t))
        return (ensemble.models[m], (np.asarray(ensemble.x_pool[sub], dtype=np.float32),
                                     np.asarray(ensemble.y_pool[sub])),
                test, names[t], tasks[names[t]], ss, kwargs, key)

    outs = run_tasks(_cached_job, (call(i, t) for i, t in jobs), total=len(jobs),
                     n_jobs=n_jobs, desc="LC, DC and retraining", progress=progress)
    by = {(i, t): o for (i, t), o in zip(jobs, outs, strict=True)}
    result = _assemble(by, names, len(nets_))
    result["networks"] = np.asarray(nets_)
    return result


_RESULT = Instance(dict, description="a result of compare_methods_ensemble (dict)")


@validate_params(res=_RESULT, a=OneOf(*METHODS, "reference"), b=OneOf(*METHODS, "reference"),
                 tasks=Options(None, Instance(list, tuple, description="a list of task names")))
def pooled_change(res, a, b, quantity, *, tasks=None):
    """:func:`change` of method ``a`` against ``b``, each averaged over several tasks.

    The values of every network (and test image) are first averaged over ``tasks``
    (:func:`infocompress.sweeps.combine`), so a family of comparisons, one per compression,
    becomes one test with one SE.

    Parameters
    ----------
    res : dict
        A result of :func:`compare_methods_ensemble` or :func:`compare_methods_cached`.
    a, b : str
        Methods (:data:`METHODS`) or ``"reference"`` (the uncompressed networks, the same
        for every task).
    quantity : {"train", "test", "gen", "error"}
    tasks : sequence of str, optional
        Default: every task of ``res``.

    Returns
    -------
    dict
        ``"mean"``, ``"se"``, ``"z"``.

    Raises
    ------
    ValueError
        For an unknown method or task.

    Examples
    --------
    >>> res = {"labels": [("q", m) for m in METHODS], "n_clusters": np.arange(3),
    ...        "loss": {"train": np.array([[3.0, 4.0], [1.0, 1.5], [1.0, 2.0]])},
    ...        "accuracy": {}, "original": {"loss": {"train": np.zeros(2)}}}
    >>> round(pooled_change(res, "LC", "DC", "train")["mean"], 3)
    -2.0
    """
    from .. import sweeps

    names = list(dict.fromkeys(t for t, _ in res["labels"])) if tasks is None else list(tasks)
    for m in (a, b):
        if m != "reference" and m not in METHODS:
            raise ValueError(f"methods must be in {METHODS} or 'reference', got {m!r}")
    groups = [[side(res, t, m)[1] for t in names] for m in METHODS]
    pooled = sweeps.combine(res, groups)

    def at(m):
        return (pooled, None) if m == "reference" else (pooled, METHODS.index(m))

    return change(at(a), at(b), quantity)


@validate_params(res=_RESULT, task=Instance(str, description="a task name"),
                 method=OneOf(*METHODS, "reference"))
def side(res, task, method):
    """The side ``(res, i)`` of :func:`infocompress.sweeps.change` for one task and method.

    ``method="reference"`` gives ``(res, None)``, the uncompressed networks.

    Examples
    --------
    >>> res = {"labels": [("q2", "DC"), ("q2", "LC")], "n_clusters": np.arange(2)}
    >>> side(res, "q2", "LC")[1], side(res, "q2", "reference")[1]
    (1, None)
    """
    if method == "reference":
        return (res, None)
    try:
        return (res, res["labels"].index((task, method)))
    except ValueError:
        raise ValueError(f"no entry ({task!r}, {method!r}) in the result; labels are "
                         f"{res['labels']}") from None


def change(a, b, quantity):
    """Mean over networks of quantity(a) - quantity(b), with its SE and z.

    As :func:`infocompress.sweeps.change` (``"train"``: SE over networks; ``"test"`` and
    ``"gen"``: crossed SE over networks and test images), except that ``"error"`` (the test
    error rate) also uses the crossed SE, from the per-image 0/1 errors, since all networks
    share one test set.

    Parameters
    ----------
    a, b : tuple (result, i or None)
        Sides, e.g. from :func:`side` (results of :func:`compare_methods_ensemble`, or
        :func:`infocompress.sweeps.combine` of one).
    quantity : {"train", "test", "gen", "error"}

    Returns
    -------
    dict
        ``"mean"``, ``"se"``, ``"z"``.

    Examples
    --------
    >>> res = {"n_clusters": np.arange(1), "loss": {}, "accuracy": {},
    ...        "per_sample": {"test_error": np.array([[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]])},
    ...        "original": {"per_sample": {"test_error": np.zeros((2, 3))}}}
    >>> round(change((res, 0), (res, None), "error")["mean"], 4)
    0.5
    """
    from .. import stats, sweeps

    if quantity != "error":
        return sweeps.change(a, b, quantity)
    a, b = sweeps._side(a, "a"), sweeps._side(b, "b")

    def table(s):
        r, i = s
        return r["original"]["per_sample"]["test_error"] if i is None \
            else r["per_sample"]["test_error"][i]

    out = stats.crossed_se(table(a) - table(b))
    se = out["se"]
    out["z"] = float(out["mean"] / se) if se > 0 else (0.0 if out["mean"] == 0
                                                      else float(np.sign(out["mean"]) * np.inf))
    return out
