"""infocompress: the library behind the book *Information theory of model compression*.

The package reproduces and checks, by Monte-Carlo, the results of

* Bu, Gao, Zou and Veeravalli (2021), *Population risk improvement with model
  compression: an information-theoretic approach* (:mod:`infocompress.linreg`,
  :mod:`infocompress.channels`, :mod:`infocompress.quantize`, :mod:`infocompress.coding`);
* Gao, Liu, Wang and Oh (2019), *Rate distortion for model compression*;
* Carreira-Perpiñán (2017), *Model compression as constrained optimization*.

Submodules are imported on demand (``from infocompress import linreg``), so that
``import infocompress`` stays light and never imports torch. Every rate and mutual
information is in nats unless a function says otherwise.
"""

__version__ = "0.1.0"

__all__ = [
    "channels",
    "checks",
    "coding",
    "data",
    "experiments",
    "lc",
    "learners",
    "linreg",
    "mi",
    "nets",
    "plotting",
    "progress",
    "quantize",
    "ratedistortion",
    "waterfilling",
]
