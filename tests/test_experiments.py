"""Tests of infocompress.experiments: small Monte-Carlo runs against closed forms."""

import math

import numpy as np
import pytest

from infocompress.experiments import (
    METHODS,
    Curve,
    default_oracle_distortions,
    figure2_experiment,
    group_average_matrix,
    oracle_theory,
    paired_difference,
    projection_theory,
)
from infocompress.linreg import (
    empirical_risk,
    erm,
    gen_error_bound,
    gen_error_erm,
    population_risk,
    sample_datasets,
)

N_SE = 5.0
D, N = 6, 20
W_SEP = np.array([-3.0, -3.0, -3.0, 3.0, 3.0, 3.0])  # two groups, far apart for the noise


def assert_close(name, theory, mean, se):
    assert abs(mean - theory) <= N_SE * se, f"{name}: {mean} +/- {se} vs {theory}"


@pytest.fixture(scope="module")
def run():
    """One shared run: ERM, Oracle and k-means (K = 1, 2) on a separated w*."""
    return figure2_experiment(
        W_SEP, N, trials=6000, n_clusters_grid=[1, 2], methods=("erm", "oracle", "kmeans"),
        oracle_distortions=[0.0, 0.1, 0.2, D / N], mi_coords=2, rng=12345, progress=False,
    )


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------
def test_erm_gen_error_matches_lemma3(run):
    mean, se = run["erm"].stat("gen")
    assert_close("ERM gen", gen_error_erm(D, N), mean[0], se[0])


def test_erm_population_risk(run):
    mean, se = run["erm"].stat("pop_risk")
    assert_close("ERM pop", 1.0 + D / (N - D - 1), mean[0], se[0])
    # empirical risk of the ERM: sigma^2 (n - d) / n
    ls = run.erm_emp_risk
    assert_close("ERM L_S", (N - D) / N, ls.mean(), ls.std(ddof=1) / math.sqrt(ls.size))


def test_oracle_matches_closed_forms(run):
    c = run["oracle"]
    th = oracle_theory(c.params, D, N)
    for metric in ("distortion", "gen", "pop_risk", "emp_risk"):
        mean, se = c.stat(metric)
        for i in range(c.params.size):
            if se[i] == 0:  # deterministic value (D = 0: W_hat = W; alpha = 1: W_hat = w*)
                np.testing.assert_allclose(mean[i], th[metric][i], atol=1e-12)
                continue
            assert_close(f"oracle {metric} D={c.params[i]}", th[metric][i], mean[i], se[i])


def test_oracle_alpha_one_returns_w_star(run):
    c = run["oracle"]
    i = c.index(D / N)
    np.testing.assert_allclose(c.pop_risk[i], 1.0, atol=1e-12)  # L_mu(w*) = sigma^2
    np.testing.assert_allclose(c.c_w_star[i], 0.0, atol=1e-20)
    assert c.rates["gaussian"][i] == 0.0


def test_oracle_closed_form_with_general_covariance():
    sigma_x = np.array([0.5, 1.0, 2.0, 4.0])
    w = np.array([1.0, -2.0, 0.5, 0.0])
    res = figure2_experiment(w, 15, trials=6000, methods=("oracle",),
                             oracle_distortions=[0.05, 0.15], sigma_x=sigma_x, noise_var=0.7,
                             rng=7, progress=False)
    th = oracle_theory(res["oracle"].params, 4, 15, noise_var=0.7)
    for metric in ("distortion", "gen", "pop_risk"):
        mean, se = res["oracle"].stat(metric)
        for i in range(2):
            assert_close(metric, th[metric][i], mean[i], se[i])
    assert res.sigma_x_norm == pytest.approx(4.0)


def test_kmeans_one_cluster_is_projection_onto_the_mean(run):
    c = run["kmeans"]
    th = projection_theory(np.full((D, D), 1.0 / D), W_SEP, N)
    for metric in ("gen", "pop_risk", "distortion"):
        mean, se = c.stat(metric)
        assert_close(f"K=1 {metric}", th[metric], mean[0], se[0])


