"""Monte-Carlo agreement checks with tolerances derived from standard errors.

Every numerical claim in the book is checked through a :class:`CheckTable`: each row
holds a theory value, a Monte-Carlo estimate and its standard error (SE), and passes when
the estimate lies within ``n_se`` standard errors of the theory (two-sided) or on the
right side of a bound (one-sided). The default ``n_se = 5`` gives a false-alarm
probability of about 5.7e-7 per two-sided check for a Gaussian estimate.

How the SE was obtained decides what a row's false-alarm probability is, so every row can
declare it (``se_kind``):

``"mc"``
    SE of a mean over ``n_draws`` i.i.d. Monte-Carlo draws (the default). With ``n_draws``
    given, the false-alarm probability uses Student's t with ``n_draws - 1`` degrees of
    freedom (it matters below about 30 draws and at 5 SE still above); without it, the
    Gaussian.
``"paired"``
    SE of a mean of paired differences over ``n_draws`` units (models, seeds, training
    sets); ``n_draws`` is required and Student's t is used as for ``"mc"``.
``"max_of"``
    the row is the worst (largest or smallest) of ``n_draws`` checks, each at ``n_se``;
    its false-alarm probability is the Bonferroni bound ``n_draws * p`` (capped at 1).
    :func:`n_se_for_max` gives the tolerance at which such a row has the false-alarm
    probability of a single check.
``"exact"``
    a deterministic comparison, SE 0: the false-alarm probability is 0.
``"numerical"``
    a deterministic computation compared within a certified numerical error bound, passed
    as ``se`` (use ``n_se=1``): the false-alarm probability is 0.

A row whose theory value had to be computed from the very sample it is compared with is
flagged by its author with ``same_sample="<reason>"``; the printed table marks it and the
book's audit appendix lists it.

Tables in which no row declares anything print in the original layout (read by the book as
``"mc"`` with an unstated number of draws); as soon as one row declares an SE kind, the table
prints an ``SE kind`` and a ``P(false)`` column. :meth:`CheckTable.to_dict` gives the same
content as plain data; in a Jupyter kernel a verified table also publishes it as a hidden
output (:meth:`CheckTable.record`, :mod:`infocompress.records`), which the book's status
pages read.

Examples
--------
>>> t = CheckTable("toy")
>>> t.close("mean", theory=0.0, estimate=0.01, se=0.01)
True
>>> t.upper("bound", bound=1.0, estimate=0.5, se=0.1)
True
>>> t.all_passed
True
>>> print(t.verify().to_text().splitlines()[-1])
verified: 2 of 2 checks pass
>>> t.close("worst of 400 coordinates", 1.0, 1.03, 0.01, se_kind="max_of", n_draws=400,
...         n_se=n_se_for_max(400))
True
>>> print(t.to_text().splitlines()[1].split()[-3:])
['kind', 'P(false)', 'result']
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field

from ._validation import Instance, Integer, OneOf, Options, Real, validate_params

__all__ = [
    "PERTURB_ENV",
    "PERTURB_JSON_ENV",
    "SE_KINDS",
    "Check",
    "CheckTable",
    "false_alarm_of",
    "false_alarm_probability",
    "n_se_for_max",
    "perturbations_from_env",
]

SE_KINDS = ("mc", "paired", "max_of", "exact", "numerical")
PERTURB_ENV = "INFOCOMPRESS_PERTURB_THEORY"
PERTURB_JSON_ENV = "INFOCOMPRESS_PERTURB_JSON"
_REL = {"close": "≈", "upper": "≤", "lower": "≥"}


@validate_params(n_se=Real(low=0, low_open=True, allow_inf=True),
                 df=Options(None, Real(low=1)), n_tests=Integer(low=1))
def false_alarm_probability(n_se: float, *, two_sided: bool = True, df=None,
                            n_tests: int = 1) -> float:
    """Probability that an estimate falls more than ``n_se`` SE from its mean by chance.

    Parameters
    ----------
    n_se : float
        Tolerance in standard errors, > 0.
    two_sided : bool, default True
        Two-sided (``|z| > n_se``) or one-sided (``z > n_se``).
    df : int, optional
        Degrees of freedom of a Student t statistic (an SE estimated from ``df + 1``
        draws); ``None`` for the Gaussian.
    n_tests : int, default 1
        Number of such statistics of which the worst is checked: the Bonferroni bound
        ``n_tests * p``, capped at 1.

    Returns
    -------
    float

    Examples
    --------
    >>> round(false_alarm_probability(5.0), 9)
    5.73e-07
    >>> f"{false_alarm_probability(5.0, two_sided=False, df=49):.1e}"
    '3.9e-06'
    >>> f"{false_alarm_probability(5.0, n_tests=4000):.2e}"
    '2.29e-03'
    """
    if not n_se > 0:
        raise ValueError(f"n_se must be > 0, got {n_se}")
    if isinstance(n_tests, bool) or not isinstance(n_tests, int) or n_tests < 1:
        raise ValueError(f"n_tests must be an integer >= 1, got {n_tests!r}")
    if df is None:
        p = 0.5 * math.erfc(n_se / math.sqrt(2.0))
    else:
        if not (df >= 1 and math.isfinite(df)):
            raise ValueError(f"df must be finite and >= 1, got {df}")
        from scipy.special import stdtr

        p = float(stdtr(df, -n_se))
    p = 2.0 * p if two_sided else p
    return min(1.0, n_tests * p)


@validate_params(n_draws=Integer(low=1), n_se=Real(low=0, low_open=True, allow_inf=True))
def n_se_for_max(n_draws: int, *, n_se: float = 5.0, two_sided: bool = True) -> float:
    """Tolerance at which the worst of ``n_draws`` Gaussian checks has the false-alarm
    probability of a single check at ``n_se`` (Bonferroni).

    Parameters
    ----------
    n_draws : int
        Number of checks of which the worst is reported, >= 1.
    n_se : float, default 5.0
        Tolerance of the single check whose false-alarm probability is to be kept.
    two_sided : bool, default True

    Returns
    -------
    float
        ``k`` with ``n_draws * P(|Z| > k) = P(|Z| > n_se)`` (one-sided likewise).

    Examples
    --------
    >>> round(n_se_for_max(1), 6)
    5.0
    >>> round(n_se_for_max(4000), 2)
    6.41
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    from scipy.special import ndtri

    p = false_alarm_probability(n_se, two_sided=two_sided) / n_draws
    return float(-ndtri(p / 2.0 if two_sided else p))


