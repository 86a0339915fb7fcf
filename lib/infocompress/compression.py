"""Compression of trained networks: every weight tensor quantized by (DRHW) k-means.

* :func:`quantize_model` -- quantize every Linear/Conv weight tensor of a model with
  plain, Hessian-weighted, diameter-regularized or exactly optimal k-means
  (:mod:`infocompress.quantize`) and report the compression ratio of eq. (39) of Bu et
  al. (2021), computed with Huffman codes by :mod:`infocompress.coding`;
* :func:`compression_sweep` -- the experiment of Section 7 over a whole ensemble: risks
  of every model before and after compression, for a list of cluster numbers;
* :func:`select_beta` -- the diameter penalty chosen on held-out images, per model.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
from torch import nn

from ._parallel import run_tasks
from ._validation import (
    ArrayLike,
    Instance,
    Integer,
    Models,
    Options,
    as_generator,
    check_int,
    validate_params,
)
from .models import (
    _as_x,
    _as_y,
    _cast_finite,
    _check_device,
    _check_layers,
    _evaluate,
    _model_dtype,
    _OneThread,
    _per_sample_losses,
)
from .progress import progress_bar

__all__ = [
    "QUANTIZE_METHODS",
    "compression_sweep",
    "quantize_model",
    "select_beta",
]

#: Accepted values of ``method`` in :func:`quantize_model`.
QUANTIZE_METHODS = ("kmeans", "hw", "drhw", "optimal")


def quantize_model(model, n_clusters, *, method="kmeans", beta=0.0, block=1, hessian=None,
                   layers=None, rng=None, beta_scale="absolute", max_iter=100, init="linear",
                   diameter="squared"):
    """Quantize every Linear/Conv weight tensor of a network with K shared values.

    Following Bu et al. (2021, Section 7), each selected weight tensor (layer) is
    clustered separately with the **same** number of clusters ``K = n_clusters``; every
    weight (or, with ``block=m``, every group of ``m`` consecutive weights of the flattened
    tensor) is replaced by its cluster centre. Methods:

    ``"kmeans"``
        Plain k-means, :func:`infocompress.kmeans.drhw_kmeans` with ``h=None``
        (a non-zero ``beta`` adds the diameter penalty to plain k-means).
    ``"hw"``
        Hessian-weighted k-means, eq. (30): ``h`` = diagonal Hessian, ``beta = 0``.
    ``"drhw"``
        Diameter-regularized Hessian-weighted k-means, eq. (34)/(35), Algorithm 1.
    ``"optimal"``
        Exact (Hessian-weighted if ``hessian`` is given, else plain) 1-D k-means by dynamic
        programming, :func:`infocompress.kmeans1d.optimal_kmeans_1d` (``block=1``, no beta).

    Biases (and any parameter not selected) are kept in 32-bit floats and left unchanged.
    The compression ratio of eq. (39),

    .. math::
        \\text{ratio} = \\frac{\\sum_{\\text{layers}} \\big(\\sum_{k=1}^K |C^{(k)}|\\, b_k
        + K m b\\big)}{d\\, b},

    with Huffman code lengths :math:`b_k` per layer and ``b = 32`` bits, is computed by
    :func:`infocompress.coding.compression_ratio` over the quantized tensors only (``d``
    is their total number of weights, biases excluded, as in the paper which counts the
    parameters "that need to be compressed"). ``info["compression_ratio_all"]`` also
    counts the uncompressed 32-bit biases in numerator and denominator.

    Parameters
    ----------
    model : torch.nn.Module
        Trained network (not modified).
    n_clusters : int
        Number of clusters K per layer, >= 1 and at most the number of weights (blocks) in
        the smallest selected layer.
    method : {"kmeans", "hw", "drhw", "optimal"}, default "kmeans"
    beta : float, default 0.0
        Diameter regulariser, >= 0 (``"kmeans"`` and ``"drhw"`` only).
    block : int, default 1
        Block length m of vector quantization; each selected tensor's size must be a
        multiple of m.
    hessian : dict of str to tensor or array, optional
        Diagonal Hessian per parameter name, e.g. from
        :func:`~infocompress.curvature.hessian_diagonal`; required
        by ``"hw"`` and ``"drhw"``. Negative entries (possible with ``method="exact"``)
        are clipped to 0 before clustering.
    layers : sequence of str, optional
        Parameter names to quantize; default :func:`~infocompress.models.quantizable_parameters`.
    rng : None, int or numpy.random.Generator, optional
        Passed to the clustering (initialisation).
    beta_scale : {"absolute", "hessian"}, default "absolute"
        ``"hessian"`` multiplies ``beta`` for each layer by that layer's total Hessian mass
        :math:`\\sum_j h_j` (its number of weights for ``"kmeans"``), so that one relative
        ``beta`` means the same pull on the extreme centres in every layer and model.
    max_iter : int, default 100
        Passed to :func:`~infocompress.kmeans.drhw_kmeans`.
    init : {"linear", "quantile", "kmeans++"}, default "linear"
        Initial centres, passed to :func:`~infocompress.kmeans.drhw_kmeans`. Bu et al.'s
        code uses ``"quantile"`` with ``max_iter=30``.
    diameter : {"squared", "linear"}, default "squared"
        Diameter penalty of DRHW k-means: eq. (34) (``"squared"``) or the linear penalty of
        the authors' code (``"linear"``, scalar only), see
        :func:`~infocompress.kmeans.drhw_kmeans`.

    Returns
    -------
    compressed : torch.nn.Module
        A deep copy of ``model`` with the quantized weights.
    info : dict
        ``"labels"`` and ``"centers"`` (dicts per layer name; labels of shape
        (numel / m,), centers of shape (K,) or (K, m)), ``"objective"`` (per layer),
        ``"beta"`` (the absolute beta used per layer), ``"diameter"`` (per layer, the largest
        Euclidean distance between two centres), ``"compression_ratio"`` (eq. 39 over
        the quantized weights), ``"compression_ratio_all"`` (with 32-bit biases),
        ``"compression_ratio_entropy"`` (eq. 39 with each label charged the entropy of its
        layer's label distribution instead of its Huffman length, the count of Bu et al.'s
        code; at most the Huffman ratio), ``"n_weights"`` (number of quantized weights) and
        ``"n_other"`` (parameters kept).

    Raises
    ------
    ValueError
        For an unknown method or layer, a missing Hessian, ``beta < 0``, ``beta != 0`` with
        ``"hw"``/``"optimal"``, ``block > 1`` with ``"optimal"``, or a bad ``n_clusters``.

    References
    ----------
    Bu et al. (2021), Section 6 (eq. 30, 34, 35, Algorithm 1) and Section 7 (eq. 39).

    Examples
    --------
    >>> from infocompress.models import make_mlp
    >>> net = make_mlp((16, 8), rng=0)
    >>> small, info = quantize_model(net, 4, rng=0)
    >>> all(torch.unique(dict(small.named_parameters())[k]).numel() <= 4
    ...     for k in info["labels"])
    True
    >>> 0 < info["compression_ratio"] < 1
    True
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if method not in QUANTIZE_METHODS:
        raise ValueError(f"method must be one of {QUANTIZE_METHODS}, got {method!r}")
    if beta_scale not in ("absolute", "hessian"):
        raise ValueError(f"beta_scale must be 'absolute' or 'hessian', got {beta_scale!r}")
    k = check_int(n_clusters, "n_clusters", low=1)
    m = check_int(block, "block", low=1)
    max_iter = check_int(max_iter, "max_iter", low=1)
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a number >= 0, got {beta!r}") from None
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    if method in ("hw", "optimal") and beta != 0:
        raise ValueError(f"method={method!r} has no diameter term; got beta={beta} (use 'drhw')")
    if method == "optimal" and m != 1:
        raise ValueError(f"method='optimal' is scalar (block=1), got block={m}")
    if not isinstance(init, str) or init not in ("linear", "quantile", "kmeans++"):
        raise ValueError(f"init must be 'linear', 'quantile' or 'kmeans++', got {init!r}")
    if not isinstance(diameter, str) or diameter not in ("squared", "linear"):
        raise ValueError(f"diameter must be 'squared' or 'linear', got {diameter!r}")
    if diameter == "linear" and m != 1:
        raise ValueError(f"diameter='linear' is scalar (block=1), got block={m}")
    named = dict(model.named_parameters())
    names = _check_layers(model, layers)
    if method in ("hw", "drhw") and hessian is None:
        raise ValueError(f"method={method!r} needs hessian= (see hessian_diagonal)")
    weights, hdiag = {}, {}
    for name in names:
        w = named[name].detach().cpu().double().numpy().ravel()
        if w.size % m:
            raise ValueError(f"layer {name!r} has {w.size} weights, not a multiple of block={m}")
        if k > w.size // m:
            raise ValueError(
                f"n_clusters={k} exceeds the {w.size // m} weight blocks of layer {name!r}"
            )
        weights[name] = w
        if hessian is not None and method != "kmeans":
            if name not in hessian:
                raise ValueError(f"hessian has no entry for layer {name!r}")
            h = hessian[name]
            h = h.detach().cpu().double().numpy() if isinstance(h, torch.Tensor) \
                else np.asarray(h, dtype=float)
            if h.size != w.size:
                raise ValueError(
                    f"hessian[{name!r}] has {h.size} entries, the layer has {w.size}"
                )
            if not np.all(np.isfinite(h)):
                raise ValueError(f"hessian[{name!r}] must be finite")
            hdiag[name] = np.clip(h.ravel(), 0.0, None)
    return _quantize_model(model, names, weights, hdiag, k, method, beta, m, rng,
                           beta_scale, max_iter, init, diameter)