def test_kmeans_one_cluster_generalization_near_constant_w_star():
    # a nearly constant w* keeps the distortion small, so the SE of gen is small too
    w = 0.5 + 0.01 * np.arange(D)
    res = figure2_experiment(w, N, trials=6000, n_clusters_grid=[1], methods=("kmeans",),
                             rng=11, progress=False)
    th = projection_theory(np.full((D, D), 1.0 / D), w, N)
    for metric in ("gen", "pop_risk", "distortion"):
        mean, se = res["kmeans"].stat(metric)
        assert_close(f"K=1 {metric}", th[metric], mean[0], se[0])


def test_kmeans_two_separated_groups_is_group_average(run):
    c = run["kmeans"]
    A = group_average_matrix(np.repeat([0, 1], 3))
    th = projection_theory(A, W_SEP, N)
    assert th["rank"] == 2
    i = c.index(2)
    for metric in ("gen", "pop_risk", "distortion"):
        mean, se = c.stat(metric)
        assert_close(f"K=2 {metric}", th[metric], mean[i], se[i])
    # balanced labels in every trial: index entropy is exactly one bit per weight
    np.testing.assert_allclose(c.entropy[i], D)
    np.testing.assert_allclose(c.rates["entropy"][i], D)
    assert c.rate_se["entropy"][i] < 1e-12


def test_projection_theory_against_direct_simulation():
    rng = np.random.default_rng(3)
    d, n = 5, 14
    w = rng.normal(size=d)
    q, _ = np.linalg.qr(rng.normal(size=(d, 2)))
    A = q @ q.T  # a generic rank-2 projection, not a k-means one
    X, Y = sample_datasets(w, n, trials=20000, rng=rng)
    w_hat = erm(X, Y) @ A
    g = population_risk(w_hat, w) - empirical_risk(w_hat, X, Y)
    th = projection_theory(A, w, n)
    assert_close("gen", th["gen"], g.mean(), g.std(ddof=1) / math.sqrt(g.size))
    p = population_risk(w_hat, w)
    assert_close("pop", th["pop_risk"], p.mean(), p.std(ddof=1) / math.sqrt(p.size))


def test_projection_theory_identity_is_lemma3():
    th = projection_theory(np.eye(7), np.arange(7.0), 20, noise_var=2.0)
    assert th["gen"] == pytest.approx(gen_error_erm(7, 20, 2.0))
    assert th["pop_risk"] == pytest.approx(2.0 * (1 + 7 / 12))
    assert th["distortion"] == pytest.approx(0.0, abs=1e-12)


def test_oracle_theory_endpoints():
    t0 = oracle_theory(0.0, 50, 80)
    assert t0["gen"] == pytest.approx(gen_error_erm(50, 80))
    assert t0["alpha"] == 0.0
    t1 = oracle_theory(50 / 80, 50, 80)
    assert t1["gen"] == 0.0 and t1["pop_risk"] == 1.0 and t1["alpha"] == 1.0
    arr = oracle_theory([0.1, 0.2], 50, 80)
    assert arr["gen"].shape == (2,)


def test_optimal_with_k_equal_d_reproduces_erm_exactly():
    rng = np.random.default_rng(0)
    w = rng.normal(size=D)
    res = figure2_experiment(w, N, trials=50, n_clusters_grid=[D],
                             methods=("erm", "optimal", "optimal_hw"), rng=1, progress=False)
    for key in ("optimal", "optimal_hw"):
        np.testing.assert_array_equal(res[key].distortion[0], 0.0)
        np.testing.assert_allclose(res[key].pop_risk[0], res["erm"].pop_risk[0], rtol=1e-14)
        np.testing.assert_allclose(res[key].gen[0], res["erm"].gen[0], rtol=1e-12)
        np.testing.assert_allclose(res[key].rates["entropy"], D * math.log2(D))