@validate_params(kind=OneOf("close", "upper", "lower"),
                 n_se=Real(low=0, low_open=True, allow_inf=True),
                 n_draws=Options(None, Integer(low=1)))
def false_alarm_of(kind: str, n_se: float, *, se_kind: str = "mc", n_draws=None) -> float:
    """False-alarm probability of one row from how its SE was obtained.

    Parameters
    ----------
    kind : {"close", "upper", "lower"}
        Two-sided or one-sided row.
    n_se : float
        Tolerance in standard errors.
    se_kind : {"mc", "paired", "max_of", "exact", "numerical"}, default "mc"
        See the module notes.
    n_draws : int, optional
        Number of draws (``"mc"``, ``"paired"``) or of checks (``"max_of"``).

    Returns
    -------
    float
        0 for deterministic rows; Gaussian or Student t (``n_draws - 1`` degrees of
        freedom) tails for ``"mc"`` and ``"paired"``; ``n_draws`` times the Gaussian tail
        (capped at 1) for ``"max_of"``.

    Examples
    --------
    >>> false_alarm_of("upper", 5.0, se_kind="exact")
    0.0
    >>> f"{false_alarm_of('close', 5.0, se_kind='paired', n_draws=10):.1e}"
    '7.4e-04'
    """
    _check_kind(kind)
    _check_se_kind(se_kind, n_draws)
    two = kind == "close"
    if se_kind in ("exact", "numerical"):
        return 0.0
    if se_kind == "max_of":
        return false_alarm_probability(n_se, two_sided=two, n_tests=int(n_draws))
    df = None if n_draws is None else int(n_draws) - 1
    return false_alarm_probability(n_se, two_sided=two, df=df)


