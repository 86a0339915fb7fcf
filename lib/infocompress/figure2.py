r"""Batched Monte-Carlo pipeline behind Figure 2 of Bu et al. (2021).

One call of :func:`figure2_experiment` draws ``trials`` independent training sets from the
linear model (16), fits the ERM (18) of every set in one batched solve, compresses the
ERMs with each requested compressor and records, **per trial**,

* the generalization error :math:`L_\mu(\hat W) - L_S(\hat W)`,
* the distortion :math:`d_S(W, \hat W) = L_S(\hat W) - L_S(W)
  = (\hat W - W)^\top \tfrac1n XX^\top (\hat W - W)` (eqs. (13), (23)),
* the population risk :math:`L_\mu(\hat W) = (\hat W - w^*)^\top\Sigma_X(\hat W - w^*)
  + \sigma'^2`,
* the radius :math:`C(w^*)` of eq. (20) of the set of reconstructions available in that
  trial, and the squared diameter of the quantization levels,

together with several measures of the rate (all in **bits for the whole weight vector**).
Averages, standard errors and paired differences are then one line each
(:meth:`Curve.stat`, :func:`~infocompress.stats.paired_difference`), so a notebook can
check every claim of Section 5.3 at a tolerance of a few standard errors.

Compressors (``methods``):

``"erm"``
    No compression, :math:`\hat W = W`.
``"oracle"``
    The achievability channel (26), :class:`infocompress.channels.OracleChannel`, one
    curve point per target distortion :math:`D`.
``"kmeans"``
    Lloyd's k-means on the weights (:func:`infocompress.kmeans.drhw_kmeans_batch`
    with ``h=None``), one point per number of clusters :math:`K`.
``"hw"``
    Hessian-weighted k-means, eq. (30), with :math:`h^{(j)} = (\tfrac1n XX^\top)_{jj}`,
    the diagonal of the Hessian (22).
``"drhw"``
    Diameter-regularized HW k-means, eq. (34) / Algorithm 1, one curve per ``beta``.
``"optimal"``, ``"optimal_hw"``
    The exact global optimum of (unweighted, resp. Hessian-weighted) scalar k-means,
    :func:`infocompress.kmeans1d.optimal_kmeans_1d_batch` (scalar only).

Every quantizer but the exact optimum also runs as a vector quantizer: with ``block=m``
the weights are grouped into ``d/m`` blocks of ``m`` consecutive coordinates (Algorithm 1
with vectors). A method name with a block length, e.g. ``"kmeans(m=2)"``, runs that
quantizer with its own block length next to the others, on the same training sets, so
scalar and vector curves can be compared trial by trial.

Rates. A k-means quantizer is a deterministic map of :math:`W`; its output consists of
:math:`d' = d/m` cluster indices and :math:`K` centres (:math:`m` the block length).
The curves report

``"index"``
    :math:`d' \log_2 K`: a fixed-length code for the indices. This is the proxy
    :math:`I(W;\hat W) \lesssim \log_2 K` per weight of the paper (Section 6.2),
    multiplied by the number of indices; it ignores the centres.
``"entropy"``
    :math:`d' \hat H(\text{labels})` in bits, with :math:`\hat H` the plug-in entropy of
    the indices of one trial (what an entropy coder such as Huffman's approaches); mean
    and SE over trials.
``"index+centres"``
    :math:`d' \log_2 K + b K m`, adding ``b = center_bits`` bits per centre coordinate
    (64 if the centres are not rounded). When the centres are rounded to ``b``-bit
    floats, :math:`\hat W` takes at most :math:`K^{d'} 2^{bKm}` values, so this is a
    true upper bound on :math:`H(\hat W) \ge I(W;\hat W)`.
``"gaussian"`` (Oracle)
    :meth:`~infocompress.channels.OracleChannel.gaussian_mi` in bits, an upper bound on
    :math:`I(W;\hat W)`.
``"ksg"`` (when ``mi_coords > 0``)
    :math:`d` times the average over the first ``mi_coords`` coordinates of the KSG
    estimate of :math:`I(W^{(j)};\hat W^{(j)})` across trials; SE from the spread over
    coordinates. For independent coordinates :math:`\sum_j I(W^{(j)};\hat W^{(j)})`
    is a lower bound on :math:`I(W;\hat W)`; the coordinates of the ERM are
    uncorrelated for :math:`\Sigma_X = I` but not exactly independent.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021,
   Section 5.3 (Figure 2) and Section 6.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    ArrayLike,
    as_finite_array,
    as_generator,
    check_int,
    check_n_gt_d_plus_1,
    check_nonnegative,
    check_real,
    validate_params,
)
from .channels import OracleChannel, oracle_gen_error, oracle_population_risk
from .linreg import (
    covariance_matrix,
    empirical_risk,
    erm,
    gen_error_bound,
    population_risk,
    sample_datasets,
)
from .progress import progress_bar
from .stats import mean_se

__all__ = [
    "METHODS",
    "Curve",
    "Figure2Config",
    "Figure2Result",
    "default_oracle_distortions",
    "figure2_experiment",
    "group_average_matrix",
    "oracle_theory",
    "projection_theory",
    "run_figure2",
]

#: Compressors understood by :func:`figure2_experiment`.
METHODS = ("erm", "oracle", "kmeans", "hw", "drhw", "optimal", "optimal_hw")
_QUANTIZERS = ("kmeans", "hw", "drhw", "optimal", "optimal_hw")
# a quantizer with its own block length, e.g. "kmeans(m=2)"
_BLOCK_SUFFIX = re.compile(r"([a-z_]+)\(m=(\d+)\)")
_METRICS = ("gen", "distortion", "pop_risk", "emp_risk", "c_w_star", "diameter", "objective",
            "entropy")
_CENTER_BITS = (None, 16, 32, 64)
_FLOAT_OF_BITS = {16: np.float16, 32: np.float32, 64: np.float64}
_KSG_K = 3


# --------------------------------------------------------------------------------------
# result containers
# --------------------------------------------------------------------------------------
@dataclass(eq=False)
class Curve:
    r"""Per-trial measurements of one compressor along its parameter grid.

    Attributes
    ----------
    method : str
        One of :data:`METHODS`; DRHW curves are named ``"drhw(beta=...)"`` in
        :attr:`Figure2Result.curves` and keep ``method="drhw"`` here.
    param_name : str
        ``"K"`` (number of clusters), ``"D"`` (Oracle target distortion) or ``""``
        (ERM, a single point).
    params : ndarray of shape (m,)
        Grid values (``[nan]`` for the ERM).
    beta : float
        Diameter-regularization weight (0 except for DRHW).
    block : int
        Block length m of the quantizer (1 = scalar).
    gen, distortion, pop_risk, emp_risk : ndarray of shape (m, trials)
        Per-trial :math:`L_\mu(\hat W) - L_S(\hat W)`, :math:`L_S(\hat W) - L_S(W)`,
        :math:`L_\mu(\hat W)` and :math:`L_S(\hat W)`.
    c_w_star : ndarray of shape (m, trials)
        Per-trial :math:`C(w^*)`: for quantizers
        :math:`\sum_{j} \max_k \lVert c^{(k)} - w^{*(j)}\rVert^2` over the trial's ``K``
        levels (blocks :math:`j`), i.e. eq. (20) for the set of all reconstructions
        that use these levels; for the ERM and the Oracle, whose outputs are not confined
        to a compact set, the realised :math:`\lVert\hat W - w^*\rVert_2^2`.
    diameter : ndarray of shape (m, trials)
        Squared diameter :math:`\max_{k_1,k_2}\lVert c^{(k_1)}-c^{(k_2)}\rVert^2` of the
        levels (eq. (33) without ``beta``); zeros for the ERM and the Oracle.
    objective : ndarray of shape (m, trials)
        Value of the clustering objective (34)/(35) (NaN for the ERM and the Oracle).
    entropy : ndarray of shape (m, trials)
        Per-trial index entropy in bits for the whole vector, :math:`d'\hat H(\text{labels})`
        (NaN for the ERM and the Oracle); its mean is ``rates["entropy"]``.
    rates : dict of str to ndarray of shape (m,)
        Rate measures in bits for the whole vector (see the module notes).
    rate_se : dict of str to ndarray of shape (m,)
        Their Monte-Carlo standard errors (0 for deterministic rates).

    Examples
    --------
    >>> res = figure2_experiment([-1.0, -1.0, 1.0, 1.0], 10, trials=100,
    ...                          n_clusters_grid=[1, 2], methods=("kmeans",), rng=1)
    >>> c = res["kmeans"]
    >>> c.param_name, c.params.tolist(), c.pop_risk.shape
    ('K', [1.0, 2.0], (2, 100))
    >>> mean, se = c.stat("distortion")
    >>> bool(mean[c.index(2)] < mean[c.index(1)])
    True
    """

    method: str
    param_name: str
    params: np.ndarray
    gen: np.ndarray
    distortion: np.ndarray
    pop_risk: np.ndarray
    emp_risk: np.ndarray
    c_w_star: np.ndarray
    diameter: np.ndarray
    objective: np.ndarray
    entropy: np.ndarray
    rates: dict = field(default_factory=dict)
    rate_se: dict = field(default_factory=dict)
    beta: float = 0.0
    block: int = 1

    @property
    def trials(self) -> int:
        """Number of Monte-Carlo trials."""
        return int(self.gen.shape[1])

    def stat(self, metric):
        """Mean and standard error over trials of one per-trial metric.

        Parameters
        ----------
        metric : {"gen", "distortion", "pop_risk", "emp_risk", "c_w_star", "diameter", \
"objective", "entropy"}

        Returns
        -------
        mean, se : ndarray of shape (m,)
        """
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
        return mean_se(getattr(self, metric), axis=-1)

    def index(self, value) -> int:
        """Position of a grid value in :attr:`params` (e.g. ``curve.index(2)`` for K=2)."""
        hit = np.flatnonzero(np.isclose(self.params, value, rtol=1e-12, atol=0.0))
        if hit.size == 0:
            raise ValueError(f"{value!r} is not on the grid {self.params.tolist()}")
        return int(hit[0])


@dataclass(eq=False)
class Figure2Result:
    r"""Output of :func:`figure2_experiment`.

    Attributes
    ----------
    w_star : ndarray of shape (d,)
    n, d, trials : int
    noise_var : float
        :math:`\sigma'^2`.
    sigma_x_norm : float
        Spectral norm :math:`\lVert\Sigma_X\rVert`.
    center_bits : int or None
        Precision to which quantization levels were rounded (None: float64 kept).
    curves : dict of str to Curve
        Keys ``"erm"``, ``"oracle"``, ``"kmeans"``, ``"hw"``, ``"drhw(beta=<b>)"``
        (``<b>`` formatted with ``:g``), ``"optimal"``, ``"optimal_hw"``, for the
        methods that were run; a method given with a block length keeps it in the key,
        e.g. ``"kmeans(m=2)"``, and ``"drhw(m=2)"`` gives ``"drhw(beta=<b>, m=2)"``.
    erm_emp_risk : ndarray of shape (trials,)
        :math:`L_S(W)` of every trial.
    true_gap : ndarray of shape (trials,)
        :math:`\sigma'^2 - L_S(w^*)` of every trial, the generalization gap of the true
        weights. Its mean is exactly 0 (:math:`w^*` does not depend on :math:`S`), and it
        carries the noise :math:`\lVert\varepsilon\rVert^2/n` of the empirical risk that
        every compressor's gap shares: ``curve.gen[i] - res.true_gap`` has the same mean as
        ``curve.gen[i]`` and a much smaller variance (a control variate).
    control_gaps : ndarray of shape (k, trials) or None
        :math:`L_\mu(v_j) - L_S(v_j)` of every trial for the ``control_points``
        :math:`v_1, \dots, v_k` given to :func:`figure2_experiment` (None if none were given).
        Each row has mean exactly 0, since :math:`v_j` does not depend on :math:`S`. A
        point close to what a compressor outputs (e.g. the projection :math:`Aw^*` of the
        truth for a quantizer that averages groups of weights) shares more of the
        compressed model's noise than :math:`w^*` does, so subtracting its gap removes
        more variance than ``true_gap``.

    Examples
    --------
    >>> res = figure2_experiment([-1.0, 1.0], 8, trials=50, methods=("erm", "oracle"),
    ...                          oracle_distortions=[0.1], rng=2)
    >>> sorted(res.curves), res.d, res.trials
    (['erm', 'oracle'], 2, 50)
    >>> res.gen_bound("oracle", rate="gaussian").shape
    (1,)
    >>> res.true_gap.shape
    (50,)
    """

    w_star: np.ndarray
    n: int
    d: int
    trials: int
    noise_var: float
    sigma_x_norm: float
    center_bits: int | None
    curves: dict
    erm_emp_risk: np.ndarray
    true_gap: np.ndarray | None = None
    control_gaps: np.ndarray | None = None

    def __getitem__(self, key) -> Curve:
        try:
            return self.curves[key]
        except KeyError:
            raise ValueError(f"no curve {key!r}; available: {sorted(self.curves)}") from None

    def gen_bound(self, key, *, rate, radius="sup"):
        r"""Proposition 1, eq. (21), evaluated for a curve.

        .. math:: 2\bigl(C(w^*)\lVert\Sigma_X\rVert + \sigma'^2\bigr)\sqrt{I/n}

        with :math:`I` the chosen rate measure converted to nats.

        Parameters
        ----------
        key : str
            Curve name.
        rate : str
            One of the curve's :attr:`Curve.rates` (mean rate used).
        radius : {"sup", "mean"} or array-like of shape (m,), default "sup"
            :math:`C(w^*)` per grid point. An array gives it explicitly, e.g. the largest
            radius met in an *independent* run (``other[key].c_w_star.max(axis=1)``), so
            that the bound is not computed from the trials it is compared with.
            ``"sup"``: the largest per-trial radius of this run, a stand-in for the
            supremum over the reconstruction set that Proposition 1 needs (it depends on
            this run's trials). ``"mean"``: the bound is computed per trial with that
            trial's radius and averaged (a heuristic, not what the proposition states).

        Returns
        -------
        ndarray of shape (m,)

        Examples
        --------
        >>> res = figure2_experiment([-1.0, 1.0], 8, trials=50, methods=("erm", "oracle"),
        ...                          oracle_distortions=[0.1], rng=2)
        >>> other = figure2_experiment([-1.0, 1.0], 8, trials=50, methods=("erm", "oracle"),
        ...                            oracle_distortions=[0.1], rng=3)
        >>> c_sup = other["oracle"].c_w_star.max(axis=1)  # from independent trials
        >>> bool(res.gen_bound("oracle", rate="gaussian", radius=c_sup)[0] > 0)
        True
        """
        c = self[key]
        if rate not in c.rates:
            raise ValueError(f"curve {key!r} has no rate {rate!r}; it has {sorted(c.rates)}")
        mi = np.maximum(c.rates[rate], 0.0) * math.log(2.0)
        if not np.all(np.isfinite(mi)):
            raise ValueError(f"rate {rate!r} of curve {key!r} is not finite")
        if isinstance(radius, str):
            if radius not in ("sup", "mean"):
                raise ValueError(f"radius must be 'sup', 'mean' or an array, got {radius!r}")
            if radius == "mean":
                per = 2.0 * (c.c_w_star * self.sigma_x_norm + self.noise_var) * np.sqrt(
                    mi[:, None] / self.n
                )
                return per.mean(axis=1)
            radius_c = c.c_w_star.max(axis=1)
        else:
            radius_c = check_nonnegative(radius, "radius")
            if radius_c.shape != mi.shape:
                raise ValueError(f"radius must have shape {mi.shape} (one value per grid "
                                 f"point of {key!r}), got {radius_c.shape}")
        return np.array([
            gen_error_bound(m_, self.n, c_w_star=r_, sigma_x_norm=self.sigma_x_norm,
                            noise_var=self.noise_var)
            for m_, r_ in zip(mi, radius_c, strict=True)
        ])


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------
def default_oracle_distortions(d, n, noise_var=1.0, *, num=12, alpha_min=2.0**-8):
    r"""A grid of Oracle target distortions :math:`D = \alpha d\sigma'^2/n`.

    The shrinkage :math:`\alpha` runs geometrically from 1 (:math:`\hat W = w^*`, rate 0)
    down to ``alpha_min`` (high rate).

    Parameters
    ----------
    d, n : int
        Dimension and sample size, ``n > d + 1``.
    noise_var : float, default 1.0
    num : int, default 12
        Number of grid points, >= 1.
    alpha_min : float, default 2**-8
        Smallest shrinkage, in (0, 1].

    Returns
    -------
    ndarray of shape (num,)
        Decreasing distortions.

    Examples
    --------
    >>> default_oracle_distortions(50, 80, num=3, alpha_min=0.25).tolist()
    [0.625, 0.3125, 0.15625]
    """
    d, n = check_n_gt_d_plus_1(d, n)
    v = check_real(noise_var, "noise_var", positive=True)
    num = check_int(num, "num", low=1)
    a = check_real(alpha_min, "alpha_min", positive=True)
    if a > 1:
        raise ValueError(f"alpha_min must be <= 1, got {a}")
    alpha = np.geomspace(1.0, a, num) if num > 1 else np.array([1.0])
    return alpha * d * v / n


def oracle_theory(D, d, n, noise_var=1.0):
    r"""Exact expectations for the Oracle channel (26) applied to the ERM.

    With :math:`\alpha = nD/(d\sigma'^2)`, :math:`\Delta = W - w^*` and the channel noise
    :math:`\xi` independent of the data, :math:`\hat W - w^* = (1-\alpha)\Delta + \xi`.
    Using :math:`E[\Delta^\top\Sigma_X\Delta] = \sigma'^2 d/(n-d-1)` (inverse Wishart),
    :math:`E[\tfrac1n\lVert X^\top\Delta\rVert^2] = \sigma'^2 d/n` (projection onto the
    row space of :math:`X`) and :math:`E[\tfrac1n XX^\top] = \Sigma_X`:

    .. math::

        E[d_S(W,\hat W)] &= D \quad\text{(eq. (A12))},\\
        \mathrm{gen}(\mu, P_{\hat W|S}) &= \sigma'^2 d \Bigl(\frac{(1-\alpha)^2}{n-d-1}
            + \frac{1-\alpha^2}{n}\Bigr),\\
        E[L_\mu(\hat W)] &= \sigma'^2 + (1-\alpha)^2\frac{\sigma'^2 d}{n-d-1}
            + (1-\alpha) D .

    The noise :math:`\xi` does not change the generalization error (it raises the
    population and the empirical risk by the same amount on average). At
    :math:`\alpha = 0` these are the ERM values of Lemma 3; at :math:`\alpha = 1`,
    :math:`\hat W = w^*` and the generalization error vanishes. None depends on
    :math:`\Sigma_X` or :math:`w^*`.

    Parameters
    ----------
    D : float or array-like
        Target distortions, ``0 <= D <= d * noise_var / n``.
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    noise_var : float, default 1.0

    Returns
    -------
    dict
        ``"alpha"``, ``"distortion"``, ``"gen"``, ``"pop_risk"``, ``"emp_risk"``
        (:math:`E[L_S(\hat W)]`), each a float or an ndarray shaped like ``D``.

    References
    ----------
    Bu et al. (2021), eq. (26), Appendix A (Lemma 3) and eq. (A12); the generalization
    and population-risk formulas are derived here with the same two moments.

    Examples
    --------
    >>> t = oracle_theory(0.0, 50, 80)   # alpha = 0: the ERM itself (Lemma 3)
    >>> round(t["gen"], 6), round(t["pop_risk"], 6)
    (2.349138, 2.724138)
    >>> oracle_theory(50 / 80, 50, 80)["gen"]   # alpha = 1: W_hat = w*
    0.0
    """
    d, n = check_n_gt_d_plus_1(d, n)
    v = check_real(noise_var, "noise_var", positive=True)
    D = check_nonnegative(D, "D")
    d_max = d * v / n
    if np.any(D > d_max):
        raise ValueError(f"D must be <= d*noise_var/n = {d_max}, got {np.max(D)}")
    alpha = np.minimum(1.0, n * D / (d * v))  # rounding at D = d_max can give 1 + 2**-52
    # one implementation of the closed forms (infocompress.learners), the same algebra
    gen = np.asarray(oracle_gen_error(d, n, D, v))
    pop = np.asarray(oracle_population_risk(d, n, D, v))
    out = {"alpha": alpha, "distortion": D * 1.0, "gen": gen, "pop_risk": pop,
           "emp_risk": pop - gen}
    return {k: (float(x) if np.ndim(x) == 0 else x) for k, x in out.items()}


def group_average_matrix(groups) -> np.ndarray:
    r"""Projection that replaces every weight by the mean of its group.

    .. math:: A = \sum_g \frac{1}{|g|} \mathbf 1_g \mathbf 1_g^\top ,

    a symmetric idempotent matrix of rank equal to the number of groups. With the groups
    of a k-means partition held fixed, :math:`\hat W = AW` is exactly the k-means
    reconstruction (each centre is the mean of its cluster).

    Parameters
    ----------
    groups : array-like of int of shape (d,)
        Group label of each coordinate (any integers).

    Returns
    -------
    ndarray of shape (d, d)

    Examples
    --------
    >>> group_average_matrix([0, 0, 1])
    array([[0.5, 0.5, 0. ],
           [0.5, 0.5, 0. ],
           [0. , 0. , 1. ]])
    """
    g = np.asarray(groups)
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"groups must be a non-empty 1-D array, got shape {g.shape}")
    if not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups must hold integers, got dtype {g.dtype}")
    same = (g[:, None] == g[None, :]).astype(float)
    return same / same.sum(axis=1, keepdims=True)


@validate_params(w_star=ArrayLike(ndim=1, nonempty=True))
def projection_theory(A, w_star, n, noise_var=1.0):
    r"""Exact expectations for the compressed model :math:`\hat W = AW`, :math:`\Sigma_X = I`.

    For a fixed orthogonal projection :math:`A` (symmetric, :math:`A^2 = A`) of rank
    :math:`p = \operatorname{tr} A` and the ERM :math:`W` of the model (16) with
    :math:`\Sigma_X = I`,

    .. math::

        \mathrm{gen}(\mu, P_{\hat W|S}) &= \frac{\sigma'^2 p}{n}\Bigl(2 + \frac{p+1}{n-d-1}\Bigr),\\
        E[L_\mu(\hat W)] &= \sigma'^2 + \lVert (I - A) w^* \rVert_2^2
            + \frac{\sigma'^2 p}{n-d-1},\\
        E[d_S(W, \hat W)] &= E[L_\mu(\hat W)] - \mathrm{gen} - \sigma'^2\frac{n-d}{n}.

    :math:`p = d` (:math:`A = I`) gives Lemma 3. The derivation uses
    :math:`E[(XX^\top)^{-1}] = I/(n-d-1)` and, for :math:`M = XX^\top`,
    :math:`E[M_{ij}(M^{-1})_{kl}] = (n\delta_{ij}\delta_{kl} - \delta_{ik}\delta_{jl}
    - \delta_{il}\delta_{jk})/(n-d-1)`. It applies to k-means whenever the partition does
    not depend on the data (e.g. K = 1, or K = 2 when the two groups of :math:`w^*` are
    so far apart that no weight is ever misassigned): then the k-means output is
    :math:`AW` with :math:`A` from :func:`group_average_matrix`.

    Parameters
    ----------
    A : array-like of shape (d, d)
        Orthogonal projection.
    w_star : array-like of shape (d,)
    n : int
        Sample size, ``n > d + 1``.
    noise_var : float, default 1.0

    Returns
    -------
    dict
        ``"rank"`` (int), ``"gen"``, ``"pop_risk"``, ``"emp_risk"``, ``"distortion"``.

    References
    ----------
    Bu et al. (2021), Lemma 3 and its proof (Appendix A), extended here from :math:`A = I`
    to a projection.

    Examples
    --------
    >>> t = projection_theory(np.eye(50), np.zeros(50), 80)   # the ERM itself
    >>> round(t["gen"], 6), abs(t["distortion"]) < 1e-12
    (2.349138, True)
    >>> A = group_average_matrix(np.repeat([0, 1], 25))
    >>> round(projection_theory(A, np.repeat([-1.0, 1.0], 25), 80)["gen"], 6)
    0.052586
    """
    w_star = as_finite_array(w_star, "w_star", ndim=1)
    d = w_star.size
    d, n = check_n_gt_d_plus_1(d, n)
    v = check_real(noise_var, "noise_var", positive=True)
    A = as_finite_array(A, "A", ndim=2)
    if A.shape != (d, d):
        raise ValueError(f"A must have shape ({d}, {d}), got {A.shape}")
    if not np.allclose(A, A.T, atol=1e-10):
        raise ValueError("A must be symmetric (an orthogonal projection)")
    if not np.allclose(A @ A, A, atol=1e-10):
        raise ValueError("A must be idempotent, A @ A == A (an orthogonal projection)")
    p = int(round(float(np.trace(A))))
    bias = float(np.sum((w_star - A @ w_star) ** 2))
    gen = v * p / n * (2.0 + (p + 1) / (n - d - 1))
    pop = v + bias + v * p / (n - d - 1)
    emp = pop - gen
    return {"rank": p, "gen": gen, "pop_risk": pop, "emp_risk": emp,
            "distortion": emp - v * (n - d) / n}


# --------------------------------------------------------------------------------------
# the experiment
# --------------------------------------------------------------------------------------
def _check_grid(values, name, low, high):
    if isinstance(values, (numbers.Integral, np.integer)):
        values = [values]
    vals = list(values)
    if not vals:
        raise ValueError(f"{name} must not be empty")
    out = []
    for v in vals:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)):
            raise ValueError(f"{name} must hold integers, got {v!r}")
        if not low <= int(v) <= high:
            raise ValueError(f"{name} entries must lie in [{low}, {high}], got {int(v)}")
        out.append(int(v))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat values, got {out}")
    return np.array(out, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Figure2Config:
    """The validated settings of one Figure 2 run (made by :meth:`create`).

    Every argument of :func:`figure2_experiment` except ``rng`` and ``progress`` is checked
    once, here; :func:`run_figure2` then runs the pipeline on a config. Attributes hold
    the parsed values: ``methods`` as (name as given, method, block length) triples,
    ``grid`` the numbers of clusters (None without a quantizer), ``dists`` the Oracle
    distortions (None without the Oracle), ``control_points`` a (k, d) array.

    Examples
    --------
    >>> cfg = Figure2Config.create(np.ones(4), 8, trials=50, methods=("erm", "kmeans(m=2)"),
    ...                            n_clusters_grid=[1, 2])
    >>> cfg.d, cfg.methods, cfg.grid.tolist()
    (4, (('erm', 'erm', 1), ('kmeans(m=2)', 'kmeans', 2)), [1, 2])
    >>> Figure2Config.create(np.ones(4), 5)
    Traceback (most recent call last):
        ...
    ValueError: the formula needs n > d + 1, got n=5 with d=4
    """

    w_star: np.ndarray
    n: int
    d: int
    trials: int
    grid: np.ndarray | None
    dists: np.ndarray | None
    methods: tuple
    betas: np.ndarray
    init: str
    max_iter: int
    sigma_x: object
    noise_var: float
    sigma_x_norm: float
    mi_coords: int
    mi_methods: tuple
    center_bits: int | None
    chunk_size: int
    control_points: np.ndarray

    @classmethod
    def create(cls, w_star, n, *, trials=10_000, n_clusters_grid=tuple(range(1, 17)),
               oracle_distortions=None, methods=("erm", "oracle", "kmeans"), betas=(),
               block=1, init="linear", max_iter=100, sigma_x=None, noise_var=1.0,
               mi_coords=0, mi_methods=None, center_bits=None, chunk_size=2000,
               control_points=None) -> Figure2Config:
        """Check the arguments of :func:`figure2_experiment` (same names and defaults)
        and return the config; a ``ValueError`` names the first bad one."""
        w_star = as_finite_array(w_star, "w_star", ndim=1)
        d = w_star.size
        if d == 0:
            raise ValueError("w_star must have at least one coordinate")
        check_n_gt_d_plus_1(d, n)
        trials = check_int(trials, "trials", low=2)
        if isinstance(methods, str):
            methods = (methods,)
        methods = tuple(methods)
        if not methods:
            raise ValueError("methods must not be empty")
        if len(set(methods)) != len(methods):
            raise ValueError(f"methods must not repeat, got {methods}")
        block = check_int(block, "block", low=1)
        parsed = []  # (name as given, method, block length)
        for name in methods:
            match = _BLOCK_SUFFIX.fullmatch(name) if isinstance(name, str) else None
            base, m = (match.group(1), int(match.group(2))) if match else (name, block)
            if base not in METHODS:
                raise ValueError(f"methods: unknown method {name!r}; choose from {METHODS}, a "
                                 f"quantizer optionally with a block length, e.g. "
                                 f"'kmeans(m=2)'")
            if match and base not in _QUANTIZERS:
                raise ValueError(f"method {name!r}: only the quantizers take a block length")
            if m < 1 or d % m:
                raise ValueError(f"method {name!r}: d={d} must be divisible by block={m}")
            if base.startswith("optimal") and m > 1:
                raise ValueError(f"method {name!r}: the optimal_* methods are scalar only, "
                                 f"use block 1")
            parsed.append((name, base, m if base in _QUANTIZERS else 1))
        grid = None
        quant_blocks = [m for _, base, m in parsed if base in _QUANTIZERS]
        if quant_blocks:
            grid = _check_grid(n_clusters_grid, "n_clusters_grid", 1, d // max(quant_blocks))
        noise_var = check_real(noise_var, "noise_var", positive=True)
        dists = None
        if "oracle" in methods:
            if oracle_distortions is None:
                dists = default_oracle_distortions(d, n, noise_var)
            else:
                dists = check_nonnegative(oracle_distortions, "oracle_distortions")
                dists = np.atleast_1d(dists).astype(float)
                if dists.ndim != 1 or dists.size == 0:
                    raise ValueError("oracle_distortions must be a non-empty 1-D sequence")
                d_max = d * noise_var / n
                if np.any(dists > d_max):
                    raise ValueError(
                        f"oracle_distortions must be <= d*noise_var/n = {d_max}, got "
                        f"{dists.max()}"
                    )
        betas = np.atleast_1d(check_nonnegative(betas, "betas")).astype(float)
        if any(base == "drhw" for _, base, _ in parsed) and betas.size == 0:
            raise ValueError("method 'drhw' needs at least one value in betas")
        if init not in ("linear", "kmeans++"):
            raise ValueError(f"init must be 'linear' or 'kmeans++', got {init!r}")
        max_iter = check_int(max_iter, "max_iter", low=1)
        cov = covariance_matrix(sigma_x, d)
        sigma_x_norm = float(np.linalg.norm(cov, 2))
        mi_coords = check_int(mi_coords, "mi_coords", low=0, high=d)
        if mi_coords and trials <= _KSG_K:
            raise ValueError(f"mi_coords > 0 needs trials > {_KSG_K}, got trials={trials}")
        if mi_methods is None:
            mi_methods = tuple(m for m in methods if m != "erm")
        else:
            mi_methods = (mi_methods,) if isinstance(mi_methods, str) else tuple(mi_methods)
            for m in mi_methods:
                if m not in methods or m == "erm":
                    raise ValueError(
                        f"mi_methods entries must be methods being run (not 'erm'), got {m!r}"
                    )
        chunk_size = check_int(chunk_size, "chunk_size", low=1)
        if center_bits not in _CENTER_BITS:
            raise ValueError(f"center_bits must be one of {_CENTER_BITS}, got {center_bits!r}")
        if control_points is None:
            control_points = np.empty((0, d))
        else:
            control_points = as_finite_array(control_points, "control_points", ndim=(1, 2))
            if control_points.ndim == 1:
                control_points = control_points.reshape(1, -1)
            if control_points.shape[1] != d:
                raise ValueError(f"control_points must have d = {d} columns, got shape "
                                 f"{control_points.shape}")
        return cls(w_star=w_star, n=int(n), d=d, trials=trials, grid=grid, dists=dists,
                   methods=tuple(parsed), betas=betas, init=init, max_iter=max_iter,
                   sigma_x=sigma_x, noise_var=noise_var, sigma_x_norm=sigma_x_norm,
                   mi_coords=mi_coords, mi_methods=mi_methods, center_bits=center_bits,
                   chunk_size=chunk_size, control_points=control_points)


def run_figure2(config, *, rng=None, progress=None) -> Figure2Result:
    """Run the Figure 2 pipeline on a :class:`Figure2Config`.

    Parameters
    ----------
    config : Figure2Config
    rng : None, int or numpy.random.Generator
    progress : None or bool

    Returns
    -------
    Figure2Result
        The same as :func:`figure2_experiment` with the config's arguments.
    """
    if not isinstance(config, Figure2Config):
        raise ValueError(f"config must be a Figure2Config (see Figure2Config.create), got "
                         f"{type(config).__name__}")
    return _run(config, as_generator(rng), progress)


def figure2_experiment(w_star, n, *, trials=10_000, n_clusters_grid=tuple(range(1, 17)),
                       oracle_distortions=None, methods=("erm", "oracle", "kmeans"),
                       betas=(), block=1, init="linear", max_iter=100, sigma_x=None,
                       noise_var=1.0, mi_coords=0, mi_methods=None, center_bits=None,
                       chunk_size=2000, control_points=None, rng=None,
                       progress=None) -> Figure2Result:
    r"""Monte-Carlo reproduction of Figure 2 of Bu et al. (2021), batched over trials.

    For each of ``trials`` independent training sets :math:`S` of size ``n`` drawn from
    the model (16) with weights ``w_star``, the ERM :math:`W` (18) is compressed by each
    compressor in ``methods`` at each point of its grid, and the per-trial
    generalization error, distortion (23), population risk, :math:`C(w^*)` (20) and
    level diameter are stored (see :class:`Curve`). Trials are processed in chunks of
    ``chunk_size``; every compressor handles a chunk in one batched call (the quantizers
    through :func:`infocompress.kmeans.drhw_kmeans_batch` and
    :func:`infocompress.kmeans1d.optimal_kmeans_1d_batch`).

    Parameters
    ----------
    w_star : array-like of shape (d,)
        True weights :math:`w^*`.
    n : int
        Training-set size, ``n > d + 1``.
    trials : int, default 10000
        Number of Monte-Carlo trials, >= 2.
    n_clusters_grid : sequence of int, default 1..16
        Numbers of clusters K for the quantizers, ``1 <= K <= d / m`` for every block
        length m in use, no repeats.
    oracle_distortions : sequence of float, optional
        Oracle target distortions :math:`0 \le D \le d\sigma'^2/n`; default
        :func:`default_oracle_distortions`.
    methods : sequence of str, default ("erm", "oracle", "kmeans")
        Subset of :data:`METHODS`; a quantizer may carry its own block length, as in
        ``"kmeans(m=2)"`` (vector quantization of pairs), and may appear with several.
    betas : sequence of float, default ()
        Diameter weights for ``"drhw"`` (one curve each), >= 0.
    block : int, default 1
        Block length m of the quantizers named without one (vector quantization if
        > 1; ``d`` must be divisible by it). The ``optimal*`` methods are scalar only.
    init : {"linear", "kmeans++"}, default "linear"
        Initialisation of the iterative quantizers.
    max_iter : int, default 100
        Iteration cap of the iterative quantizers.
    sigma_x : None, float, array-like of shape (d,) or (d, d), optional
        Input covariance (identity by default).
    noise_var : float, default 1.0
        :math:`\sigma'^2`.
    mi_coords : int, default 0
        Number of coordinates (the first ones) on which :math:`I(W^{(j)};\hat W^{(j)})`
        is estimated by KSG across trials (rate ``"ksg"``); 0 skips the estimate.
    mi_methods : sequence of str, optional
        Methods for which the KSG rate is estimated (default: all run, except the ERM).
    center_bits : {None, 16, 32, 64}, default None
        Round the quantization levels to this floating-point precision before
        reconstructing, so that ``"index+centres"`` is an exact description length.
    chunk_size : int, default 2000
        Trials processed per batch (memory is about ``chunk_size * d * (n + d)`` floats).
    control_points : array-like of shape (k, d) or (d,), optional
        Fixed weight vectors at which the generalization gap of every trial is also
        recorded (``Figure2Result.control_gaps``, control variates of mean 0). They draw
        no randomness, so the other results do not depend on them.
    rng : None, int or numpy.random.Generator
        Source of randomness (data, Oracle noise, k-means++ seeds).
    progress : None or bool
        Progress bar over chunks (``None``: shown unless ``INFOCOMPRESS_QUIET``/``CI``).

    Returns
    -------
    Figure2Result

    Raises
    ------
    ValueError
        For a non-finite or empty ``w_star``, ``n <= d + 1``, ``trials < 2``, unknown or
        repeated methods, an empty or out-of-range ``n_clusters_grid``, Oracle
        distortions outside :math:`[0, d\sigma'^2/n]`, negative ``betas`` (or none for
        ``"drhw"``), a block length not dividing ``d`` (or > 1 for ``optimal*``), an unknown
        ``init`` or ``center_bits``, ``mi_coords`` outside ``[0, d]``, bad
        ``chunk_size``/``max_iter``/``noise_var`` and ``control_points`` that are not
        finite vectors of length d.

    References
    ----------
    Bu et al. (2021), Section 5.3 and Figure 2 (d = 50, n = 80, :math:`\Sigma_X = I`,
    :math:`\sigma'^2 = 1`, 10,000 trials); Section 6 for the HW/DRHW quantizers.

    Examples
    --------
    >>> res = figure2_experiment(np.repeat([-1.0, 1.0], 3), 12, trials=200,
    ...                          n_clusters_grid=[1, 2], methods=("erm", "kmeans"), rng=0)
    >>> sorted(res.curves)
    ['erm', 'kmeans']
    >>> res["kmeans"].gen.shape, res["kmeans"].rates["index"].tolist()
    ((2, 200), [0.0, 6.0])
    >>> pop, se = res["kmeans"].stat("pop_risk")
    >>> bool(pop[1] < res["erm"].stat("pop_risk")[0][0])  # K = 2 beats the ERM here
    True
    """
    cfg = Figure2Config.create(
        w_star, n, trials=trials, n_clusters_grid=n_clusters_grid,
        oracle_distortions=oracle_distortions, methods=methods, betas=betas, block=block,
        init=init, max_iter=max_iter, sigma_x=sigma_x, noise_var=noise_var,
        mi_coords=mi_coords, mi_methods=mi_methods, center_bits=center_bits,
        chunk_size=chunk_size, control_points=control_points)
    return run_figure2(cfg, rng=rng, progress=progress)


def _curve_specs(methods, grid, dists, betas):
    """List of (key, method, param_name, params, beta, block, name) in a fixed order, from
    the parsed methods (name as given, method, block length)."""
    specs = []
    for name, m, blk in methods:
        if m == "erm":
            specs.append(("erm", "erm", "", np.array([np.nan]), 0.0, 1, name))
        elif m == "oracle":
            specs.append(("oracle", "oracle", "D", dists, 0.0, 1, name))
        elif m == "drhw":
            for b in betas:
                key = f"drhw(beta={b:g})" if name == m else f"drhw(beta={b:g}, m={blk})"
                specs.append((key, "drhw", "K", grid.astype(float), float(b), blk, name))
        else:
            specs.append((name, m, "K", grid.astype(float), 0.0, blk, name))
    keys = [s[0] for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"betas give repeated curve names: {keys}")
    return specs


def _quantize(method, W, Hd, K, beta, block, init, max_iter, center_bits, gen):
    """Quantize each row of W (T, d); returns (W_hat, centers (T, K, m), labels, objective)."""
    from .kmeans import _kmeanspp_init, drhw_kmeans_batch
    from .kmeans1d import optimal_kmeans_1d_batch

    T, d = W.shape
    h = None if method in ("kmeans", "optimal") else Hd
    if method in ("optimal", "optimal_hw"):
        r = optimal_kmeans_1d_batch(W, K, h=h)
        centers, labels, obj = r.centers[:, :, None], r.labels, r.objective
    elif block == 1:
        r = drhw_kmeans_batch(W, h, K, beta=beta, init=init, max_iter=max_iter, tol=1e-10,
                              rng=gen)
        centers, labels, obj = r.centers[:, :, None], r.labels, np.asarray(r.objective)
    else:
        nb = d // block
        if init == "kmeans++":  # seeds drawn trial after trial, as one drhw_kmeans per trial
            S = np.full((T, nb), float(block)) if h is None else h.reshape(T, nb, block).sum(axis=2)
            init = np.concatenate([
                _kmeanspp_init(W[t].reshape(1, nb, block), S[t][None], K, gen)
                for t in range(T)])
        r = drhw_kmeans_batch(W, h, K, beta=beta, block=block, init=init, max_iter=max_iter,
                              tol=1e-10)
        centers, labels, obj = r.centers, r.labels, np.asarray(r.objective)
    if center_bits is not None:
        centers = centers.astype(_FLOAT_OF_BITS[center_bits]).astype(float)
    idx = np.broadcast_to(labels[:, :, None], labels.shape + (centers.shape[2],))
    w_hat = np.take_along_axis(centers, idx, axis=1).reshape(T, d)
    return w_hat, centers, labels, obj


def _radius_and_diameter(centers, w_star_blocks):
    """C(w*) over the levels (T,) and squared diameter of the levels (T,).

    ``centers`` (T, K, m), ``w_star_blocks`` (d / m, m). For scalars the farthest level
    from any point is the smallest or the largest one.
    """
    if centers.shape[2] == 1:
        lo, hi = centers[:, :, 0].min(axis=1), centers[:, :, 0].max(axis=1)
        ws = w_star_blocks[:, 0]
        far = np.maximum((lo[:, None] - ws[None, :]) ** 2, (hi[:, None] - ws[None, :]) ** 2)
        return far.sum(axis=1), (hi - lo) ** 2
    dist = np.sum((centers[:, None, :, :] - w_star_blocks[None, :, None, :]) ** 2, axis=3)
    radius = dist.max(axis=2).sum(axis=1)
    pair = np.sum((centers[:, :, None, :] - centers[:, None, :, :]) ** 2, axis=3)
    diam = pair.reshape(centers.shape[0], -1).max(axis=1)
    return radius, diam


def _run(cfg, gen, progress):
    from .mi import ksg, label_entropy

    w_star, n, d, trials = cfg.w_star, cfg.n, cfg.d, cfg.trials
    sigma_x, noise_var, mi_coords = cfg.sigma_x, cfg.noise_var, cfg.mi_coords
    specs = _curve_specs(cfg.methods, cfg.grid, cfg.dists, cfg.betas)
    store = {}
    for key, _, _, params, _, _, name in specs:
        m = params.size
        store[key] = {metric: np.full((m, trials), np.nan) for metric in _METRICS}
        n_mi = mi_coords if name in cfg.mi_methods else 0
        store[key]["w_hat_coords"] = np.empty((m, trials, n_mi))
    w_coords = np.empty((trials, mi_coords))
    ls_w_all = np.empty(trials)
    true_gap = np.empty(trials)
    control = cfg.control_points
    control_gaps = np.empty((control.shape[0], trials))
    control_pop = (population_risk(control, w_star, sigma_x=sigma_x, noise_var=noise_var)
                   if control.shape[0] else np.empty(0))
    channels = (
        [OracleChannel(w_star, n, D, sigma_x=sigma_x, noise_var=noise_var) for D in cfg.dists]
        if cfg.dists is not None else []
    )
    w_star_blocks = {m: w_star.reshape(d // m, m) for _, _, m in cfg.methods}
    starts = list(range(0, trials, cfg.chunk_size))
    for a in progress_bar(starts, desc="figure 2 trials", progress=progress):
        b = min(trials, a + cfg.chunk_size)
        X, Y = sample_datasets(w_star, n, trials=b - a, sigma_x=sigma_x, noise_var=noise_var,
                               rng=gen)
        W = erm(X, Y)
        G = X @ np.swapaxes(X, 1, 2) / n
        Hd = np.ascontiguousarray(np.diagonal(G, axis1=1, axis2=2))
        ls_w = empirical_risk(W, X, Y)
        ls_w_all[a:b] = ls_w
        true_gap[a:b] = noise_var - empirical_risk(np.broadcast_to(w_star, W.shape), X, Y)
        for j, v in enumerate(control):
            control_gaps[j, a:b] = control_pop[j] - empirical_risk(np.broadcast_to(v, W.shape),
                                                                   X, Y)
        w_coords[a:b] = W[:, :mi_coords]

        def record(key, i, w_hat, *, radius, diam, obj, ls_w=ls_w, G=G, W=W, a=a, b=b):
            s = store[key]
            delta = w_hat - W
            # d_S(W, W_hat) = (W_hat - W)^T (X X^T / n) (W_hat - W), eq. (23): W is the ERM
            dist = np.sum(delta * np.matmul(G, delta[:, :, None])[:, :, 0], axis=1)
            ls_hat = ls_w + dist
            pop = population_risk(w_hat, w_star, sigma_x=sigma_x, noise_var=noise_var)
            s["distortion"][i, a:b] = dist
            s["emp_risk"][i, a:b] = ls_hat
            s["pop_risk"][i, a:b] = pop
            s["gen"][i, a:b] = pop - ls_hat
            s["c_w_star"][i, a:b] = radius
            s["diameter"][i, a:b] = diam
            s["objective"][i, a:b] = obj
            k = s["w_hat_coords"].shape[2]
            s["w_hat_coords"][i, a:b] = w_hat[:, :k]

        zeros = np.zeros(b - a)
        nans = np.full(b - a, np.nan)
        for key, method, _, params, beta, block, _ in specs:
            if method == "erm":
                record(key, 0, W, radius=np.sum((W - w_star) ** 2, axis=1), diam=zeros,
                       obj=nans)
            elif method == "oracle":
                for i, ch in enumerate(channels):
                    w_hat = ch.sample(W, rng=gen)
                    record(key, i, w_hat, radius=np.sum((w_hat - w_star) ** 2, axis=1),
                           diam=zeros, obj=nans)
            else:
                for i, K in enumerate(params.astype(int)):
                    w_hat, centers, labels, obj = _quantize(
                        method, W, Hd, int(K), beta, block, cfg.init, cfg.max_iter,
                        cfg.center_bits, gen)
                    radius, diam = _radius_and_diameter(centers, w_star_blocks[block])
                    record(key, i, w_hat, radius=radius, diam=diam, obj=obj)
                    store[key]["entropy"][i, a:b] = (d // block) * label_entropy(
                        labels, int(K), base=2)

    curves = {}
    for key, method, pname, params, beta, block, _ in specs:
        nb = d // block
        s = store[key]
        rates, rate_se = {}, {}
        if method == "oracle":
            rates["gaussian"] = np.array([ch.gaussian_mi() for ch in channels]) / math.log(2)
            rate_se["gaussian"] = np.zeros(params.size)
        elif method in _QUANTIZERS:
            rates["index"] = nb * np.log2(params)
            rate_se["index"] = np.zeros(params.size)
            rates["entropy"], rate_se["entropy"] = mean_se(s["entropy"], axis=-1)
            cb = 64 if cfg.center_bits is None else cfg.center_bits
            rates["index+centres"] = nb * np.log2(params) + cb * params * block
            rate_se["index+centres"] = np.zeros(params.size)
        if s["w_hat_coords"].shape[2]:
            est = np.array([
                [ksg(w_coords[:, j], s["w_hat_coords"][i, :, j], k=_KSG_K)
                 for j in range(mi_coords)]
                for i in range(params.size)
            ]) / math.log(2)
            rates["ksg"] = d * est.mean(axis=1)
            rate_se["ksg"] = (d * est.std(axis=1, ddof=1) / math.sqrt(mi_coords)
                              if mi_coords > 1 else np.full(params.size, np.nan))
        curves[key] = Curve(
            method=method, param_name=pname, params=params.astype(float),
            gen=s["gen"], distortion=s["distortion"], pop_risk=s["pop_risk"],
            emp_risk=s["emp_risk"], c_w_star=s["c_w_star"], diameter=s["diameter"],
            objective=s["objective"], entropy=s["entropy"], rates=rates, rate_se=rate_se,
            beta=beta,
            block=block,
        )
    return Figure2Result(w_star=w_star, n=n, d=d, trials=trials, noise_var=noise_var,
                         sigma_x_norm=cfg.sigma_x_norm, center_bits=cfg.center_bits,
                         curves=curves, erm_emp_risk=ls_w_all, true_gap=true_gap,
                         control_gaps=control_gaps if control.shape[0] else None)
