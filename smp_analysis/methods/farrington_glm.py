"""The quasi-Poisson GLM fits of the Farrington flexible algorithm (:mod:`.farrington`).

R's ``glm.fit`` for the log link (IRLS started at y + 0.1, deviance convergence 1e-8, at most
25 iterations), vectorised over many series at once, each series with its own design or all
with one, and the Anscombe-residual reweighting of ``surveillance::farringtonFlexible``
(Farrington et al. 1996; Noufaily et al. 2013; see :mod:`.farrington` for the references and
the parity tests against R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class _Fit:
    beta: np.ndarray  # (S, p)
    mu: np.ndarray  # (S, n)
    xtwx_inv: np.ndarray  # (S, p, p) from the final IRLS step's weights
    working_w: np.ndarray  # (S, n) weights of the final IRLS step (R's fit$weights)
    dispersion: np.ndarray  # (S,) Pearson X^2/df as summary.glm computes it
    converged: np.ndarray  # (S,) bool
    df_residual: int


def _poisson_deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2.0 * np.sum(w * (term - (y - mu)), axis=1)


def _irls(X: np.ndarray, y: np.ndarray, prior_w: np.ndarray, offset: np.ndarray,
          maxit: int = 25, epsilon: float = 1e-8) -> _Fit:
    """Quasi-Poisson log-link IRLS for S series, as R glm.fit: each its own design X (S, n, p),
    or all one X (n, p). Each series' fit depends on its own rows only."""
    S, n = y.shape
    X = np.broadcast_to(X, (S, *X.shape[-2:]))
    p = X.shape[2]
    mu = y + 0.1
    eta = np.log(mu)
    dev_old = _poisson_deviance(y, mu, prior_w)
    beta = np.zeros((S, p))
    xtwx = np.zeros((S, p, p))
    working_w = prior_w * mu
    active = np.ones(S, dtype=bool)
    converged = np.zeros(S, dtype=bool)
    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        w = prior_w[idx] * mu[idx]
        z = eta[idx] - offset[idx] + (y[idx] - mu[idx]) / mu[idx]
        Xi = X[idx]
        a = np.einsum("sn,snp,snq->spq", w, Xi, Xi)
        rhs = np.einsum("sn,snp,sn->sp", w, Xi, z)
        b = _solve(a, rhs)
        eta_new = np.einsum("snp,sp->sn", Xi, b) + offset[idx]
        mu_new = np.exp(eta_new)
        dev = _poisson_deviance(y[idx], mu_new, prior_w[idx])
        beta[idx], eta[idx], mu[idx] = b, eta_new, mu_new
        xtwx[idx], working_w[idx] = a, w
        done = np.abs(dev - dev_old[idx]) / (np.abs(dev) + 0.1) < epsilon
        dev_old[idx] = dev
        converged[idx[done]] = True
        active[idx[done]] = False
    df = n - p
    residuals = (y - mu) / mu  # working residuals
    dispersion = np.sum(working_w * residuals**2, axis=1) / df if df > 0 else np.full(S, np.nan)
    return _Fit(beta, mu, _inverse(xtwx), working_w, dispersion, converged, df)


def _solve(a: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve each system a[s] b = rhs[s]; a singular one (alone) by its pseudo-inverse (R's
    glm.fit drops aliased columns; the pseudo-inverse gives the same fitted values)."""
    try:
        return np.linalg.solve(a, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(rhs)
        for s, (one, right) in enumerate(zip(a, rhs, strict=True)):
            try:
                out[s] = np.linalg.solve(one, right)
            except np.linalg.LinAlgError:
                out[s] = np.linalg.pinv(one) @ right
        return out


def _inverse(a: np.ndarray) -> np.ndarray:
    """The inverse of each a[s], or its pseudo-inverse when a[s] is singular."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        out = np.empty_like(a)
        for s, one in enumerate(a):
            try:
                out[s] = np.linalg.inv(one)
            except np.linalg.LinAlgError:
                out[s] = np.linalg.pinv(one)
        return out


def fit_with_reweighting(X, y, offset, reweight: bool, weights_threshold: float):
    """One model: fit, floor phi, optionally reweight by Anscombe residuals and refit.

    Returns (fit, phi, converged). ``fit.dispersion`` is replaced by the dispersion R's
    ``summary.glm`` reports for the returned model: surveillance stores the Anscombe weights in
    ``model$weights`` (where glm keeps its working weights), so later calls to ``summary.glm`` and
    ``predict.glm`` (trend p-value, se.fit) use sum(omega * r^2) / df with working residuals
    r = (y - mu) / mu. phi itself is computed before that and is the usual Pearson estimate.
    We reproduce this for parity with R (see docs/methods.md).
    """
    ones = np.ones_like(y)
    fit = _irls(X, y, ones, offset)
    phi = np.maximum(fit.dispersion, 1.0)
    if not reweight:
        return fit, phi, fit.converged
    Xs = np.broadcast_to(X, (y.shape[0], *X.shape[-2:]))
    hat = np.einsum("snp,spq,snq->sn", Xs, fit.xtwx_inv, Xs) * fit.working_w
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.5 * (y ** (2 / 3) * fit.mu ** (-1 / 6) - fit.mu**0.5) / np.sqrt(
            phi[:, None] * (1 - hat))
        big = s > weights_threshold
        inv_sq = np.where(big, s**-2.0, 1.0)
        gamma = y.shape[1] / inv_sq.sum(axis=1)
    omega = gamma[:, None] * inv_sq
    refit = _irls(X, y, omega, offset)
    refit_phi = np.maximum(refit.dispersion, 1.0)
    working_residuals = (y - refit.mu) / refit.mu
    if refit.df_residual > 0:
        refit.dispersion = np.sum(omega * working_residuals**2, axis=1) / refit.df_residual
    return refit, refit_phi, fit.converged