def perturbations_from_env(value=None) -> tuple[float, ...]:
    """Relative perturbations of the theory values named by ``INFOCOMPRESS_PERTURB_THEORY``.

    Parameters
    ----------
    value : str, optional
        Text to parse instead of the environment variable.

    Returns
    -------
    tuple of float
        The comma-separated numbers of the variable (e.g. ``"+0.1,-0.1"``), each > -1;
        ``()`` when it is unset or empty (no perturbation audit).

    Examples
    --------
    >>> perturbations_from_env("+0.1,-0.1")
    (0.1, -0.1)
    """
    if value is not None and not isinstance(value, str):
        raise ValueError(f"value must be a string such as '+0.1,-0.1', got {value!r}")
    where = PERTURB_ENV if value is None else f"value (for {PERTURB_ENV})"
    raw = (os.environ.get(PERTURB_ENV, "") if value is None else value).strip()
    if not raw:
        return ()
    try:
        eps = tuple(float(x) for x in raw.split(","))
    except ValueError:
        raise ValueError(f"{where} must be comma-separated numbers, got {raw!r}") from None
    if not all(math.isfinite(e) and e > -1 for e in eps):
        raise ValueError(f"{where} values must be finite and > -1, got {raw!r}")
    return eps


def _check_kind(kind):
    if kind not in _REL:
        raise ValueError(f"kind must be one of {tuple(_REL)}, got {kind!r}")


def _check_se_kind(se_kind, n_draws):
    if se_kind not in SE_KINDS:
        raise ValueError(f"se_kind must be one of {SE_KINDS}, got {se_kind!r}")
    if n_draws is not None and (isinstance(n_draws, bool) or int(n_draws) != n_draws
                                or n_draws < 2):
        raise ValueError(f"n_draws must be an integer >= 2, got {n_draws!r}")
    if se_kind in ("paired", "max_of") and n_draws is None:
        raise ValueError(f"se_kind={se_kind!r} needs n_draws (the number of "
                         f"{'units paired' if se_kind == 'paired' else 'checks'})")


@dataclass
class Check:
    """One row of a :class:`CheckTable`.

    Attributes
    ----------
    name : str
        What is checked.
    kind : {"close", "upper", "lower"}
        Two-sided agreement, estimate below a bound, or estimate above a bound.
    theory : float
        Theory value or bound.
    estimate : float
        Monte-Carlo estimate.
    se : float
        Standard error of the estimate.
    n_se : float
        Tolerance in standard errors.
    passed : bool
        Outcome.
    se_kind : {"mc", "paired", "max_of", "exact", "numerical"}, default "mc"
        How the SE was obtained (see the module notes).
    n_draws : int or None
        Number of draws behind the SE, or of checks for ``"max_of"``.
    same_sample : str or None
        Why the theory value was computed from the sample it is compared with (None: it
        was not).
    declared : bool
        Whether the author declared ``se_kind``, ``n_draws`` or ``same_sample``.
    """

    name: str
    kind: str
    theory: float
    estimate: float
    se: float
    n_se: float
    passed: bool
    se_kind: str = "mc"
    n_draws: int | None = None
    same_sample: str | None = None
    declared: bool = False

    def __post_init__(self):
        for name, constraint in (("theory", Real(allow_inf=True)),
                                 ("estimate", Real(allow_inf=True)), ("se", Real(low=0)),
                                 ("n_se", Real(low=0, low_open=True, allow_inf=True))):
            constraint.check(getattr(self, name), name)

    @property
    def z(self) -> float:
        """Signed distance from theory in standard errors (``inf`` if ``se == 0``)."""
        diff = self.estimate - self.theory
        if self.se == 0:
            return 0.0 if diff == 0 else math.copysign(math.inf, diff)
        return diff / self.se

    @property
    def false_alarm(self) -> float:
        """False-alarm probability of the row (:func:`false_alarm_of`)."""
        return false_alarm_of(self.kind, self.n_se, se_kind=self.se_kind,
                              n_draws=self.n_draws)

    @property
    def se_label(self) -> str:
        """Short label of the SE kind as printed: ``mc``, ``mc(20)``, ``paired(50)``,
        ``max_of(4000)``, ``exact``, ``numerical``; ``*`` marks a same-sample theory."""
        label = self.se_kind if self.n_draws is None else f"{self.se_kind}({self.n_draws})"
        return label + ("*" if self.same_sample else "")

    def passes_with(self, theory: float) -> bool:
        """Outcome of this row had its theory value (or bound) been ``theory``."""
        tol = self.n_se * self.se
        if self.kind == "close":
            return bool(abs(self.estimate - theory) <= tol)
        if self.kind == "upper":
            return bool(self.estimate <= theory + tol)
        return bool(self.estimate >= theory - tol)

    def detection_thresholds(self) -> tuple[float | None, float | None]:
        """Smallest relative error of the theory value that this row detects.

        Returns
        -------
        up, down : float or None
            The smallest ``eps >= 0`` such that the row fails with the theory value
            multiplied by ``1 + eps`` (``up``) or by ``1 - eps`` (``down``); ``None``
            when no error in that direction can make it fail (the theory value is 0, a
            bound is loosened, or the estimate is NaN). A row that fails already has
            thresholds 0.

        Examples
        --------
        >>> t = CheckTable("x")
        >>> _ = t.close("c", 2.0, 2.1, 0.1)            # tolerance 0.5 around 2
        >>> [round(v, 3) for v in t.rows[0].detection_thresholds()]
        [0.3, 0.2]
        >>> _ = t.upper("u", 2.0, 1.0, 0.1)            # only a lower bound can be detected
        >>> t.rows[1].detection_thresholds()
        (None, 0.75)
        """
        th, est = self.theory, self.estimate
        if th == 0 or not math.isfinite(est) or not math.isfinite(th):
            return None, None
        if not self.passed:
            return 0.0, 0.0
        delta, tol = est - th, self.n_se * self.se
        # raising the theory value moves it up if th > 0 (detected by close and lower rows)
        # and down if th < 0 (close and upper rows); lowering it, the reverse
        up_rows, down_rows = (("close", "lower"), ("close", "upper"))
        if th < 0:
            up_rows, down_rows = down_rows, up_rows
        up = (delta + tol) / th if th > 0 else (delta - tol) / th
        down = (tol - delta) / th if th > 0 else (delta + tol) / -th
        return (max(up, 0.0) if self.kind in up_rows else None,
                max(down, 0.0) if self.kind in down_rows else None)

    def to_dict(self) -> dict:
        """The row as plain data (floats, strings, None), with its false-alarm probability."""
        return {"name": self.name, "kind": self.kind, "theory": self.theory,
                "estimate": self.estimate, "se": self.se, "n_se": self.n_se,
                "passed": self.passed, "se_kind": self.se_kind, "n_draws": self.n_draws,
                "same_sample": self.same_sample, "false_alarm": self.false_alarm}