def test_vector_one_cluster_is_coordinatewise_block_mean():
    res = figure2_experiment(W_SEP, N, trials=5000, n_clusters_grid=[1, 3],
                             methods=("kmeans",), block=2, rng=5, progress=False)
    A = group_average_matrix(np.tile([0, 1], 3))
    th = projection_theory(A, W_SEP, N)
    for metric in ("gen", "pop_risk"):
        mean, se = res["kmeans"].stat(metric)
        assert_close(f"block K=1 {metric}", th[metric], mean[0], se[0])
    assert res["kmeans"].rates["index"].tolist() == [0.0, 3 * math.log2(3)]
    assert res["kmeans"].rates["index+centres"].tolist() == [128.0, 3 * math.log2(3) + 384]


# --------------------------------------------------------------------------------------
# structure, bookkeeping and bounds
# --------------------------------------------------------------------------------------
def test_shapes_and_keys(run):
    assert sorted(run.curves) == ["erm", "kmeans", "oracle"]
    km = run["kmeans"]
    assert isinstance(km, Curve) and km.trials == 6000
    for metric in ("gen", "distortion", "pop_risk", "emp_risk", "c_w_star", "diameter",
                   "objective", "entropy"):
        assert getattr(km, metric).shape == (2, 6000)
    assert np.all(np.isnan(run["oracle"].entropy)) and np.all(np.isnan(run["erm"].objective))
    assert set(km.rates) == {"index", "entropy", "index+centres", "ksg"}
    assert set(run["oracle"].rates) == {"gaussian", "ksg"}
    assert run["erm"].rates == {}
    assert km.rates["index"].tolist() == [0.0, D]
    assert km.rates["index+centres"].tolist() == [64.0, D + 128.0]
    np.testing.assert_array_equal(km.diameter[0], 0.0)
    assert np.all(km.objective >= 0)


def test_generalization_identity_per_trial(run):
    for key in run.curves:
        c = run[key]
        np.testing.assert_allclose(c.gen, c.pop_risk - c.emp_risk, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c.distortion, c.emp_risk - run.erm_emp_risk,
                                   rtol=1e-9, atol=1e-9)
        assert np.all(c.distortion >= -1e-12)


def test_radius_for_one_level_and_for_erm(run):
    # With one level the reconstruction set is a single point: C(w*) = ||W_hat - w*||^2
    km = run["kmeans"]
    np.testing.assert_allclose(km.c_w_star[0], km.pop_risk[0] - 1.0, rtol=1e-10)
    np.testing.assert_allclose(run["erm"].c_w_star[0], run["erm"].pop_risk[0] - 1.0,
                               rtol=1e-10)


def test_gen_bound_modes(run):
    km = run["kmeans"]
    b = run.gen_bound("kmeans", rate="index+centres")
    expected = gen_error_bound(km.rates["index+centres"][1] * math.log(2), N,
                               c_w_star=km.c_w_star[1].max())
    assert b[1] == pytest.approx(expected)
    assert run.gen_bound("kmeans", rate="index")[0] == 0.0  # K = 1 has zero index rate
    bm = run.gen_bound("kmeans", rate="index+centres", radius="mean")
    assert np.all(bm <= b + 1e-12)
    with pytest.raises(ValueError, match="rate"):
        run.gen_bound("kmeans", rate="gaussian")
    with pytest.raises(ValueError, match="radius"):
        run.gen_bound("kmeans", rate="index", radius="max")


def test_ksg_rate_decreases_with_oracle_distortion(run):
    c = run["oracle"]
    r = c.rates["ksg"]
    assert np.all(np.diff(r[:3]) < 0)  # D increasing -> less information
    assert c.rates["gaussian"][0] == np.inf  # D = 0 is the identity channel


