"""Numba kernels for GWAS: linear-regression sufficient statistics, their solution as plink2
--glm does it, and logistic regression with plink2's Firth fallback.

Conventions shared by all kernels: ``covariates`` is (samples, k) with the intercept (all ones)
as column 0; ``include`` marks samples with a phenotype and every covariate; a sample whose call
has a missing allele (-1, including half-calls such as ``./1``) is left out of that variant's
regression, as plink2 does. Genotype predictors are allele dosages: copies of the allele in the
call, whatever its ploidy, so a haploid call (chrX of a man, chrY, chrM) has dosage 0 or 1 (as
plink2 codes men on chrX) and a triploid call 0 to 3. Each call is read slot by slot up to the
block's ploidy (``-2`` fill marks a lower-ploidy call).

The linear model is built from per-variant sufficient statistics over the predictors
``[covariates..., REF dosage, ALT1 dosage, ALT2 dosage, ...]``: n, X'X, X'y, y'y. They add up
over sample blocks and over federation nodes, and any plink2 parametrisation (omit the major
allele instead of REF) is a choice of their rows and columns. The dosages of all alleles sum to
each call's ploidy, which is not the same for every sample when haploid and diploid calls mix,
so REF has its own column.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: plink2 ERRCODE strings; index 0 is "." (no error). UNFINISHED still reports values.
ERRCODES = (
    ".",
    "SAMPLE_CT<=PREDICTOR_CT",
    "CONST_OMITTED_ALLELE",
    "CONST_ALLELE",
    "CORR_TOO_HIGH",
    "VIF_INFINITE",
    "VIF_TOO_HIGH",
    "SEPARATION",
    "RANK_DEFICIENT",
    "LOGISTIC_CONVERGE_FAIL",
    "FIRTH_CONVERGE_FAIL",
    "INVALID_RESULT",
    "UNFINISHED",
)
OK, SAMPLE_CT, CONST_OMITTED, CONST_ALLELE, CORR_HIGH, VIF_INF, VIF_HIGH = range(7)
LOGISTIC_FAIL, FIRTH_FAIL, INVALID, UNFINISHED = 9, 10, 11, 12
#: plink2 defaults: --max-corr 0.999, --vif 50.
MAX_CORR = 0.999
MAX_VIF = 50.0


def stats_width(n_covariates: int, n_alleles: int) -> int:
    """Length of one variant's flattened statistics: n, X'X, X'y, y'y."""
    p = n_covariates + n_alleles
    return 1 + p * p + p + 1


@numba.njit(nogil=True, cache=True)
def call_dosages(g: np.ndarray, v: int, s: int, dosage: np.ndarray) -> bool:  # pragma: no cover
    """Copies of each allele in call (v, s) into ``dosage`` (zeroed first); False when the call
    is missing (any -1 allele, or no allele at all)."""
    dosage[:] = 0.0
    n_valid = 0
    for p in range(g.shape[2]):
        x = g[v, s, p]
        if x == -1:
            return False
        if x >= 0:
            dosage[x] += 1.0
            n_valid += 1
    return n_valid > 0


@numba.njit(nogil=True, cache=True, inline="always")
def add_copy(xtx, xty, covariates, s: int, column: int, ys: float) -> None:  # pragma: no cover
    """One copy of the allele in ``column`` for sample ``s`` (its square's own part)."""
    xty[column] += ys
    xtx[column, column] += 1.0
    for i in range(covariates.shape[1]):
        xtx[i, column] += covariates[s, i]


def linreg_stats(
    g: np.ndarray, covariates: np.ndarray, y: np.ndarray, include: np.ndarray, n_alleles: int
) -> np.ndarray:
    """Per-variant [n, X'X (flat), X'y, y'y] over included samples with a called call.

    A diploid block always takes the 16-bit path (a strided selection is copied first), so the
    sums are added in the same order whatever the block's memory layout, and the same as the
    packed kernel adds them.
    """
    if g.ndim == 3 and g.shape[2] == 2:
        g = np.ascontiguousarray(g)
    fast = g.ndim == 3 and g.shape[2] == 2
    # both alleles of a diploid call as one 16-bit word: 0 means 0/0, tested in one comparison
    pairs = (
        g.reshape(g.shape[0], 2 * g.shape[1]).view(np.uint16)
        if fast
        else np.zeros((0, 0), np.uint16)
    )
    return _linreg_stats(g, pairs, covariates, y, include, n_alleles)


@numba.njit(nogil=True, cache=True)
def _linreg_stats(
    g: np.ndarray,
    pairs: np.ndarray,
    covariates: np.ndarray,
    y: np.ndarray,
    include: np.ndarray,
    n_alleles: int,
) -> np.ndarray:  # pragma: no cover
    """:func:`linreg_stats`; ``pairs`` is ``g`` as uint16 calls, or empty if not diploid.

    Every included sample counts as a hom-REF diploid call (REF dosage 2) unless its call is
    something else: only those calls cost work beyond one comparison. Their covariates and
    phenotype are summed apart and taken off the hom-REF part at the end, in the same order as
    the totals were summed, so a REF column that no sample has comes out exactly 0.
    """
    n_variants, n_samples, _ = g.shape
    k = covariates.shape[1]
    p = k + n_alleles
    out = np.zeros((n_variants, 1 + p * p + p + 1))
    ctc = np.zeros((k, k))
    cty = np.zeros(k)
    yty = 0.0
    n_inc = 0
    for s in range(n_samples):
        if include[s]:
            n_inc += 1
            yty += y[s] * y[s]
            for i in range(k):
                cty[i] += covariates[s, i] * y[s]
                for j in range(k):
                    ctc[i, j] += covariates[s, i] * covariates[s, j]
    xtx = np.zeros((p, p))
    xty = np.zeros(p)
    other_c = np.zeros(k)  # sums over included samples that are not hom-REF diploid
    dosage = np.zeros(n_alleles)
    fast = pairs.shape[0] == n_variants
    for v in range(n_variants):
        xtx[:] = 0.0
        xty[:] = 0.0
        other_c[:] = 0.0
        other_y = 0.0
        xtx[:k, :k] = ctc
        xty[:k] = cty
        yy = yty
        n = n_inc
        for s in range(n_samples):
            if not include[s]:
                continue
            if fast:
                if pairs[v, s] == 0:
                    continue  # hom-REF diploid: counted at the end
                a = g[v, s, 0]
                b = g[v, s, 1]
                called = a != -1 and b != -1
                ys = y[s]
                for i in range(k):
                    other_c[i] += 1.0 * covariates[s, i]
                other_y += 1.0 * ys
                if called:
                    # one copy of each allele present; the same allele twice makes 2 and 4
                    if a >= 0:
                        add_copy(xtx, xty, covariates, s, k + a, ys)
                    if b >= 0:
                        add_copy(xtx, xty, covariates, s, k + b, ys)
                        if a >= 0:
                            xtx[k + a, k + b] += 1.0
                            xtx[k + b, k + a] += 1.0
                    continue
            else:
                called = call_dosages(g, v, s, dosage)
                if called and dosage[0] == 2.0 and dosage.sum() == 2.0:
                    continue  # hom-REF diploid in a store of higher ploidy
                ys = y[s]
                for i in range(k):
                    other_c[i] += 1.0 * covariates[s, i]
                other_y += 1.0 * ys
            if not called:
                n -= 1
                yy -= ys * ys
                for i in range(k):
                    ci = covariates[s, i]
                    xty[i] -= ci * ys
                    for j in range(k):
                        xtx[i, j] -= ci * covariates[s, j]
                continue
            for a in range(n_alleles):
                da = dosage[a]
                if da == 0.0:
                    continue
                xty[k + a] += da * ys
                for i in range(k):
                    xtx[i, k + a] += da * covariates[s, i]
                for b in range(n_alleles):
                    if dosage[b] != 0.0:
                        xtx[k + a, k + b] += da * dosage[b]
        write_stats_row(out[v], xtx, xty, ctc, cty, other_c, other_y, n, yy)
    return out


@numba.njit(nogil=True, cache=True)
def write_stats_row(
    row, xtx, xty, ctc, cty, other_c, other_y: float, n: int, yy: float
) -> None:  # pragma: no cover
    """Add the hom-REF calls (REF dosage 2 for each included sample not in ``other_*``), mirror
    X'X and write [n, X'X, X'y, y'y] as ``row``: the end of both kernels' variant loops."""
    k, p = ctc.shape[0], xtx.shape[0]
    r = k  # the column of the REF dosage
    for i in range(k):
        xtx[i, r] += 2.0 * (ctc[0, i] - other_c[i])  # column 0 is the intercept
    xtx[r, r] += 4.0 * (ctc[0, 0] - other_c[0])
    xty[r] += 2.0 * (cty[0] - other_y)
    for i in range(k):
        for j in range(k, p):
            xtx[j, i] = xtx[i, j]
    row[0] = n
    row[1 : 1 + p * p] = xtx.ravel()
    row[1 + p * p : 1 + p * p + p] = xty
    row[1 + p * p + p] = yy


@numba.njit(nogil=True, cache=True)
def _cholesky_inverse(m: np.ndarray) -> tuple[np.ndarray, bool]:  # pragma: no cover
    """Inverse of a symmetric positive-definite matrix, or (garbage, False) if it is not."""
    n = m.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            acc = m[i, j]
            for q in range(j):
                acc -= low[i, q] * low[j, q]
            if i == j:
                if not acc > 1e-12 * max(abs(m[i, i]), 1e-300):
                    return low, False
                low[i, i] = math.sqrt(acc)
            else:
                low[i, j] = acc / low[j, j]
    inv_low = np.zeros((n, n))
    for i in range(n):
        inv_low[i, i] = 1.0 / low[i, i]
        for j in range(i):
            acc = 0.0
            for q in range(j, i):
                acc -= low[i, q] * inv_low[q, j]
            inv_low[i, j] = acc / low[i, i]
    return inv_low.T @ inv_low, True


@numba.njit(nogil=True, cache=True)
def _collinearity_error(m: np.ndarray, n: float, max_corr: float, max_vif: float) -> int:
    """plink2's check on the predictors (intercept excluded) from their X'X: correlation above
    ``max_corr``, a singular correlation matrix, or a VIF above ``max_vif``.
    """  # pragma: no cover
    q = m.shape[0] - 1
    if q < 2:
        return OK
    cov = np.empty((q, q))
    for i in range(q):
        for j in range(q):
            cov[i, j] = (m[i + 1, j + 1] - m[0, i + 1] * m[0, j + 1] / n) / (n - 1.0)
    corr = np.empty((q, q))
    for i in range(q):
        for j in range(q):
            corr[i, j] = cov[i, j] / math.sqrt(cov[i, i] * cov[j, j])
            if i != j and abs(corr[i, j]) > max_corr:
                return CORR_HIGH
    inv, ok = _cholesky_inverse(corr)
    if not ok:
        return VIF_INF
    for i in range(q):
        if inv[i, i] > max_vif:
            return VIF_HIGH
    return OK


@numba.njit(nogil=True, cache=True)
def _tested_alleles(
    gram: np.ndarray, n: float, k: int, n_alleles: int, major: int
) -> tuple[np.ndarray, int]:  # pragma: no cover
    """Constant-dosage flags of every allele and the variant-wide error (or OK)."""
    const = np.zeros(n_alleles, dtype=np.bool_)
    for a in range(n_alleles):
        s = gram[0, k + a]
        const[a] = n * gram[k + a, k + a] - s * s < 0.5
    if n <= k + n_alleles - 1:
        return const, SAMPLE_CT
    if const[major]:
        return const, CONST_OMITTED
    return const, OK


@numba.njit(nogil=True, cache=True)
def linreg_solve(
    stats: np.ndarray,
    major: np.ndarray,
    n_alleles: np.ndarray,
    k: int,
    width: int,
    max_corr: float,
    max_vif: float,
) -> np.ndarray:  # pragma: no cover
    """plink2 --glm linear from sufficient statistics: per variant and allele
    [beta, se, t, error], plus the degrees of freedom of the t test in the last column.

    The major allele is omitted (plink2's default); alleles whose dosage is constant get
    CONST_ALLELE and leave the model; the others are fitted jointly with the covariates.
    """
    n_variants = stats.shape[0]
    out = np.full((n_variants, 4 * width + 1), np.nan)
    for v in range(n_variants):
        row = stats[v]
        na = n_alleles[v]
        p = k + width
        n = row[0]
        gram = row[1 : 1 + p * p].copy().reshape((p, p))
        rhs = row[1 + p * p : 1 + p * p + p]
        yty = row[1 + p * p + p]
        const, err = _tested_alleles(gram, n, k, na, major[v])
        for a in range(na):
            if a != major[v]:
                out[v, 3 * width + a] = err if err != OK else (CONST_ALLELE if const[a] else OK)
        if err != OK:
            continue
        cols = [i for i in range(k)]
        for a in range(na):
            if a != major[v] and not const[a]:
                cols.append(k + a)
        q = len(cols)
        if q == k:
            continue
        m = np.empty((q, q))
        r = np.empty(q)
        for i in range(q):
            r[i] = rhs[cols[i]]
            for j in range(q):
                m[i, j] = gram[cols[i], cols[j]]
        err = _collinearity_error(m, n, max_corr, max_vif)
        inv, ok = _cholesky_inverse(m)
        if err == OK and not ok:
            err = VIF_INF
        if err != OK:
            for i in range(k, q):
                out[v, 3 * width + cols[i] - k] = err
            continue
        beta = inv @ r
        sigma2 = (yty - beta @ r) / (n - q)
        for i in range(k, q):
            a = cols[i] - k
            se = math.sqrt(sigma2 * inv[i, i])
            out[v, a] = beta[i]
            out[v, width + a] = se
            out[v, 2 * width + a] = beta[i] / se
        # plink2 takes the P-value's degrees of freedom before dropping constant alleles
        out[v, 4 * width] = n - (k + na - 1)
    return out


@numba.njit(nogil=True, cache=True)
def _sigmoid(x: float) -> float:  # pragma: no cover
    return 1.0 / (1.0 + math.exp(-x))


@numba.njit(nogil=True, cache=True)
def logistic_irls(
    x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool, bool]:  # pragma: no cover
    """Logistic regression by Newton-Raphson with plink2's stopping rules.

    Returns (beta, covariance, failed, unfinished). As plink2: stop when the sum of absolute
    steps is below 1e-4; fail on NaN, on steps that grow past 20 (and twice the smallest seen)
    after 4 iterations, on a stalled step of about 1 after 7, or on coefficients beyond 6e4;
    after 15 iterations, stop and flag the result unfinished (fail if a coefficient is beyond
    8e3). The covariance is the inverse Hessian of the last iteration.
    """
    n, p = x.shape
    beta = np.zeros(p)
    cov = np.zeros((p, p))
    min_delta = 1e9
    iteration = 0
    while True:
        hess = np.zeros((p, p))
        grad = np.zeros(p)
        for i in range(n):
            eta = 0.0
            for j in range(p):
                eta += x[i, j] * beta[j]
            pi = _sigmoid(eta)
            w = pi * (1.0 - pi)
            r = pi - y[i]
            for j in range(p):
                xij = x[i, j]
                grad[j] += xij * r
                wx = w * xij
                for q in range(j + 1):
                    hess[j, q] += wx * x[i, q]
        for j in range(p):
            for q in range(j):
                hess[q, j] = hess[j, q]
        inv, ok = _cholesky_inverse(hess)
        if not ok:
            return beta, cov, True, False
        cov = inv
        step = inv @ grad
        delta = 0.0
        for j in range(p):
            delta += abs(step[j])
            beta[j] -= step[j]
        min_delta = min(min_delta, delta)
        if delta != delta:
            return beta, cov, True, False
        if iteration > 3:
            if (delta > 20.0 and delta > 2 * min_delta) or (
                iteration > 6 and abs(1.0 - delta) < 1e-3
            ):
                return beta, cov, True, False
            if iteration > 13:
                for j in range(p):
                    if abs(beta[j]) > 8e3:
                        return beta, cov, True, False
                return beta, cov, False, True
        if delta < 1e-4:
            for j in range(p):
                if abs(beta[j]) > 6e4:
                    return beta, cov, True, False
            return beta, cov, False, False
        iteration += 1


@numba.njit(nogil=True, cache=True)
def _firth_state(
    x: np.ndarray, y: np.ndarray, beta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, bool]:  # pragma: no cover
    """At ``beta``: penalized log-likelihood, inverse Fisher information, modified score, and
    the step matrix (X' diag((1 + h) w) X)^-1; ``ok`` is False when a fitted probability
    reaches 0 or 1 or a matrix is singular.

    The penalty is 1/2 log det(I(beta)) (Jeffreys prior); the score is
    U* = X'(y - pi + h (1/2 - pi)) with h the diagonal of the hat matrix.
    """
    n, p = x.shape
    pi = np.empty(n)
    w = np.empty(n)
    fisher = np.zeros((p, p))
    loglik = 0.0
    for i in range(n):
        eta = 0.0
        for j in range(p):
            eta += x[i, j] * beta[j]
        pi[i] = _sigmoid(eta)
        if pi[i] <= 0.0 or pi[i] >= 1.0:
            return 0.0, fisher, fisher[0], fisher, False
        loglik += math.log(pi[i]) if y[i] != 0.0 else math.log1p(-pi[i])
        w[i] = pi[i] * (1.0 - pi[i])
        for j in range(p):
            wx = w[i] * x[i, j]
            for q in range(j + 1):
                fisher[j, q] += wx * x[i, q]
    for j in range(p):
        for q in range(j):
            fisher[q, j] = fisher[j, q]
    inv, ok = _cholesky_inverse(fisher)
    if not ok:
        return 0.0, fisher, fisher[0], fisher, False
    sign, logdet = np.linalg.slogdet(fisher)
    if sign <= 0:
        return 0.0, fisher, fisher[0], fisher, False
    score = np.zeros(p)
    weighted = np.zeros((p, p))
    for i in range(n):
        quad = 0.0
        for j in range(p):
            acc = 0.0
            for q in range(p):
                acc += inv[j, q] * x[i, q]
            quad += x[i, j] * acc
        h = w[i] * quad
        r = y[i] - pi[i] + h * (0.5 - pi[i])
        ww = (1.0 + h) * w[i]
        for j in range(p):
            score[j] += x[i, j] * r
            for q in range(j + 1):
                weighted[j, q] += ww * x[i, j] * x[i, q]
    for j in range(p):
        for q in range(j):
            weighted[q, j] = weighted[j, q]
    step_matrix, ok = _cholesky_inverse(weighted)
    return loglik + 0.5 * logdet, inv, score, step_matrix, ok


@numba.njit(nogil=True, cache=True)
def firth_regression(
    x: np.ndarray, y: np.ndarray, max_iter: int = 25
) -> tuple[np.ndarray, np.ndarray, bool, bool]:  # pragma: no cover
    """Firth's penalized logistic regression, as R's logistf and plink2.

    Steps (X' diag((1 + h) w) X)^-1 U*, capped at 5 (logistf 1.24's scheme, which converges
    in a few iterations even for singletons); converged when the largest step and the largest
    score are below 1e-4 and the penalized log-likelihood gained less than 1e-4. Returns
    (beta, covariance = inverse Fisher information at the estimate, failed, unfinished).
    """
    p = x.shape[1]
    beta = np.zeros(p)
    delta_max = np.inf
    loglik_old = -np.inf
    for _ in range(max_iter + 2):
        loglik, inv, score, step_matrix, ok = _firth_state(x, y, beta)
        if not ok:
            return beta, inv, True, False
        if delta_max <= 1e-4 and np.max(np.abs(score)) < 1e-4 and loglik - loglik_old < 1e-4:
            return beta, inv, False, False
        loglik_old = loglik
        step = step_matrix @ score
        delta_max = np.max(np.abs(step))
        if delta_max > 5.0:
            step *= 5.0 / delta_max
            delta_max = 5.0
        beta = beta + step
    return beta, inv, False, True


@numba.njit(nogil=True, cache=True)
def logreg_block(
    g: np.ndarray,
    covariates: np.ndarray,
    y: np.ndarray,
    include: np.ndarray,
    n_alleles: np.ndarray,
    width: int,
    firth_mode: int,
    max_corr: float,
    max_vif: float,
) -> np.ndarray:  # pragma: no cover
    """plink2 --glm logistic for a block holding every sample: per variant and allele
    [beta, se, z, error], then [firth used, samples in the regression].

    ``firth_mode``: 0 never (plink2 no-firth), 1 fallback (plink2's default, "hybrid"),
    2 always. Fallback uses Firth when an allele has no copies in cases or only copies in
    cases, or when logistic regression does not converge.
    """
    n_variants, n_samples, _ = g.shape
    k = covariates.shape[1]
    out = np.full((n_variants, 4 * width + 2), np.nan)
    counts = np.zeros(width)
    rows = np.empty(n_samples, dtype=np.int64)
    dosage = np.zeros((n_samples, width))
    call = np.zeros(width)
    for v in range(n_variants):
        na = n_alleles[v]
        counts[:] = 0.0
        n_obs = 0
        for s in range(n_samples):
            if not call_dosages(g, v, s, call):
                continue
            counts += call
            if include[s]:
                rows[n_obs] = s
                dosage[n_obs] = call
                n_obs += 1
        major = 0
        for j in range(1, na):
            if counts[j] > counts[major]:
                major = j
        out[v, 4 * width + 1] = n_obs
        out[v, 4 * width] = 0.0
        const = np.zeros(na, dtype=np.bool_)
        total = np.zeros(na)
        in_cases = np.zeros(na)
        for j in range(na):
            first = dosage[0, j] if n_obs > 0 else 0.0
            same = True
            for r in range(n_obs):
                d = dosage[r, j]
                total[j] += d
                in_cases[j] += d * y[rows[r]]
                if d != first:
                    same = False
            const[j] = same
        err = OK
        if n_obs <= k + na - 1:
            err = SAMPLE_CT
        elif const[major]:
            err = CONST_OMITTED
        cols = []
        for j in range(na):
            if j != major:
                out[v, 3 * width + j] = err if err != OK else (CONST_ALLELE if const[j] else OK)
                if err == OK and not const[j]:
                    cols.append(j)
        if err != OK or len(cols) == 0:
            continue
        q = k + len(cols)
        x = np.empty((n_obs, q))
        yy = np.empty(n_obs)
        for r in range(n_obs):
            s = rows[r]
            yy[r] = y[s]
            for j in range(k):
                x[r, j] = covariates[s, j]
            for c in range(len(cols)):
                x[r, k + c] = dosage[r, cols[c]]
        xtx = x.T @ x
        err = _collinearity_error(xtx, float(n_obs), max_corr, max_vif)
        if err != OK:
            for c in cols:
                out[v, 3 * width + c] = err
            continue
        use_firth = firth_mode == 2
        if firth_mode == 1:
            for j in range(na):
                if not const[j] and (in_cases[j] == 0.0 or in_cases[j] == total[j]):
                    use_firth = True
        failed = False
        unfinished = False
        if not use_firth:
            beta, cov, failed, unfinished = logistic_irls(x, yy)
            if failed and firth_mode == 1:
                use_firth = True
            elif failed:
                for c in cols:
                    out[v, 3 * width + c] = LOGISTIC_FAIL
                continue
        if use_firth:
            out[v, 4 * width] = 1.0
            beta, cov, failed, unfinished = firth_regression(x, yy)
            if failed:
                for c in cols:
                    out[v, 3 * width + c] = FIRTH_FAIL
                continue
        invalid = False
        for i in range(1, q):
            d = cov[i, i]
            if not (d >= 1e-20) or not np.isfinite(d):
                invalid = True
            for j in range(i):
                if cov[i, j] > 0.99999 * math.sqrt(cov[i, i]) * math.sqrt(max(cov[j, j], 0.0)):
                    invalid = True
        if invalid:
            for c in cols:
                out[v, 3 * width + c] = INVALID
            continue
        for c in range(len(cols)):
            a = cols[c]
            se = math.sqrt(cov[k + c, k + c])
            out[v, a] = beta[k + c]
            out[v, width + a] = se
            out[v, 2 * width + a] = beta[k + c] / se
            if unfinished:
                out[v, 3 * width + a] = UNFINISHED
    return out
