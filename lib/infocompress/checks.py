"""Monte-Carlo agreement checks with tolerances derived from standard errors.

Every numerical claim in the book is checked through a :class:`CheckTable`: each row
holds a theory value, a Monte-Carlo estimate and its standard error (SE), and passes when
the estimate lies within ``n_se`` standard errors of the theory (two-sided) or on the
right side of a bound (one-sided). The default ``n_se = 5`` gives a false-alarm
probability of about 5.7e-7 per two-sided check for a Gaussian estimate.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Check", "CheckTable", "false_alarm_probability"]


def false_alarm_probability(n_se: float, *, two_sided: bool = True) -> float:
    """Probability that a Gaussian estimate falls more than ``n_se`` SE from its mean.

    Parameters
    ----------
    n_se : float
        Tolerance in standard errors, > 0.
    two_sided : bool, default True
        Two-sided (``|z| > n_se``) or one-sided (``z > n_se``).

    Returns
    -------
    float

    Examples
    --------
    >>> round(false_alarm_probability(5.0), 9)
    5.73e-07
    """
    if not n_se > 0:
        raise ValueError(f"n_se must be > 0, got {n_se}")
    p = 0.5 * math.erfc(n_se / math.sqrt(2.0))
    return 2.0 * p if two_sided else p


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
    """

    name: str
    kind: str
    theory: float
    estimate: float
    se: float
    n_se: float
    passed: bool

    @property
    def z(self) -> float:
        """Signed distance from theory in standard errors (``inf`` if ``se == 0``)."""
        diff = self.estimate - self.theory
        if self.se == 0:
            return 0.0 if diff == 0 else math.copysign(math.inf, diff)
        return diff / self.se


@dataclass
class CheckTable:
    """A titled collection of theory-versus-measurement checks.

    Parameters
    ----------
    title : str
        Heading printed above the table.
    n_se : float, default 5.0
        Default tolerance in standard errors for every row.
    """

    title: str
    n_se: float = 5.0
    rows: list[Check] = field(default_factory=list)
    verified: bool = field(default=False, init=False)

    def __post_init__(self):
        if not (self.n_se > 0 and math.isfinite(self.n_se)):
            raise ValueError(f"n_se must be finite and > 0, got {self.n_se}")

    def _add(self, name, kind, theory, estimate, se, n_se, passed) -> bool:
        self.verified = False  # a row added after verify() is not verified
        n_se = self.n_se if n_se is None else n_se
        self.rows.append(
            Check(str(name), kind, float(theory), float(estimate), float(se), float(n_se),
                  bool(passed))
        )
        return bool(passed)

    @staticmethod
    def _validate(se, n_se):
        if not (se >= 0 and math.isfinite(se)):
            raise ValueError(f"se must be finite and >= 0, got {se}")
        if n_se is not None and not n_se > 0:
            raise ValueError(f"n_se must be > 0, got {n_se}")

    def close(self, name, theory, estimate, se, *, n_se=None) -> bool:
        """Two-sided check ``|estimate - theory| <= n_se * se``; returns the outcome."""
        self._validate(se, n_se)
        tol = (self.n_se if n_se is None else n_se) * se
        return self._add(name, "close", theory, estimate, se, n_se,
                         abs(estimate - theory) <= tol)

    def upper(self, name, bound, estimate, se, *, n_se=None) -> bool:
        """One-sided check that ``estimate <= bound + n_se * se``."""
        self._validate(se, n_se)
        tol = (self.n_se if n_se is None else n_se) * se
        return self._add(name, "upper", bound, estimate, se, n_se, estimate <= bound + tol)

    def lower(self, name, bound, estimate, se, *, n_se=None) -> bool:
        """One-sided check that ``estimate >= bound - n_se * se``."""
        self._validate(se, n_se)
        tol = (self.n_se if n_se is None else n_se) * se
        return self._add(name, "lower", bound, estimate, se, n_se, estimate >= bound - tol)

    @property
    def all_passed(self) -> bool:
        """True when every row passed (and there is at least one row)."""
        return bool(self.rows) and all(r.passed for r in self.rows)

    def to_text(self, digits: int = 4) -> str:
        """Render the table as fixed-width text (deterministic, for stored outputs)."""
        rel = {"close": "≈", "upper": "≤", "lower": "≥"}
        head = f"{'check':<44} {'theory':>11} {'rel':^3} {'estimate':>11} {'SE':>10} " \
               f"{'z':>7} {'tol':>4}  result"
        lines = [self.title, head, "-" * len(head)]
        for r in self.rows:
            z = r.z
            zs = f"{z:7.2f}" if math.isfinite(z) else f"{z:>7}"
            lines.append(
                f"{r.name[:44]:<44} {r.theory:11.{digits}g} {rel[r.kind]:^3} "
                f"{r.estimate:11.{digits}g} {r.se:10.3g} {zs} {r.n_se:4.1f}  "
                f"{'pass' if r.passed else 'FAIL'}"
            )
        if self.verified:
            lines.append(f"verified: {len(self.rows)} of {len(self.rows)} checks pass")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def verify(self) -> CheckTable:
        """Raise :class:`AssertionError` (with the table) unless every row passed.

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
        return self