@dataclass
class CheckTable:
    """A titled collection of theory-versus-measurement checks.

    Parameters
    ----------
    title : str
        Heading printed above the table.
    n_se : float, default 5.0
        Default tolerance in standard errors for every row.
    se_kind : str, optional
        Default SE kind of the rows (keyword only; see the module notes). Giving it counts
        as a declaration for every row.
    n_draws : int, optional
        Default number of draws of the rows (keyword only).

    Examples
    --------
    >>> t = CheckTable("paired over 10 models", se_kind="paired", n_draws=10)
    >>> t.upper("loss(compressed) - loss(base) <= 0.01", 0.01, 0.004, 0.002)
    True
    >>> f"{t.rows[0].false_alarm:.1e}"
    '3.7e-04'
    """

    title: str
    n_se: float = 5.0
    rows: list[Check] = field(default_factory=list)
    se_kind: str | None = field(default=None, kw_only=True)
    n_draws: int | None = field(default=None, kw_only=True)
    verified: bool = field(default=False, init=False)
    _recorded: int = field(default=0, init=False, repr=False)
    _published: int = field(default=0, init=False, repr=False)

    def __post_init__(self):
        Instance(str, description="a string").check(self.title, "title")
        Real(low=0, low_open=True).check(self.n_se, "n_se")
        Options(None, Integer(low=1)).check(self.n_draws, "n_draws")
        if self.se_kind is not None:
            _check_se_kind(self.se_kind, self.n_draws)
        elif self.n_draws is not None:
            _check_se_kind("mc", self.n_draws)

    def _resolve(self, se, n_se, se_kind, n_draws, same_sample):
        """Validate one row's SE and declarations; return (se_kind, n_draws, declared)."""
        if not (se >= 0 and math.isfinite(se)):
            raise ValueError(f"se must be finite and >= 0, got {se}")
        if n_se is not None and not n_se > 0:
            raise ValueError(f"n_se must be > 0, got {n_se}")
        declared = any(v is not None for v in (se_kind, n_draws, same_sample,
                                                self.se_kind, self.n_draws))
        if se_kind is None:
            se_kind = self.se_kind or "mc"
            n_draws = self.n_draws if n_draws is None else n_draws
        _check_se_kind(se_kind, n_draws)
        if se_kind == "exact" and se != 0:
            raise ValueError(f"se must be 0 for se_kind='exact', got {se}; use "
                             "se_kind='numerical' for a certified numerical error bound")
        if same_sample is not None and not (isinstance(same_sample, str)
                                            and same_sample.strip()):
            raise ValueError(f"same_sample must be None or a non-empty reason, got "
                             f"{same_sample!r}")
        return se_kind, None if n_draws is None else int(n_draws), declared

    def _add(self, name, kind, theory, estimate, se, n_se, se_kind, n_draws,
             same_sample) -> bool:
        se_kind, n_draws, declared = self._resolve(se, n_se, se_kind, n_draws, same_sample)
        n_se = self.n_se if n_se is None else n_se
        tol = n_se * se
        passed = {"close": abs(estimate - theory) <= tol, "upper": estimate <= theory + tol,
                  "lower": estimate >= theory - tol}[kind]
        self.verified = False  # a row added after verify() is not verified
        self.rows.append(
            Check(str(name), kind, float(theory), float(estimate), float(se), float(n_se),
                  bool(passed), se_kind, n_draws, same_sample, declared)
        )
        return bool(passed)

    @validate_params(name=Instance(str, description="a string"), theory=Real(allow_inf=True),
                     estimate=Real(allow_inf=True), se=Real(low=0),
                     n_se=Options(None, Real(low=0, low_open=True, allow_inf=True)),
                     n_draws=Options(None, Integer(low=1)),
                     same_sample=Options(None, Instance(str, description="a string")))
    def close(self, name, theory, estimate, se, *, n_se=None, se_kind=None, n_draws=None,
              same_sample=None) -> bool:
        """Two-sided check ``|estimate - theory| <= n_se * se``; returns the outcome.

        ``se_kind``, ``n_draws`` and ``same_sample`` declare how the SE was obtained and
        whether the theory value comes from the same sample (module notes); they do not
        change the outcome, only the false-alarm probability the audit reports.
        """
        return self._add(name, "close", theory, estimate, se, n_se, se_kind, n_draws,
                         same_sample)

    @validate_params(name=Instance(str, description="a string"), bound=Real(allow_inf=True),
                     estimate=Real(allow_inf=True), se=Real(low=0),
                     n_se=Options(None, Real(low=0, low_open=True, allow_inf=True)),
                     n_draws=Options(None, Integer(low=1)),
                     same_sample=Options(None, Instance(str, description="a string")))
    def upper(self, name, bound, estimate, se, *, n_se=None, se_kind=None, n_draws=None,
              same_sample=None) -> bool:
        """One-sided check that ``estimate <= bound + n_se * se`` (keywords as in
        :meth:`close`)."""
        return self._add(name, "upper", bound, estimate, se, n_se, se_kind, n_draws,
                         same_sample)

    @validate_params(name=Instance(str, description="a string"), bound=Real(allow_inf=True),
                     estimate=Real(allow_inf=True), se=Real(low=0),
                     n_se=Options(None, Real(low=0, low_open=True, allow_inf=True)),
                     n_draws=Options(None, Integer(low=1)),
                     same_sample=Options(None, Instance(str, description="a string")))
    def lower(self, name, bound, estimate, se, *, n_se=None, se_kind=None, n_draws=None,
              same_sample=None) -> bool:
        """One-sided check that ``estimate >= bound - n_se * se`` (keywords as in
        :meth:`close`)."""
        return self._add(name, "lower", bound, estimate, se, n_se, se_kind, n_draws,
                         same_sample)

    @property
    def all_passed(self) -> bool:
        """True when every row passed (and there is at least one row)."""
        return bool(self.rows) and all(r.passed for r in self.rows)

    @property
    def declared(self) -> bool:
        """Whether any row declares its SE kind (the table then prints the kind column)."""
        return any(r.declared for r in self.rows)

    def to_text(self, digits: int = 4) -> str:
        """Render the table as fixed-width text (deterministic, for stored outputs).

        Columns: check (name cut to 44 characters), theory, relation, estimate, SE, z,
        tolerance in SE, and, when any row declares it, the SE kind and the false-alarm
        probability; then the result. Rows whose theory comes from their own sample are
        marked ``*`` and explained below the rows (``*<row number> <reason>``).
        """
        extended = self.declared
        head = f"{'check':<44} {'theory':>11} {'rel':^3} {'estimate':>11} {'SE':>10} " \
               f"{'z':>7} {'tol':>{5 if extended else 4}}  "
        if extended:
            head += f"{'SE kind':<14} {'P(false)':>8}  "
        head += "result"
        lines = [self.title, head, "-" * len(head)]
        notes = []
        for i, r in enumerate(self.rows, start=1):
            z = r.z
            zs = f"{z:7.2f}" if math.isfinite(z) else f"{z:>7}"
            # the original layout prints the tolerance to one decimal; the extended one to
            # four digits, from which the audit recomputes the false-alarm probability
            tol = f"{r.n_se:5.4g}" if extended else f"{r.n_se:4.1f}"
            line = (f"{r.name[:44]:<44} {r.theory:11.{digits}g} {_REL[r.kind]:^3} "
                    f"{r.estimate:11.{digits}g} {r.se:10.3g} {zs} {tol}  ")
            if extended:
                line += f"{r.se_label:<14} {r.false_alarm:8.1e}  "
            lines.append(line + ("pass" if r.passed else "FAIL"))
            if r.same_sample:
                reason = " ".join(r.same_sample.split())
                notes.append(f"  *{i} theory from the same sample: {reason}")
        lines += notes
        if self.verified:
            lines.append(f"verified: {len(self.rows)} of {len(self.rows)} checks pass")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The table as plain data: title, whether it was verified, and every row
        (:meth:`Check.to_dict`)."""
        return {"title": self.title, "verified": self.verified,
                "rows": [r.to_dict() for r in self.rows]}

    def __str__(self) -> str:
        return self.to_text()

    def verify(self) -> CheckTable:
        """Raise :class:`AssertionError` (with the table) unless every row passed.

        Under the perturbation audit (environment variable ``INFOCOMPRESS_PERTURB_THEORY``,
        e.g. ``"+0.1,-0.1"``, and ``INFOCOMPRESS_PERTURB_JSON``, a file path) a verified
        table also appends one JSON line to that file: every row with its outcome had its
        theory value been multiplied by ``1 + eps`` for each ``eps``, and its
        :meth:`Check.detection_thresholds`. The table's own outcome is unchanged, so the
        chapter runs to its end.

        Returns
        -------
        CheckTable
            ``self``, so that ``print(table.verify())`` shows the table.
        """
        if not self.rows:
            raise AssertionError(f"{self.title}: no checks were recorded")
        failed = [r.name for r in self.rows if not r.passed]
        if failed:
            raise AssertionError(f"checks failed: {failed}\n{self.to_text()}")
        self.verified = True
        self._record_perturbations()
        if self._published != len(self.rows):
            from . import records

            records.publish(records.CHECK_TABLE, self.record())
            self._published = len(self.rows)
        return self

    def record(self) -> dict:
        """The verified table as the data the book's status pages read.

        ``{"title", "rows"}``, every row with its name, relation (``kind``), theory,
        estimate, SE, z, tolerance in SE (``tol``), outcome, SE kind, number of draws,
        same-sample note, whether it was declared and its false-alarm probability. In a
        Jupyter kernel :meth:`verify` publishes it (:mod:`infocompress.records`).

        Examples
        --------
        >>> t = CheckTable("toy")
        >>> _ = t.close("mean", 0.0, 0.01, 0.01)
        >>> r = t.record()["rows"][0]
        >>> r["z"], r["tol"], r["declared"]
        (1.0, 5.0, False)
        """
        return {"title": self.title,
                "rows": [dict(r.to_dict(), z=r.z, tol=r.n_se, declared=r.declared)
                         for r in self.rows]}

    def _record_perturbations(self) -> None:
        eps = perturbations_from_env()
        if not eps or self._recorded == len(self.rows):
            return
        path = os.environ.get(PERTURB_JSON_ENV, "").strip()
        if not path:
            warnings.warn(f"{PERTURB_ENV} is set but {PERTURB_JSON_ENV} is not: the "
                          "perturbation audit records nothing", stacklevel=3)
            return
        rows = []
        for r in self.rows:
            up, down = r.detection_thresholds()
            rows.append(dict(r.to_dict(), declared=r.declared,
                             perturbed={f"{e:+g}": r.passes_with(r.theory * (1.0 + e))
                                        for e in eps},
                             threshold_up=up, threshold_down=down))
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"title": self.title, "rows": rows}, allow_nan=True) + "\n")
        self._recorded = len(self.rows)