def _quantize_weights(w, h, k, method, *, beta=0.0, block=1, rng=None, init="linear",
                      max_iter=100, penalty="squared"):
    """Quantize one flat weight vector: exact 1-D k-means (``method="optimal"``) or
    Lloyd/HW/DRHW k-means; the one per-tensor step of :func:`quantize_model` and of
    :func:`infocompress.importance.quantize`. Returns the k-means result."""
    if method == "optimal":
        from .kmeans1d import optimal_kmeans_1d

        return optimal_kmeans_1d(w, k, h=h)
    from .kmeans import drhw_kmeans

    return drhw_kmeans(w, h, k, beta=beta, block=block, max_iter=max_iter, rng=rng,
                       init=init, diameter=penalty)


def _quantize_model(model, names, weights, hdiag, k, method, beta, m, rng, beta_scale,
                    max_iter, init="linear", penalty="squared"):
    from . import coding
    from .kmeans import centers_diameter

    gen = as_generator(rng)
    compressed = copy.deepcopy(model)
    named_c = dict(compressed.named_parameters())
    labels, centers, objective, betas, diameter = {}, {}, {}, {}, {}
    for name in names:
        w = weights[name]
        h = hdiag.get(name)
        if method == "optimal":
            b_used = 0.0
        else:
            mass = float(h.sum()) if h is not None else float(w.size)
            b_used = beta * mass if beta_scale == "hessian" else beta
        res = _quantize_weights(w, h, k, method, beta=b_used, block=m, rng=gen, init=init,
                                max_iter=max_iter, penalty=penalty)
        w_hat = np.asarray(res.reconstruct(), dtype=float).reshape(named_c[name].shape)
        with torch.no_grad():
            named_c[name].copy_(torch.as_tensor(w_hat, dtype=named_c[name].dtype))
        labels[name] = np.asarray(res.labels)
        centers[name] = np.asarray(res.centers)
        objective[name] = float(res.objective)
        betas[name] = b_used
        diameter[name] = math.sqrt(centers_diameter(centers[name]))
    n_weights = int(sum(weights[n].size for n in names))
    n_other = int(sum(p.numel() for nm, p in model.named_parameters() if nm not in names))
    ratio = float(coding.compression_ratio([labels[n] for n in names], k, bits=32, block=m))
    ratio_all = (ratio * n_weights + n_other) / (n_weights + n_other)
    entropy_bits = sum(labels[n].size * coding.entropy_bits(np.bincount(labels[n],
                                                                         minlength=k))
                       + 32 * k * m for n in names)
    ratio_entropy = float(entropy_bits / (32 * n_weights))
    info = {"labels": labels, "centers": centers, "objective": objective, "beta": betas,
            "diameter": diameter,
            "compression_ratio": ratio, "compression_ratio_all": ratio_all,
            "compression_ratio_entropy": ratio_entropy,
            "n_weights": n_weights, "n_other": n_other, "method": method, "n_clusters": k,
            "block": m}
    return compressed, info


