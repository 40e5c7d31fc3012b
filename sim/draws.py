"""Random draws from the model's generator, transformed in fixed arithmetic.

Every random number comes from the model's ``numpy.random.Generator`` (its uniform bits are the same
on every machine). numpy turns bits into normal, lognormal and gamma variates with the C library's
``exp``, ``log`` and ``pow``, whose last bits depend on the CPU (glibc picks an FMA or a plain variant),
so the model draws uniforms and transforms them itself with :mod:`sim.engine.fixed`:

* normals by inverting the normal CDF (Wichura 1988, algorithm AS 241, accurate to about 1e-16),
  one uniform each;
* lognormals as exp(mu + sigma z);
* gammas by Marsaglia & Tsang (2000), with U**(1/a) for shapes below one; Dirichlet rows as
  normalised gammas.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine import fixed

# AS 241 (PPND16) coefficients, Wichura (1988), Applied Statistics 37, 477-484.
_A = [3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
      4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3]
_B = [1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3, 2.1213794301586595867e4,
      3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3]
_C = [1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
      1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4]
_D = [1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9]
_E = [6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
      2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7]
_F = [1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15]
_TWO_53 = float(2 ** 53)


def _poly(coefs: list[float], x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, coefs[-1])
    for c in reversed(coefs[:-1]):
        out = out * x + c
    return out


def _quantile_scalar(p: float) -> float:
    """:func:`normal_quantile` of one number, in Python floats: the same operations in the same order
    (so the same bits), without numpy's per-call cost on the model's few draws a week."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        a, b = _A[-1], _B[-1]
        for c in reversed(_A[:-1]):
            a = a * r + c
        for c in reversed(_B[:-1]):
            b = b * r + c
        return q * a / b
    s = math.sqrt(-fixed.log(min(p, 1.0 - p)))
    num, den, x = (_C, _D, s - 1.6) if s <= 5.0 else (_E, _F, s - 5.0)
    a, b = num[-1], den[-1]
    for c in reversed(num[:-1]):
        a = a * x + c
    for c in reversed(den[:-1]):
        b = b * x + c
    value = a / b
    return -value if q < 0.0 else value


#: Below this many draws :func:`normal_quantile` works number by number (faster than numpy's ufuncs).
_SCALAR_DRAWS = 16


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile of p in (0, 1) (AS 241)."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 1 and len(p) <= _SCALAR_DRAWS:
        return np.array([_quantile_scalar(x) for x in p.tolist()])
    q = p - 0.5
    central = np.abs(q) <= 0.425
    r = 0.180625 - q * q
    out = q * _poly(_A, r) / _poly(_B, r)
    if not np.logical_and.reduce(central, axis=None):
        tail = np.minimum(p, 1.0 - p)
        s = np.sqrt(-fixed.log(np.where(central, 0.5, tail)))
        near = s - 1.6
        far = s - 5.0
        value = np.where(s <= 5.0, _poly(_C, near) / _poly(_D, near), _poly(_E, far) / _poly(_F, far))
        out = np.where(central, out, np.where(q < 0.0, -value, value))
    return out


def open_uniform(rng: np.random.Generator, size) -> np.ndarray:
    """Uniforms on the open interval (0, 1): (k + 1/2) / 2**53 for k uniform on 0 .. 2**53 - 1."""
    return (rng.integers(0, 2 ** 53, size=size).astype(float) + 0.5) / _TWO_53


def standard_normal(rng: np.random.Generator, size=None):
    """Standard normal variates (a float when ``size`` is None)."""
    z = normal_quantile(open_uniform(rng, 1 if size is None else size))
    return float(z[0]) if size is None else z


def lognormal(rng: np.random.Generator, mean: float, sigma: float, size) -> np.ndarray:
    """exp(mean + sigma z): lognormal variates."""
    return fixed.exp(mean + sigma * standard_normal(rng, size))


def gamma(rng: np.random.Generator, shape: np.ndarray) -> np.ndarray:
    """One gamma(shape, 1) variate per element of ``shape`` (> 0): Marsaglia & Tsang (2000) for
    shape + 1 where shape < 1, then times U**(1 / shape)."""
    base, log_factor, small = _gamma_parts(rng, shape)
    return np.where(small, base * fixed.exp(log_factor), base) if small is not None else base


def _gamma_parts(rng: np.random.Generator, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The gamma variate as ``base * exp(log_factor)`` where ``small`` (``small`` is None when no
    shape is below 1): kept apart so that a caller can work in logs where the product underflows."""
    a = np.asarray(shape, dtype=float)
    small = a < 1.0
    d = np.where(small, a + 1.0, a) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.empty(a.shape)
    pending = np.flatnonzero(np.ones(a.shape, dtype=bool))
    while len(pending):
        dp, cp = d.flat[pending], c.flat[pending]
        x = standard_normal(rng, len(pending))
        v = 1.0 + cp * x
        v = v * v * v
        u = open_uniform(rng, len(pending))
        ok = v > 0.0
        logv = fixed.log(np.where(ok, v, 1.0))
        accept = ok & (fixed.log(u) < 0.5 * x * x + dp - dp * v + dp * logv)
        out.flat[pending[accept]] = (dp * v)[accept]
        pending = pending[~accept]
    if not np.logical_or.reduce(small, axis=None):
        return out, np.zeros(a.shape), None
    u = open_uniform(rng, a.shape)
    return out, (1.0 / np.where(small, a, 1.0)) * fixed.log(u), small


def dirichlet(rng: np.random.Generator, alpha: np.ndarray, size: int) -> np.ndarray:
    """``size`` rows drawn from Dirichlet(alpha): gamma(alpha_k) variates, each row normalised."""
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (size, len(alpha)))
    base, log_factor, small = _gamma_parts(rng, a)
    if small is None:
        g = base
    else:
        g = np.where(small, base * fixed.exp(log_factor), base)
        under = ~(np.add.reduce(g, 1) > 0.0)
        if np.logical_or.reduce(under, axis=None):
            # with tiny shapes every variate of a row can underflow to zero; the same draws in logs,
            # scaled so that the row's largest is 1, keep the row's proportions (never 0/0)
            logs = fixed.log(base[under]) + np.where(small[under], log_factor[under], 0.0)
            g[under] = fixed.exp(logs - np.maximum.reduce(logs, 1)[:, None])
    return g / np.add.reduce(g, 1)[:, None]


def portfolio_weights(rng: np.random.Generator, concentration: float, average: np.ndarray, size: int) -> np.ndarray:
    """``size`` portfolios scattered around the ``average`` weights: Dirichlet(concentration x average
    + 0.001) restricted to the assets the average holds. A draw that lands wholly on assets the average
    does not hold (possible with a tiny concentration) takes the average itself."""
    w0 = np.asarray(average, dtype=float)
    w = dirichlet(rng, concentration * w0 + 1e-3, size) * (w0 > 0)
    held = w.sum(axis=1, keepdims=True)
    return np.where(held > 0, w / np.where(held > 0, held, 1.0), w0 / w0.sum())
