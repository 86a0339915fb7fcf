"""The book's trained ensembles: recipes, data splits, training once, sharing on disk.

Section 7 of Bu et al. (2021) trains 50 networks, each from its own initialisation on its
own random 10% of MNIST, and compresses all of them. Several chapters of the book work on
the same ensembles (Figures 1, 3, 5, 6 on the MLP ensemble; Figure 4 on a convolutional
one; the importance and LC chapters reuse them). :func:`load_ensemble` trains an ensemble
from a :class:`Recipe` and a seed, or loads it from the on-disk cache of
:mod:`infocompress.cache` if an intact copy of exactly that ensemble exists; the Hessian
diagonals of :meth:`Ensemble.hessians` are cached the same way. The cache key holds the
recipe, the split, the seed, a digest of the data and the source code of the modules that
compute the result (and the torch and numpy versions), so a hit returns what a new
training run would return, bit for bit.

The recipes:

:data:`AUTHORS_MLP`
    The MNIST network and training of the authors' code (github.com/wgao9/weight-quant,
    ``mnist/model.py`` and ``retrain.py``): 784-256-256-10 ReLU MLP with dropout 0.2 after
    each hidden layer, Xavier-normal initial weights, mini-batch SGD (step 0.01, momentum
    0.9, weight decay 1e-4, batches of 10) for 25 epochs, inputs normalised with
    :data:`infocompress.data.MNIST_MEAN` and :data:`~infocompress.data.MNIST_STD`.
:data:`AUTHORS_CONVNET`
    The same training for a LeNet-5-like convolutional network (two 5x5 convolutions with
    6 and 16 channels, each followed by 2x2 max-pooling, then 120-84-10 linear layers with
    dropout 0.2): the paper's convolutional experiment uses CIFAR-10, which no package
    reachable here ships, so the book runs a convolutional network on MNIST instead.
:data:`DIGITS_MLP`
    The small contrast: 64-64-32-10 MLP (PyTorch's default initialisation, no dropout)
    trained by Adam (step 0.003, batches of 32, 60 epochs) on scikit-learn's 8x8 digits.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import time

import numpy as np

from ._validation import (
    RNG,
    Integer,
    OneOf,
    Options,
    Real,
    as_generator,
    check_int,
    describe,
    validate_params,
)

__all__ = [
    "AUTHORS_CONVNET",
    "AUTHORS_MLP",
    "DATASETS",
    "DIGITS_MLP",
    "Ensemble",
    "Recipe",
    "load_ensemble",
    "load_split",
]

#: Data sets :func:`load_ensemble` knows.
DATASETS = ("mnist", "digits")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """An architecture and the way to train it.

    Attributes
    ----------
    name : str
        Short name (used in cache file names).
    architecture : {"mlp", "convnet"}
        :func:`infocompress.models.make_mlp` or :func:`infocompress.models.make_convnet`.
    model_kwargs : tuple of (str, value) pairs
        Keyword arguments of the builder (tuples, so that the recipe is hashable).
    optimizer : {"sgd", "adam"}
    lr, momentum, weight_decay : float
    batch_size, epochs : int

    Examples
    --------
    >>> AUTHORS_MLP.n_parameters()
    269322
    >>> AUTHORS_MLP.train_kwargs()["optimizer"], AUTHORS_MLP.train_kwargs()["batch_size"]
    ('sgd', 10)
    """

    name: str
    architecture: str
    model_kwargs: tuple
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 10
    epochs: int = 25

    def __post_init__(self):
        if self.architecture not in ("mlp", "convnet"):
            raise ValueError(f"architecture must be 'mlp' or 'convnet', got "
                             f"{self.architecture!r}")
        if isinstance(self.model_kwargs, (str, bytes)) or not all(
                isinstance(kv, tuple) and len(kv) == 2 and isinstance(kv[0], str)
                for kv in (self.model_kwargs if hasattr(self.model_kwargs, "__iter__")
                           else [None])):
            raise ValueError("model_kwargs must be a tuple of (name, value) pairs, got "
                             f"{describe(self.model_kwargs)}")
        OneOf("sgd", "adam").check(self.optimizer, "optimizer")
        Real(low=0, low_open=True).check(self.lr, "lr")
        Real(low=0).check(self.momentum, "momentum")
        Real(low=0).check(self.weight_decay, "weight_decay")
        Integer(low=1).check(self.batch_size, "batch_size")
        Integer(low=1).check(self.epochs, "epochs")

    def make_model(self, rng=None):
        """A freshly initialised network of this recipe (initial weights from ``rng``)."""
        from .models import make_convnet, make_mlp

        build = make_mlp if self.architecture == "mlp" else make_convnet
        return build(**dict(self.model_kwargs), rng=rng)

    def train_kwargs(self) -> dict:
        """Keyword arguments of :func:`infocompress.training.train_ensemble` for this recipe."""
        return dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                    weight_decay=self.weight_decay, optimizer=self.optimizer,
                    momentum=self.momentum)

    def as_dict(self) -> dict:
        """Plain-dict form (for cache keys and tables)."""
        d = dataclasses.asdict(self)
        d["model_kwargs"] = {k: v for k, v in self.model_kwargs}
        return d

    def n_parameters(self) -> int:
        """Number of trainable parameters of one network."""
        return sum(p.numel() for p in self.make_model(rng=0).parameters())


AUTHORS_MLP = Recipe(
    "authors-mlp", "mlp",
    (("hidden", (256, 256)), ("in_shape", (28, 28)), ("dropout", 0.2),
     ("init", "xavier_normal")),
)
AUTHORS_CONVNET = Recipe(
    "authors-lenet", "convnet",
    (("in_shape", (28, 28)), ("channels", (6, 16)), ("hidden", (120, 84)),
     ("kernel_size", 5), ("dropout", 0.2), ("init", "xavier_normal")),
)
DIGITS_MLP = Recipe(
    "digits-mlp", "mlp", (("hidden", (64, 32)), ("in_shape", (8, 8))),
    optimizer="adam", lr=3e-3, momentum=0.0, weight_decay=0.0, batch_size=32, epochs=60,
)


@functools.lru_cache(maxsize=4)
def _dataset(name):
    from . import data

    if name == "mnist":
        x, y = data.load_mnist_sample()
    else:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)).reshape(-1, 8, 8)
        y = np.asarray(bunch.target, dtype=np.int64)
    h = hashlib.sha256(x.tobytes())
    h.update(y.tobytes())
    return x, y, h.hexdigest()


@validate_params(dataset=OneOf("mnist", "digits"),
                 pool_fraction=Real(low=0, high=1, low_open=True, high_open=True), rng=RNG)
def load_split(dataset, pool_fraction, *, rng=None):
    """The pool / test split of the book's experiments, with the recipe's input scaling.

    MNIST images (:func:`infocompress.data.load_mnist_split`) are normalised as in the
    authors' code, ``(x - MNIST_MEAN) / MNIST_STD``; the digits stay in [0, 1]
    (:func:`infocompress.data.load_digits_split`).

    Parameters
    ----------
    dataset : {"mnist", "digits"}
    pool_fraction : float
        Fraction of the images in the training pool, in (0, 1) (stratified by class).
    rng : None, int or numpy.random.Generator, optional

    Returns
    -------
    (x_pool, y_pool), (x_test, y_test)

    Examples
    --------
    >>> (xp, yp), (xt, yt) = load_split("mnist", 0.6, rng=0)
    >>> xp.shape, xt.shape, round(float(xp.mean()), 1)
    ((3000, 28, 28), (2000, 28, 28), 0.0)
    """
    from . import data

    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if dataset == "mnist":
        (xp, yp), (xt, yt) = data.load_mnist_split(pool_fraction, rng=rng)
        scale = np.float32(1.0 / data.MNIST_STD)
        shift = np.float32(data.MNIST_MEAN)
        return ((xp - shift) * scale, yp), ((xt - shift) * scale, yt)
    return data.load_digits_split(pool_fraction, rng=rng)


def _training_code():
    """The functions and classes whose code determines a trained ensemble (cache key)."""
    from . import data, models, training

    return (models.make_mlp, models.make_convnet, models._ToImage, models._hidden_block,
            models._init_layer, models._materialise, models.torch_generator,
            training.train_ensemble, training._fit, training._train_member,
            training._make_optimizer, models._OneThread, models._portable,
            models._cast_finite, models._as_x, models._as_y, training._subset_size,
            data._mnist_sample_arrays, data.load_mnist_split, data.load_digits_split,
            data._digits_split, data._random_split, load_split, Recipe, load_ensemble)


@dataclasses.dataclass(eq=False)
class Ensemble:
    """A trained ensemble with its data, as returned by :func:`load_ensemble`.

    Attributes
    ----------
    recipe : Recipe
    dataset : str
    models : list of torch.nn.Module
        The trained networks (in evaluation mode).
    subsets : ndarray of shape (n_models, subset_size)
        Indices into the pool of each model's training images.
    x_pool, y_pool, x_test, y_test : ndarray
        The training pool and the test set (inputs as the networks see them).
    seed : int
        The seed the ensemble was built from (drawn from the ``rng`` of
        :func:`load_ensemble`).
    seconds : ndarray of shape (n_models,)
        Training time of each model in its worker process, as measured when it was trained.
    train_loss : ndarray of shape (n_models, epochs)
        Per-epoch training losses (dropout active).
    from_cache : bool
        True if the ensemble was loaded from the cache.
    key : dict
        The cache key (recipe, split, seed, data and source digests).
    """

    recipe: Recipe
    dataset: str
    models: list
    subsets: np.ndarray
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seed: int
    seconds: np.ndarray
    train_loss: np.ndarray
    from_cache: bool
    key: dict

    @property
    def n_models(self) -> int:
        """Number of networks."""
        return len(self.models)

    def data(self, *, val=True) -> dict:
        """The ``data`` argument of :func:`infocompress.compression.compression_sweep`.

        ``"train"``: each model on its own training subset (its empirical risk);
        ``"val"`` (if ``val``): each model on the pool images it did not see;
        ``"test"``: every model on the test set (the population risk).
        """
        from .training import complement_subsets

        out = {"train": (self.x_pool, self.y_pool, self.subsets)}
        if val:
            out["val"] = (self.x_pool, self.y_pool,
                          complement_subsets(self.subsets, len(self.y_pool)))
        out["test"] = (self.x_test, self.y_test)
        return out

    def hessians(self, method="gauss_newton", *, normalize=True, n_jobs=-1, progress=None):
        """Hessian diagonal of every model's training loss on its own subset, cached.

        Parameters
        ----------
        method : str, default "gauss_newton"
            See :func:`infocompress.curvature.hessian_diagonal` (``"gauss_newton_squared"`` is
            the importance of the authors' code).
        normalize : bool, default True
            Scale every weight tensor's diagonal to mean 1, as the authors' code does.
        n_jobs : int or None, default -1
            Worker processes on a cache miss.
        progress : bool or None, optional

        Returns
        -------
        list of dict
            One ``{parameter name: float tensor}`` per model.
        """
        from . import _parallel, cache, curvature, models

        key = {"what": "hessians", "ensemble": cache.key_digest(self.key), "method": method,
               "normalize": bool(normalize),
               "source": cache.source_digest(
                   curvature, models.quantizable_parameters, models._portable,
                   models._OneThread, _parallel.run_tasks,
                   _parallel.tolerate_worker_restarts)}

        def compute():
            hs = curvature.ensemble_hessians(self.models, self.x_pool, self.y_pool, self.subsets,
                                        method=method, normalize=normalize, n_jobs=n_jobs,
                                        progress=progress)
            return {"hessians": hs}

        value, _ = cache.cached(f"{self.recipe.name}-{self.dataset}-hessians", key, compute)
        return value["hessians"]

    def sweep(self, n_clusters, *, method="kmeans", importance=None, beta=0.0,
              diameter="squared", block=1, init="quantile", max_iter=30, val=False,
              beta_scale="absolute", n_jobs=-1, progress=None):
        """:func:`infocompress.compression.compression_sweep` of this ensemble, cached on disk.

        The sweep is deterministic (the quantile start draws no random numbers), so its
        result is cached under the ensemble's key, the settings and the code of the
        modules involved; chapters that need the same sweep compute it once.

        Parameters
        ----------
        n_clusters : sequence of int
        method : {"kmeans", "hw", "drhw", "optimal"}, default "kmeans"
        importance : str or None
            Hessian method for ``"hw"``/``"drhw"`` (see :meth:`hessians`; normalised to
            mean 1 per layer), e.g. ``"gauss_newton_squared"`` (the authors' importance).
        beta, diameter, block, init, max_iter, beta_scale
            As in :func:`infocompress.compression.quantize_model` (defaults: the authors' quantile
            start and 30 iterations).
        val : bool, default False
            Also evaluate each network on its unseen pool images (``"val"``).
        n_jobs : int or None, default -1
        progress : bool or None, optional

        Returns
        -------
        dict
            The sweep result, with per-sample test losses.
        """
        from . import cache, coding, compression, kmeans, kmeans1d, models

        ks = [int(k) for k in n_clusters]
        if init == "kmeans++":
            raise ValueError("init='kmeans++' draws random numbers; call "
                             "compression.compression_sweep with an rng instead")
        hess = None if importance is None else self.hessians(importance, n_jobs=n_jobs,
                                                             progress=progress)
        settings = dict(method=method, beta=float(beta), diameter=diameter, block=int(block),
                        init=init, max_iter=int(max_iter), beta_scale=beta_scale)
        key = {"what": "sweep", "ensemble": cache.key_digest(self.key), "n_clusters": ks,
               "importance": importance, "val": bool(val), **settings,
               "source": cache.source_digest(
                   kmeans, kmeans1d, coding, compression, models._evaluate, models._forward,
                   models._per_sample_losses, models._portable, models._OneThread)}

        def compute():
            return compression.compression_sweep(self.models, ks, self.data(val=val),
                                          hessians=hess, per_sample=("test",), rng=0,
                                          n_jobs=n_jobs, progress=progress, **settings)

        name = f"{self.recipe.name}-{self.dataset}-sweep"
        return cache.cached(name, key, compute)[0]


@validate_params(n_jobs=Options(None, Integer()),
                 pool_fraction=Real(low=0, high=1, low_open=True, high_open=True), rng=RNG)
def load_ensemble(recipe, *, dataset="mnist", n_models=50, pool_fraction=0.6,
                  subset_size=2000, rng=None, n_jobs=-1, progress=None):
    """Train an ensemble (or load it from the cache): the experiment of Bu et al., Sec. 7.

    One seed is drawn from ``rng``; from it, through :class:`numpy.random.SeedSequence`,
    come the pool / test split (:func:`load_split`, stratified) and everything of
    :func:`infocompress.training.train_ensemble`: each model's initial weights, its own random
    ``subset_size`` pool images (without replacement), its mini-batch order and dropout
    masks. Two calls with generators in the same state return the same ensemble; the
    second one reads it from the cache (see :mod:`infocompress.cache`) unless the cache is
    off or the entry is damaged, in which case the ensemble is trained again, with
    identical numbers.

    Parameters
    ----------
    recipe : Recipe
        E.g. :data:`AUTHORS_MLP`.
    dataset : {"mnist", "digits"}, default "mnist"
    n_models : int, default 50
    pool_fraction : float, default 0.6
        Fraction of the data set in the training pool; the rest is the test set.
    subset_size : int, default 2000
        Pool images per model.
    rng : None, int or numpy.random.Generator, optional
    n_jobs : int or None, default -1
        Worker processes for training on a cache miss (all cores by default; the models do
        not depend on it).
    progress : bool or None, optional
        Progress bar while training.

    Returns
    -------
    Ensemble

    Raises
    ------
    ValueError
        For an unknown data set, a bad fraction or sizes, or a recipe that is not a
        :class:`Recipe`.

    Examples
    --------
    >>> ens = load_ensemble(DIGITS_MLP, dataset="digits", n_models=2, pool_fraction=0.3,
    ...                     subset_size=50, rng=0, n_jobs=1, progress=False)
    >>> ens.n_models, ens.subsets.shape, ens.x_test.shape
    (2, (2, 50), (1258, 8, 8))
    """
    import torch

    from . import cache, training

    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be an infocompress.ensembles.Recipe, got {recipe!r}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    n_models = check_int(n_models, "n_models", low=1)
    subset_size = check_int(subset_size, "subset_size", low=1)
    seed = int(as_generator(rng).integers(2**63 - 1))
    split_ss, train_ss = np.random.SeedSequence(seed).spawn(2)
    (x_pool, y_pool), (x_test, y_test) = load_split(dataset, pool_fraction,
                                                    rng=np.random.default_rng(split_ss))
    if subset_size > len(y_pool):
        raise ValueError(f"subset_size={subset_size} exceeds the {len(y_pool)} pool images")
    key = {"what": "ensemble", "recipe": recipe.as_dict(), "dataset": dataset,
           "data_sha256": _dataset(dataset)[2], "n_models": n_models,
           "pool_fraction": float(pool_fraction), "subset_size": subset_size, "seed": seed,
           "source": cache.source_digest(*_training_code()),
           "torch": torch.__version__, "numpy": np.__version__,
           "numerics": {"cpu_capability": torch.backends.cpu.get_cpu_capability(),
                        "MKL_CBWR": os.environ.get("MKL_CBWR", "")}}

    def compute():
        t0 = time.perf_counter()
        models, subsets, info = training.train_ensemble(
            recipe.make_model, n_models, x_pool, y_pool, subset_size=subset_size,
            rng=np.random.default_rng(train_ss), n_jobs=n_jobs, progress=progress,
            return_info=True, **recipe.train_kwargs())
        return {"states": [m.state_dict() for m in models], "subsets": subsets,
                "seconds": info["seconds"], "train_loss": info["loss"],
                "wall_seconds": time.perf_counter() - t0}

    value, hit = cache.cached(f"{recipe.name}-{dataset}-{n_models}", key, compute)
    models = []
    for state in value["states"]:
        model = recipe.make_model(rng=0)
        model.load_state_dict(state)
        model.eval()
        models.append(model)
    return Ensemble(recipe=recipe, dataset=dataset, models=models, subsets=value["subsets"],
                    x_pool=x_pool, y_pool=y_pool, x_test=x_test, y_test=y_test, seed=seed,
                    seconds=np.asarray(value["seconds"]), train_loss=value["train_loss"],
                    from_cache=hit, key=key)