@validate_params(n_jobs=Options(None, Integer()), models=Models())
def compression_sweep(models, n_clusters, data, *, method="kmeans", beta=0.0, block=1,
                      hessians=None, beta_scale="absolute", init="linear", max_iter=100,
                      diameter="squared", per_sample=(), rng=None, device="cpu", n_jobs=None,
                      progress=None):
    """Quantize every model of an ensemble for several K and measure its risks.

    For each ``K`` in ``n_clusters`` and each model, :func:`quantize_model` compresses
    all Linear/Conv weight tensors with ``K`` clusters and the compressed model is
    evaluated (mean cross-entropy in nats and accuracy) on every entry of ``data``. The
    uncompressed models are evaluated too. This is the measurement behind Figures 1 and
    3-6 of Bu et al. (2021): with ``data = {"train": (x, y, subsets), "test": (x_test,
    y_test)}`` the ``"train"`` loss is each model's empirical risk :math:`L_S` on its own
    training subset, the ``"test"`` loss estimates its population risk :math:`L_\\mu`, and
    their difference is the generalization error.

    The models are processed in parallel worker processes through :class:`joblib.Parallel`
    (``n_jobs``), one model per task, each on one torch thread; the results do not depend
    on ``n_jobs`` (the clustering draws its randomness, used only by
    ``init="kmeans++"``, from per-model seeds drawn from ``rng`` in advance).

    Parameters
    ----------
    models : sequence of torch.nn.Module
    n_clusters : int or sequence of int
        Cluster numbers K to try (the same K for every layer).
    data : dict
        Name -> ``(x, y)`` (every model on all samples) or ``(x, y, subsets)`` (model
        ``m`` on ``x[subsets[m]]``).
    method, beta, block, beta_scale, init, max_iter, diameter
        As in :func:`quantize_model`.
    hessians : sequence of dict, optional
        One Hessian diagonal per model (:func:`~infocompress.curvature.ensemble_hessians`); needed
        by ``"hw"`` and
        ``"drhw"``.
    per_sample : sequence of str, default ()
        Names of entries of ``data`` (of the ``(x, y)`` kind) whose per-sample losses are
        returned as well, e.g. ``("test",)``: the test-set part of a standard error (see
        :func:`infocompress.stats.crossed_se`).
    rng : None, int or numpy.random.Generator, optional
    device : str or torch.device, default "cpu"
    n_jobs : int or None, default None
        Worker processes (joblib convention; None = joblib's current default).
    progress : bool or None, optional
        Progress bar over models.

    Returns
    -------
    dict
        ``"n_clusters"``: ndarray (n_K,); ``"compression_ratio"``: ndarray (n_K, n_models)
        (eq. 39 with Huffman codes, quantized weights only); ``"compression_ratio_entropy"``:
        the same with entropy-coded labels (the count of Bu et al.'s code); ``"loss"``,
        ``"accuracy"``: dicts name -> ndarray (n_K, n_models); ``"diameter"``: dict layer
        -> ndarray (n_K, n_models), the largest distance between two centres of the layer;
        ``"original"``: ``{"loss": {name: (n_models,)}, "accuracy": {...}}`` for the
        uncompressed models; with ``per_sample``, ``"per_sample"``: dict name -> ndarray
        (n_K, n_models, n_samples) and ``"original"["per_sample"]``: dict name -> ndarray
        (n_models, n_samples) of cross-entropies.

    References
    ----------
    Bu et al. (2021), Section 7, eq. (39), Figures 1 and 3-6.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 8, 8)); y = np.arange(30) % 10
    >>> from infocompress.models import make_mlp
    >>> models = [make_mlp((8,), rng=s) for s in range(2)]
    >>> res = compression_sweep(models, [2, 4], {"all": (x, y)}, per_sample=["all"],
    ...                         progress=False)
    >>> res["loss"]["all"].shape, res["compression_ratio"].shape
    ((2, 2), (2, 2))
    >>> res["per_sample"]["all"].shape
    (2, 2, 30)
    >>> bool(np.allclose(res["per_sample"]["all"].mean(axis=2), res["loss"]["all"]))
    True
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    ks = [n_clusters] if isinstance(n_clusters, numbers.Integral) else list(n_clusters)
    if isinstance(n_clusters, str) or not ks:
        raise ValueError(f"n_clusters must be an int or a non-empty sequence of ints, "
                         f"got {n_clusters!r}")
    ks = [check_int(k, "n_clusters entry", low=1) for k in ks]
    if not isinstance(data, dict) or not data:
        raise ValueError("data must be a non-empty dict name -> (x, y[, subsets])")
    if hessians is not None and len(hessians) != len(models):
        raise ValueError(f"hessians has {len(hessians)} entries for {len(models)} models")
    if isinstance(per_sample, str):
        raise ValueError(f"per_sample must be a sequence of names, got the string "
                         f"{per_sample!r}")
    per_sample = tuple(per_sample)
    sets = {}
    for name, item in data.items():
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(f"data[{name!r}] must be (x, y) or (x, y, subsets)")
        xt = _as_x(item[0], f"data[{name!r}] x")
        yt = _as_y(item[1], xt.shape[0], f"data[{name!r}] y")
        sub = None
        if len(item) == 3 and item[2] is not None:
            sub = np.asarray(item[2])
            if sub.ndim != 2 or sub.shape[0] != len(models) or \
                    not np.issubdtype(sub.dtype, np.integer) or sub.min() < 0 or \
                    sub.max() >= xt.shape[0]:
                raise ValueError(f"data[{name!r}] subsets must be ({len(models)}, k) "
                                 f"indices into x")
        sets[name] = (_cast_finite(xt, _model_dtype(models[0]), f"data[{name!r}] x").numpy(),
                      yt.numpy(), sub)
    for name in per_sample:
        if name not in sets:
            raise ValueError(f"per_sample names {name!r}, which is not a key of data")
        if sets[name][2] is not None:
            raise ValueError(f"per_sample needs data[{name!r}] of the (x, y) kind (the same "
                             "samples for every model)")
    dev = _check_device(device)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
    # validate the settings once, on the first model, before any work is farmed out
    quantize_model(models[0], min(ks), method=method, beta=beta, block=block,
                   hessian=None if hessians is None else hessians[0], beta_scale=beta_scale,
                   max_iter=1, init=init, diameter=diameter, rng=0)
    seeds = [int(s) for s in as_generator(rng).integers(2**62, size=len(models))]
    settings = dict(method=method, beta=beta, block=block, beta_scale=beta_scale,
                    max_iter=max_iter, init=init, diameter=diameter)
    args = [(models[m], m, None if hessians is None else hessians[m], seeds[m])
            for m in range(len(models))]
    if dev.type == "cpu":
        results = run_tasks(_sweep_member,
                            ((mdl, m, h, seed, ks, sets, settings, per_sample, "cpu")
                             for mdl, m, h, seed in args),
                            total=len(models), n_jobs=n_jobs, desc=f"{method} K={ks}",
                            progress=progress)
    else:
        results = [_sweep_member(mdl, m, h, seed, ks, sets, settings, per_sample, dev)
                   for mdl, m, h, seed in progress_bar(args, desc=f"{method} K={ks}",
                                                        progress=progress)]
    out = {"n_clusters": np.asarray(ks),
           "compression_ratio": np.stack([r["ratio"] for r in results], axis=1),
           "compression_ratio_entropy": np.stack([r["ratio_entropy"] for r in results],
                                                 axis=1),
           "loss": {nm: np.stack([r["loss"][nm] for r in results], axis=1) for nm in sets},
           "accuracy": {nm: np.stack([r["acc"][nm] for r in results], axis=1)
                        for nm in sets},
           "diameter": {layer: np.stack([r["diameter"][layer] for r in results], axis=1)
                        for layer in results[0]["diameter"]},
           "original": {"loss": {nm: np.array([r["orig_loss"][nm] for r in results])
                                 for nm in sets},
                        "accuracy": {nm: np.array([r["orig_acc"][nm] for r in results])
                                     for nm in sets}}}
    if per_sample:
        out["per_sample"] = {nm: np.stack([r["per_sample"][nm] for r in results], axis=1)
                             for nm in per_sample}
        out["original"]["per_sample"] = {nm: np.stack([r["orig_per_sample"][nm]
                                                       for r in results])
                                         for nm in per_sample}
    return out


def _sweep_member(model, m, hessian, seed, ks, sets, settings, per_sample, device):
    """Worker task of :func:`compression_sweep`: one model, every K, every data set."""
    dev = torch.device(device)
    with _OneThread():
        tensors = {}
        for name, (x, y, sub) in sets.items():
            rows = slice(None) if sub is None else sub[m]
            tensors[name] = (torch.from_numpy(np.array(x[rows], copy=True)),
                             torch.from_numpy(np.array(y[rows], copy=True)))

        def measure(mdl):
            res, samples = {}, {}
            for name, (xt, yt) in tensors.items():
                if name in per_sample:
                    losses, acc = _per_sample_losses(mdl, xt, yt, dev, with_accuracy=True)
                    samples[name] = losses
                    res[name] = {"loss": float(losses.mean()), "accuracy": acc}
                else:
                    res[name] = _evaluate(mdl, xt, yt, dev, 4096)
            return res, samples

        gen = np.random.default_rng(seed)
        orig, orig_samples = measure(model)
        out = {"orig_loss": {k: v["loss"] for k, v in orig.items()},
               "orig_acc": {k: v["accuracy"] for k, v in orig.items()},
               "orig_per_sample": orig_samples,
               "loss": {k: np.empty(len(ks)) for k in tensors},
               "acc": {k: np.empty(len(ks)) for k in tensors},
               "per_sample": {k: np.empty((len(ks), tensors[k][0].shape[0]))
                              for k in per_sample},
               "ratio": np.empty(len(ks)), "ratio_entropy": np.empty(len(ks)),
               "diameter": {}}
        for i, k in enumerate(ks):
            small, info = quantize_model(model, k, hessian=hessian, rng=gen, **settings)
            out["ratio"][i] = info["compression_ratio"]
            out["ratio_entropy"][i] = info["compression_ratio_entropy"]
            for layer, dval in info["diameter"].items():
                out["diameter"].setdefault(layer, np.empty(len(ks)))[i] = dval
            res, samples = measure(small)
            for name, r in res.items():
                out["loss"][name][i], out["acc"][name][i] = r["loss"], r["accuracy"]
            for name, v in samples.items():
                out["per_sample"][name][i] = v
    return out


@validate_params(n_jobs=Options(None, Integer()), models=Models(),
                 hessians=Instance(list, tuple, description="a list of Hessian dicts"),
                 val_subsets=ArrayLike(ndim=2), betas=ArrayLike(ndim=1))
def select_beta(models, hessians, x, y, val_subsets, n_clusters, betas, *, block=1,
                beta_scale="hessian", init="linear", max_iter=100, diameter="squared",
                rng=None, device="cpu", n_jobs=None, progress=None):
    """Choose the diameter weight ``beta`` of DRHW k-means by validation.

    Bu et al. (2021, Section 7) suggest choosing ``beta`` by cross-validation. Here every
    model is compressed with DRHW k-means (``n_clusters`` clusters, each ``beta`` of the
    grid) and evaluated on its own **validation** samples ``x[val_subsets[m]]``, which must
    be training-pool data the model was not trained on (e.g.
    :func:`~infocompress.training.complement_subsets` of
    its training subset); the test set is never used. The chosen value minimises the
    validation cross-entropy averaged over the models (one ``beta`` for the ensemble).

    Parameters
    ----------
    models : sequence of torch.nn.Module
    hessians : sequence of dict
        Hessian diagonals of the models' training losses
        (:func:`~infocompress.curvature.ensemble_hessians`).
    x, y : array-like
        Pool that ``val_subsets`` indexes.
    val_subsets : array-like of shape (n_models, k)
        Validation indices of each model.
    n_clusters : int
        K used for the selection.
    betas : sequence of float
        Candidate values, >= 0 (relative to each layer's Hessian mass when
        ``beta_scale="hessian"``, see :func:`quantize_model`).
    block : int, default 1
    beta_scale : {"hessian", "absolute"}, default "hessian"
    init, max_iter, diameter
        As in :func:`quantize_model`.
    rng, device, n_jobs, progress
        As in :func:`compression_sweep`.

    Returns
    -------
    dict
        ``"beta"`` (the chosen value), ``"index"`` (its position in ``betas``),
        ``"betas"`` (ndarray), ``"val_loss"`` (ndarray (n_betas, n_models)) and
        ``"mean"`` (ndarray (n_betas,), the mean validation loss per candidate).

    References
    ----------
    Bu et al. (2021), Section 6.2 (eq. 33-34) and Section 7.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 8, 8)); y = np.arange(30) % 10
    >>> from infocompress.curvature import ensemble_hessians
    >>> from infocompress.models import make_mlp
    >>> models = [make_mlp((8,), rng=s) for s in range(2)]
    >>> hs = ensemble_hessians(models, x, y, progress=False)
    >>> sel = select_beta(models, hs, x, y, [np.arange(30)] * 2, 3, [0.0, 0.01],
    ...                   progress=False)
    >>> sel["val_loss"].shape, sel["beta"] in (0.0, 0.01)
    ((2, 2), True)
    """
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or betas.size == 0 or not np.all(np.isfinite(betas)) or \
            np.any(betas < 0):
        raise ValueError(f"betas must be a non-empty 1-D sequence of finite values >= 0, "
                         f"got {betas}")
    k = check_int(n_clusters, "n_clusters", low=1)
    sub, n_pool = np.asarray(val_subsets), int(np.shape(x)[0]) if np.ndim(x) else 0
    if sub.ndim != 2 or sub.shape[0] != len(models) or not np.issubdtype(sub.dtype, np.integer) \
            or (sub.size and (sub.min() < 0 or sub.max() >= n_pool)):
        raise ValueError(f"val_subsets must be integers of shape ({len(models)}, k) indexing the "
                         f"{n_pool} images of x, got an array of shape {sub.shape} and dtype "
                         f"{sub.dtype}" + (f" with values in [{sub.min()}, {sub.max()}]"
                                           if sub.size and sub.dtype.kind in "iu" else ""))
    gen = as_generator(rng)
    val = np.empty((betas.size, len(models)))
    for i in progress_bar(range(betas.size), desc="beta by validation", progress=progress):
        res = compression_sweep(models, [k], {"val": (x, y, val_subsets)}, method="drhw",
                                beta=float(betas[i]), block=block, hessians=hessians,
                                beta_scale=beta_scale, init=init, max_iter=max_iter,
                                diameter=diameter, rng=gen, device=device, n_jobs=n_jobs,
                                progress=False)
        val[i] = res["loss"]["val"][0]
    mean = val.mean(axis=1)
    best = int(np.argmin(mean))
    return {"beta": float(betas[best]), "index": best, "betas": betas, "val_loss": val,
            "mean": mean}
