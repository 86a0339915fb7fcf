"""Speed of the practice part: training, Hessian diagonals, whole ensembles.

Four measurements, each on this machine in one run (one torch thread unless stated; the
portable-numerics settings of the Makefile apply if they are in the environment):

1. *How to batch the training of many networks.* One SGD step (batch of 10, the authors'
   recipe) of the 784-256-256-10 MLP and of the LeNet-like convnet, per model: a plain loop
   with ``torch.optim.SGD`` (what ``nets.train`` does) against one step of M models stacked
   and vectorised with ``torch.func.vmap`` (the former ``nets.train_ensemble``), M = 50.
2. *Seconds per network trained* by the recipe (2,000 images, 25 epochs), MLP and convnet.
3. *Hessian diagonal of one network* on its 2,000 training images: the closed form of
   ``infocompress.curvature`` against per-sample Jacobians (the former implementation,
   timed on 100 images and scaled linearly to 2,000, since it is linear in the samples).
4. *Whole ensembles* (50 networks, ``n_jobs=2``) and their Hessians, from a cold cache (a
   temporary cache folder), wall-clock.

Writes ``results/nets_speed.json``. ``--quick`` shrinks everything to test the script.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from benchmarks import _common


def _step_loop(recipe, x, y, n_steps):
    from infocompress import nets

    torch.set_num_threads(1)
    model = recipe.make_model(rng=0)
    nets.train(model, x[:30], y[:30], epochs=1, batch_size=10, lr=0.01, optimizer="sgd",
               rng=0)  # warm-up: first calls allocate and dispatch
    t0 = time.perf_counter()
    c0 = time.process_time()
    nets.train(model, x[: 10 * n_steps], y[: 10 * n_steps], epochs=1, batch_size=10,
               lr=0.01, momentum=0.9, weight_decay=1e-4, optimizer="sgd", rng=0)
    return (time.perf_counter() - t0) / n_steps, (time.process_time() - c0) / n_steps


def _step_vmap(recipe, x, y, n_models, n_steps):
    """One vectorised SGD step (momentum, weight decay) of n_models stacked networks."""
    torch.set_num_threads(1)
    models = [recipe.make_model(rng=s) for s in range(n_models)]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().clone() for k, v in params.items()}
    template = recipe.make_model(rng=0).to("meta")
    buf_one = {k: v[0] for k, v in buffers.items()}

    def loss_fn(p, xb, yb):
        return nn.functional.cross_entropy(functional_call(template, (p, buf_one), (xb,)), yb)

    step = vmap(grad(loss_fn), in_dims=(0, 0, 0), randomness="different")
    mom = {k: torch.zeros_like(v) for k, v in params.items()}
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def one():
        rows = torch.randint(0, xt.shape[0], (n_models, 10), generator=gen)
        g = step(params, xt[rows], yt[rows])
        with torch.no_grad():
            for k, p in params.items():
                d = g[k] + 1e-4 * p
                mom[k].mul_(0.9).add_(d)
                p.add_(mom[k], alpha=-0.01)

    one()  # warm-up
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(n_steps):
        one()
    return ((time.perf_counter() - t0) / (n_steps * n_models),
            (time.process_time() - c0) / (n_steps * n_models))


def run(quick=False):
    from infocompress import curvature, ensembles, nets

    torch.set_num_threads(1)
    (xp, yp), _ = ensembles.load_split("mnist", 0.6, rng=0)
    xp = np.ascontiguousarray(xp)
    out = {"benchmark": "nets_speed", "machine": _common.machine_info(),
           "portable_numerics": {k: os.environ.get(k) for k in ("ATEN_CPU_CAPABILITY",
                                                                 "MKL_CBWR")},
           "training_step": {}, "training_model": {}, "hessian": {}, "ensembles": {}}
    recipes = {"mlp": ensembles.AUTHORS_MLP, "convnet": ensembles.AUTHORS_CONVNET}
    n_steps = 20 if quick else 200
    n_models = 4 if quick else 50
    for name, recipe in recipes.items():
        loop = _step_loop(recipe, xp, yp, n_steps)
        vm = _step_vmap(recipe, xp, yp, n_models, max(2, n_steps // 20))
        out["training_step"][name] = {
            "loop_wall_us": 1e6 * loop[0], "loop_cpu_us": 1e6 * loop[1],
            "vmap_wall_us_per_model": 1e6 * vm[0], "vmap_cpu_us_per_model": 1e6 * vm[1],
            "vmap_models": n_models, "vmap_over_loop": vm[0] / loop[0]}
        _common.log(f"{name}: step {1e6 * loop[0]:.0f} us (loop) vs "
                    f"{1e6 * vm[0]:.0f} us per model (vmap over {n_models})")
        n_img, epochs = (200, 1) if quick else (2000, 25)
        model = recipe.make_model(rng=1)
        t0 = time.perf_counter()
        nets.train(model, xp[:n_img], yp[:n_img], epochs=epochs, batch_size=10, lr=0.01,
                   momentum=0.9, weight_decay=1e-4, optimizer="sgd", rng=1)
        out["training_model"][name] = {"seconds": time.perf_counter() - t0, "images": n_img,
                                       "epochs": epochs}
        _common.log(f"{name}: one network trained in {time.perf_counter() - t0:.1f} s")
        n_h = 200 if quick else 2000
        t0 = time.perf_counter()
        nets.hessian_diagonal(model, xp[:n_h], yp[:n_h])
        closed = time.perf_counter() - t0
        n_ps = 20 if quick else 100
        params = {k: v.detach() for k, v in model.named_parameters()}
        xt = torch.from_numpy(xp[:n_ps])
        yt = torch.from_numpy(yp[:n_ps])
        model.eval()
        t0 = time.perf_counter()
        curvature._hess_diag_per_sample(model, params, {}, xt, yt, "gauss_newton", 10, None)
        per_sample = (time.perf_counter() - t0) * n_h / n_ps
        out["hessian"][name] = {"closed_form_seconds": closed, "images": n_h,
                                "per_sample_seconds_scaled": per_sample,
                                "per_sample_images_timed": n_ps,
                                "speed_up": per_sample / closed}
        _common.log(f"{name}: Hessian diagonal {closed:.2f} s closed form vs "
                    f"{per_sample:.0f} s per-sample (scaled from {n_ps} images)")
    old = os.environ.get("INFOCOMPRESS_CACHE")
    with tempfile.TemporaryDirectory() as cold:
        os.environ["INFOCOMPRESS_CACHE"] = cold
        try:
            for name, recipe in recipes.items():
                kw = dict(n_models=4, subset_size=200) if quick else {}
                t0 = time.perf_counter()
                ens = ensembles.load_ensemble(recipe, rng=np.random.default_rng(20210813),
                                              n_jobs=2, progress=False, **kw)
                t_ens = time.perf_counter() - t0
                t0 = time.perf_counter()
                ens.hessians("gauss_newton_squared", n_jobs=2, progress=False)
                t_h = time.perf_counter() - t0
                out["ensembles"][name] = {"n_models": ens.n_models, "n_jobs": 2,
                                          "train_wall_seconds": t_ens,
                                          "per_model_seconds_in_worker":
                                              float(np.mean(ens.seconds)),
                                          "hessians_wall_seconds": t_h}
                _common.log(f"{name}: ensemble of {ens.n_models} in {t_ens:.0f} s, "
                            f"Hessians {t_h:.0f} s")
        finally:
            if old is None:
                os.environ.pop("INFOCOMPRESS_CACHE", None)
            else:
                os.environ["INFOCOMPRESS_CACHE"] = old
    _common.write_json("nets_speed", out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    run(quick=args.quick)


if __name__ == "__main__":
    main()