def test_center_bits_rounds_levels():
    res32 = figure2_experiment(W_SEP, N, trials=20, n_clusters_grid=[2],
                               methods=("kmeans",), center_bits=32, rng=3, progress=False)
    assert res32["kmeans"].rates["index+centres"].tolist() == [D + 64.0]
    res64 = figure2_experiment(W_SEP, N, trials=20, n_clusters_grid=[2],
                               methods=("kmeans",), rng=3, progress=False)
    diff = np.abs(res32["kmeans"].pop_risk - res64["kmeans"].pop_risk).max()
    assert 0 < diff < 1e-5


def test_drhw_beta_zero_equals_hw_and_beta_shrinks_diameter():
    res = figure2_experiment(W_SEP, N, trials=300, n_clusters_grid=[2, 3],
                             methods=("hw", "drhw"), betas=(0.0, 5.0), rng=4, progress=False)
    np.testing.assert_array_equal(res["hw"].pop_risk, res["drhw(beta=0)"].pop_risk)
    assert res["drhw(beta=5)"].beta == 5.0
    assert np.all(res["drhw(beta=5)"].diameter < res["hw"].diameter)


def test_methods_with_block_lengths_share_the_training_sets():
    """"kmeans(m=2)" next to "kmeans" gives the curves of a block=1 and a block=2 run on
    the same seed, trial by trial."""
    kw = dict(trials=200, n_clusters_grid=[1, 2, 3], rng=21, progress=False)
    both = figure2_experiment(W_SEP, N, methods=("erm", "kmeans", "kmeans(m=2)", "optimal"),
                              **kw)
    assert sorted(both.curves) == ["erm", "kmeans", "kmeans(m=2)", "optimal"]
    one = figure2_experiment(W_SEP, N, methods=("erm", "kmeans", "optimal"), **kw)
    two = figure2_experiment(W_SEP, N, methods=("erm", "kmeans"), block=2, **kw)
    for key, ref in (("kmeans", one["kmeans"]), ("kmeans(m=2)", two["kmeans"]),
                     ("optimal", one["optimal"])):
        for metric in ("gen", "pop_risk", "c_w_star", "diameter", "entropy", "objective"):
            np.testing.assert_array_equal(getattr(both[key], metric), getattr(ref, metric))
        for rate, values in ref.rates.items():
            np.testing.assert_array_equal(both[key].rates[rate], values)
    assert both["kmeans(m=2)"].block == 2 and both["kmeans"].block == 1
    np.testing.assert_array_equal(both["kmeans(m=2)"].rates["index"], 3 * np.log2([1, 2, 3]))
    drhw = figure2_experiment(W_SEP, N, trials=20, n_clusters_grid=[1, 2],
                              methods=("drhw", "drhw(m=3)", "hw(m=3)"), betas=(1.0,),
                              mi_coords=1, mi_methods=("hw(m=3)",), rng=2, progress=False)
    assert sorted(drhw.curves) == ["drhw(beta=1)", "drhw(beta=1, m=3)", "hw(m=3)"]
    assert "ksg" in drhw["hw(m=3)"].rates and "ksg" not in drhw["drhw(beta=1)"].rates
    # the exact optimum is never worse than Lloyd's algorithm on the same trials
    assert np.all(both["optimal"].objective <= both["kmeans"].objective * (1 + 1e-12))


def test_radius_of_scalar_levels_equals_brute_force():
    from infocompress.figure2 import _radius_and_diameter

    rng = np.random.default_rng(3)
    centers = rng.standard_normal((20, 5, 1))
    ws = rng.standard_normal((7, 1))
    r, dm = _radius_and_diameter(centers, ws)
    brute = ((centers[:, None, :, 0] - ws[None, :, :]) ** 2).max(axis=2).sum(axis=1)
    np.testing.assert_allclose(r, brute, rtol=1e-15)
    np.testing.assert_allclose(dm, np.ptp(centers[:, :, 0], axis=1) ** 2, rtol=1e-15)


