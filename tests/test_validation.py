"""Tests of the library's validation layer (infocompress._validation): declared constraints,
one message format naming the argument, and the shared array and scalar checks."""

import numpy as np
import pytest

from infocompress._validation import (
    RNG,
    ArrayLike,
    Integer,
    OneOf,
    Options,
    Real,
    Sizes,
    as_finite_array,
    check_int,
    check_real,
    validate_params,
)


@pytest.mark.parametrize(("constraint", "good", "bad"), [
    (Integer(low=1), [1, 7, np.int64(3), np.array(4)], [0, -2, 1.5, "3", True, None, [1]]),
    (Integer(low=0, high=2), [0, 2], [3, -1]),
    (Real(low=0), [0, 0.5, 3, np.float32(2.0), np.array(1.5)],
     [-1e-9, np.nan, np.inf, "0.1", True, np.ones(2), None]),
    (Real(low=0, low_open=True), [1e-300], [0.0]),
    (Real(high=1, high_open=True), [0.99], [1.0]),
    (OneOf("a", "b"), ["a", "b"], ["c", 1, None]),
    (Sizes(), [(16,), [8, 16], np.array([3])], ["16", "", [], [0], [1.5], 16, [True]]),
    (Sizes(allow_empty=True), [()], ["8"]),
    (ArrayLike(ndim=1), [[1.0, 2.0], np.zeros(3)], ["ab", [[1.0]], [np.nan], [object()]]),
    (Options(None, Integer(low=1)), [None, 3], [0, "x"]),
    (RNG, [None, 0, 5, np.random.default_rng(1), np.random.SeedSequence(2)],
     [-1, 1.0, "seed", np.random.RandomState(0)]),
])
def test_constraints_accept_and_reject(constraint, good, bad):
    for v in good:
        assert constraint.ok(v), v
        constraint.check(v, "arg")
    for v in bad:
        assert not constraint.ok(v), v
        with pytest.raises(ValueError, match=r"^arg must be .*, got "):
            constraint.check(v, "arg")


def test_validate_params_checks_named_arguments_before_the_call():
    calls = []

    @validate_params(k=Integer(low=1), sizes=Sizes())
    def f(k, *, sizes=(4,), other=None):
        calls.append((k, sizes, other))
        return k

    assert f(2, sizes=[3, 5], other="anything") == 2
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1, got the string 'x'$"):
        f("x")
    with pytest.raises(ValueError, match=r"^sizes must be a sequence of integers >= 1 "
                                          r"\(at least one\), got the string '16'$"):
        f(1, sizes="16")
    with pytest.raises(ValueError, match="an array of shape"):
        f(np.ones((2, 2)))
    assert calls == [(2, [3, 5], "anything")]          # no call ran with bad input
    assert set(f.__constraints__) == {"k", "sizes"}
    with pytest.raises(TypeError):                      # a wrong call stays a TypeError
        f()
    with pytest.raises(TypeError, match="no parameter"):
        validate_params(nope=Integer())(lambda k: k)


def test_shared_checks_name_the_argument_for_every_kind_of_bad_value():
    with pytest.raises(ValueError, match=r"^w must be a number or an array of numbers, "
                                         r"got the string 'abc'$"):
        as_finite_array("abc", "w")
    with pytest.raises(ValueError, match=r"^w must be a number or an array of numbers"):
        as_finite_array([1.0, "x"], "w")
    with pytest.raises(ValueError, match=r"^w must be a number or an array of numbers"):
        as_finite_array([[1.0], [1.0, 2.0]], "w")        # ragged
    with pytest.raises(ValueError, match=r"^D must be a single number, got an array"):
        check_real(np.ones((2, 2)), "D")
    with pytest.raises(ValueError, match=r"^D must be finite"):
        check_real(np.inf, "D")
    with pytest.raises(ValueError, match=r"^n must be an integer, got 2.5$"):
        check_int(2.5, "n")
    assert check_int(np.array(3), "n") == 3
    assert check_real(np.array(0.25), "x", positive=True) == 0.25
