"""Readers who outgrow one machine: the ensembles run on a Dask cluster through joblib.

``nets.train_ensemble``, ``nets.compression_sweep`` and friends hand their per-model tasks
to :class:`joblib.Parallel`; ``joblib.parallel_config(backend="dask")`` sends them to a Dask
cluster instead of local processes. Here a local cluster of two worker processes must give
bit for bit the networks and numbers of a plain run in this process.
"""

import functools
import time

import joblib
import numpy as np
import pytest
import torch

from infocompress import nets

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_backend_gives_the_same_ensemble(client):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, size=60)
    mk = functools.partial(nets.make_mlp, (16,), dropout=0.2, init="xavier_normal")
    kw = dict(subset_size=30, epochs=2, batch_size=6, lr=0.05, optimizer="sgd", momentum=0.9,
              weight_decay=1e-4, rng=1, progress=False)
    t0 = time.perf_counter()
    with distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask"):
        on_dask, subsets_dask = nets.train_ensemble(mk, 4, x, y, n_jobs=-1, **kw)
        swept = nets.compression_sweep(on_dask, [2, 4], {"all": (x, y)}, n_jobs=-1,
                                       init="quantile", max_iter=5, progress=False)
    assert time.perf_counter() - t0 < 120
    local, subsets_local = nets.train_ensemble(mk, 4, x, y, n_jobs=1, **kw)
    np.testing.assert_array_equal(subsets_dask, subsets_local)
    for a, b in zip(on_dask, local, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(),
                                                        strict=True))
    ref = nets.compression_sweep(local, [2, 4], {"all": (x, y)}, n_jobs=1, init="quantile",
                                 max_iter=5, progress=False)
    np.testing.assert_array_equal(swept["loss"]["all"], ref["loss"]["all"])
    # the tasks did run on the cluster's workers: 4 trainings and 4 sweeps at least
    assert len(stream.data) >= 8
    assert len({t["worker"] for t in stream.data}) >= 1