def test_vector_kmeanspp_draws_seeds_trial_after_trial():
    """With block > 1 and k-means++ the seeds come from the run's generator trial after
    trial, as one drhw_kmeans call per trial would draw them."""
    from infocompress.quantize import drhw_kmeans

    T, K = 40, 2
    res = figure2_experiment(W_SEP, N, trials=T, n_clusters_grid=[K], methods=("kmeans",),
                             block=2, init="kmeans++", rng=8, progress=False)
    gen = np.random.default_rng(8)
    X, Y = sample_datasets(W_SEP, N, trials=T, rng=gen)
    W = erm(X, Y)
    for t in range(T):
        r = drhw_kmeans(W[t], None, K, block=2, init="kmeans++", rng=gen, tol=1e-10)
        assert res["kmeans"].pop_risk[0, t] == population_risk(r.reconstruct(), W_SEP)


def test_gen_bound_with_radius_from_another_run(run):
    other = figure2_experiment(W_SEP, N, trials=500, n_clusters_grid=[1, 2],
                               methods=("kmeans",), rng=99, progress=False)
    c_sup = other["kmeans"].c_w_star.max(axis=1)
    b = run.gen_bound("kmeans", rate="index+centres", radius=c_sup)
    for i in range(2):
        assert b[i] == pytest.approx(gen_error_bound(
            run["kmeans"].rates["index+centres"][i] * math.log(2), N, c_w_star=c_sup[i]))
    with pytest.raises(ValueError, match="shape"):
        run.gen_bound("kmeans", rate="index", radius=[1.0])
    with pytest.raises(ValueError, match="radius"):
        run.gen_bound("kmeans", rate="index", radius=[1.0, -1.0])


def test_deterministic_given_seed():
    kw = dict(trials=30, n_clusters_grid=[2], methods=("oracle", "kmeans"),
              oracle_distortions=[0.1], progress=False)
    a = figure2_experiment(W_SEP, N, rng=9, **kw)
    b = figure2_experiment(W_SEP, N, rng=np.random.default_rng(9), **kw)
    for key in a.curves:
        np.testing.assert_array_equal(a[key].gen, b[key].gen)


def test_kmeanspp_init_runs_and_chunks_cover_all_trials():
    res = figure2_experiment(W_SEP, N, trials=25, n_clusters_grid=[2], methods=("kmeans",),
                             init="kmeans++", chunk_size=7, rng=2, progress=False)
    assert np.all(np.isfinite(res["kmeans"].gen))


def test_paired_difference():
    m, s = paired_difference([[1.0, 2.0, 4.0]], [[0.0, 1.0, 2.0]])
    assert m.tolist() == [4.0 / 3.0]
    assert s[0] == pytest.approx(np.std([1.0, 1.0, 2.0], ddof=1) / math.sqrt(3))
    with pytest.raises(ValueError, match="same trials"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference([1.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        paired_difference([1.0, np.nan], [1.0, 2.0])


def test_default_oracle_distortions():
    g = default_oracle_distortions(50, 80)
    assert g[0] == pytest.approx(50 / 80) and g.size == 12
    assert np.all(np.diff(g) < 0)
    assert default_oracle_distortions(50, 80, num=1).tolist() == [50 / 80]
    with pytest.raises(ValueError, match="alpha_min"):
        default_oracle_distortions(50, 80, alpha_min=2.0)
    with pytest.raises(ValueError, match="alpha_min"):
        default_oracle_distortions(50, 80, alpha_min=0.0)
    with pytest.raises(ValueError, match="num"):
        default_oracle_distortions(50, 80, num=0)
    with pytest.raises(ValueError, match="n > d"):
        default_oracle_distortions(50, 51)


# --------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(w_star=[[1.0]]), "w_star"),
        (dict(w_star=[np.nan, 1.0]), "w_star"),
        (dict(w_star=[]), "w_star"),
        (dict(n=7), "n > d"),
        (dict(trials=1), "trials"),
        (dict(methods=("erm", "pruning")), "unknown method"),
        (dict(methods=()), "methods"),
        (dict(methods=("erm", "erm")), "repeat"),
        (dict(n_clusters_grid=[]), "n_clusters_grid"),
        (dict(n_clusters_grid=[0]), "n_clusters_grid"),
        (dict(n_clusters_grid=[7]), "n_clusters_grid"),
        (dict(n_clusters_grid=[2.5]), "integers"),
        (dict(n_clusters_grid=[2, 2]), "repeat"),
        (dict(methods=("oracle",), oracle_distortions=[-0.1]), "oracle_distortions"),
        (dict(methods=("oracle",), oracle_distortions=[1.0]), "oracle_distortions"),
        (dict(methods=("oracle",), oracle_distortions=[]), "oracle_distortions"),
        (dict(methods=("drhw",)), "betas"),
        (dict(methods=("drhw",), betas=(-1.0,)), "betas"),
        (dict(block=4), "divisible"),
        (dict(block=0), "block"),
        (dict(methods=("optimal",), block=2), "scalar only"),
        (dict(methods=("optimal(m=2)",)), "scalar only"),
        (dict(methods=("kmeans(m=4)",)), "divisible"),
        (dict(methods=("kmeans(m=0)",)), "divisible"),
        (dict(methods=("erm(m=2)",)), "only the quantizers"),
        (dict(methods=("kmeans(m=2",)), "unknown method"),
        (dict(methods=("kmeans", "kmeans(m=2)"), n_clusters_grid=[4]), "n_clusters_grid"),
        (dict(methods=("drhw(m=2)",)), "betas"),
        (dict(block=(1, 2)), "block"),
        (dict(init="random"), "init"),
        (dict(max_iter=0), "max_iter"),
        (dict(noise_var=0.0), "noise_var"),
        (dict(sigma_x=[1.0, 2.0]), "sigma_x"),
        (dict(mi_coords=7), "mi_coords"),
        (dict(mi_coords=1, trials=3), "trials"),
        (dict(mi_coords=1, mi_methods=("oracle",)), "mi_methods"),
        (dict(mi_coords=1, mi_methods=("erm",)), "mi_methods"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(center_bits=8), "center_bits"),
    ],
)
def test_figure2_experiment_value_errors(kwargs, match):
    base = dict(w_star=W_SEP, n=N, trials=10, n_clusters_grid=[1, 2],
                methods=("erm", "kmeans"), rng=0, progress=False)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        figure2_experiment(base.pop("w_star"), base.pop("n"), **base)


def test_curve_and_result_errors(run):
    with pytest.raises(ValueError, match="metric"):
        run["kmeans"].stat("risk")
    with pytest.raises(ValueError, match="grid"):
        run["kmeans"].index(5)
    with pytest.raises(ValueError, match="no curve"):
        run["hw"]


def test_theory_function_errors():
    with pytest.raises(ValueError, match="D must be <="):
        oracle_theory(1.0, 50, 80)
    with pytest.raises(ValueError, match="D"):
        oracle_theory(-0.1, 50, 80)
    with pytest.raises(ValueError, match="n > d"):
        oracle_theory(0.1, 50, 51)
    with pytest.raises(ValueError, match="noise_var"):
        oracle_theory(0.1, 50, 80, noise_var=-1.0)
    with pytest.raises(ValueError, match="shape"):
        projection_theory(np.eye(3), np.zeros(4), 20)
    with pytest.raises(ValueError, match="symmetric"):
        projection_theory(np.triu(np.ones((3, 3))), np.zeros(3), 20)
    with pytest.raises(ValueError, match="idempotent"):
        projection_theory(2 * np.eye(3), np.zeros(3), 20)
    with pytest.raises(ValueError, match="A must"):
        projection_theory(np.full((3, 3), np.inf), np.zeros(3), 20)
    with pytest.raises(ValueError, match="n > d"):
        projection_theory(np.eye(3), np.zeros(3), 4)
    with pytest.raises(ValueError, match="groups"):
        group_average_matrix([])
    with pytest.raises(ValueError, match="integers"):
        group_average_matrix([0.5, 1.0])


def test_methods_constant():
    assert METHODS == ("erm", "oracle", "kmeans", "hw", "drhw", "optimal", "optimal_hw")


def test_oracle_theory_agrees_with_the_independent_derivation_in_learners():
    from infocompress.learners import oracle_gen_error, oracle_population_risk

    D = np.linspace(0.0, 50 / 80, 7)
    th = oracle_theory(D, 50, 80, noise_var=1.3)
    np.testing.assert_allclose(th["gen"], oracle_gen_error(50, 80, D, 1.3), rtol=1e-12)
    np.testing.assert_allclose(th["pop_risk"], oracle_population_risk(50, 80, D, 1.3),
                               rtol=1e-12)


def test_true_gap_is_a_control_variate_with_mean_zero():
    # sigma'^2 - L_S(w*) has mean exactly 0; k-means with K = 2 finds the two groups of w*,
    # so its gap shares the empirical-risk noise of w* and subtracting it halves the SD,
    # while the mean still matches the projection lemma (p = 2)
    w = np.repeat([-1.0, 1.0], 5)
    res = figure2_experiment(w, 40, trials=2000, methods=("kmeans",), n_clusters_grid=[2],
                             rng=7)
    g0 = res.true_gap
    assert abs(g0.mean()) < 5 * g0.std(ddof=1) / np.sqrt(g0.size)
    gen = res.curves["kmeans"].gen[0]
    cv = gen - g0
    groups = np.kron(np.eye(2), np.full((5, 5), 1 / 5))
    theory = projection_theory(groups, w, 40)["gen"]
    assert abs(cv.mean() - theory) < 5 * cv.std(ddof=1) / np.sqrt(cv.size)
    assert cv.std() < 0.6 * gen.std()


def test_control_points_give_gaps_of_mean_zero_that_track_the_compressor():
    # two well-separated groups with jitter: the projection A w* of the truth is closer to
    # what K = 2 outputs than w* is, so its gap (mean 0) removes more variance than true_gap
    rng = np.random.default_rng(11)
    w = np.repeat([-2.0, 2.0], 5) + 0.2 * rng.standard_normal(10)
    groups = np.kron(np.eye(2), np.full((5, 5), 1 / 5))
    res = figure2_experiment(w, 40, trials=2000, methods=("kmeans",), n_clusters_grid=[2],
                             control_points=groups @ w, rng=7)
    plain = figure2_experiment(w, 40, trials=2000, methods=("kmeans",), n_clusters_grid=[2],
                               rng=7)
    np.testing.assert_array_equal(res["kmeans"].gen, plain["kmeans"].gen)  # no extra draws
    assert plain.control_gaps is None and res.control_gaps.shape == (1, 2000)
    c = res.control_gaps[0]
    assert abs(c.mean()) < 5 * c.std(ddof=1) / np.sqrt(c.size)
    gen = res["kmeans"].gen[0]
    theory = projection_theory(groups, w, 40)["gen"]
    cv = gen - c
    assert abs(cv.mean() - theory) < 5 * cv.std(ddof=1) / np.sqrt(cv.size)
    assert cv.std() < 0.8 * (gen - res.true_gap).std()


@pytest.mark.parametrize("points", [np.ones(3), np.ones((2, 9)), [[np.nan] * 10]])
def test_control_points_must_be_finite_vectors_of_length_d(points):
    with pytest.raises(ValueError, match="control_points"):
        figure2_experiment(np.ones(10), 40, trials=10, methods=("erm",),
                           control_points=points, rng=0)
