"""The merge maths on aligned per-node rows: exact linear regression from sufficient statistics
with a per-node intercept, and the fixed-effect inverse-variance meta-analysis.

Exact linear regression. Node k has n_k samples, covariates C_k = [1, Z_k] and phenotype y_k;
the pooled model has one intercept per node (a cohort covariate), shared covariate effects and
the genotype effect: y = D a + Z b + g beta + e. Projecting out the node intercepts centres
every variable within its node (Frisch-Waugh-Lovell), so with ~ for "centred within the node":
  Z~'Z~ = sum_k (Z_k'Z_k - s_zk s_zk' / n_k),   s_zk = 1'Z_k (row 0 of C_k'C_k)
  Z~'g~ = sum_k (Z_k'g_k - s_zk s_gk / n_k),   s_gk = 1'g_k (first entry of C_k'g_k)
  g~'g~, g~'y~, Z~'y~, y~'y~ likewise,
and beta, its standard error and the residual sum of squares follow from the Schur complement
of Z~'Z~ (through its Cholesky factor). Residual degrees of freedom: N - K - q - 1 for N samples
in K nodes and q shared covariates. Centring within nodes is also what keeps the sums
well-conditioned (covariates such as age are far from zero).

Only the nodes that report a variant enter its fit (their samples, intercepts and covariate
blocks); the row says which.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import linalg
from scipy import stats as st

#: plink2's --vif default: a genotype this collinear with the covariates (and nodes) is not fitted
MAX_VIF = 50.0


@dataclasses.dataclass(frozen=True)
class NodeCovariates:
    """One node's covariate block, centred within the node."""

    n: int
    sum_z: np.ndarray  # (q,)
    sum_y: float
    zz: np.ndarray  # (q, q)
    zy: np.ndarray  # (q,)
    yy: float

    @classmethod
    def from_statistics(
        cls, n: int, ctc: np.ndarray, cty: np.ndarray, yty: float
    ) -> NodeCovariates:
        """From the node's released n, C'C, C'y, y'y (intercept first)."""
        sum_z, sum_y = ctc[0, 1:], float(cty[0])
        return cls(
            n=int(n),
            sum_z=sum_z,
            sum_y=sum_y,
            zz=ctc[1:, 1:] - np.outer(sum_z, sum_z) / n,
            zy=cty[1:] - sum_z * sum_y / n,
            yy=float(yty) - sum_y**2 / n,
        )


def centre_variants(
    cg: np.ndarray, gg: np.ndarray, gy: np.ndarray, node: np.ndarray, nodes: list[NodeCovariates]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row (one node's variant): Z~'g~ (rows, q), g~'g~, g~'y~; these add across nodes."""
    n = np.array([c.n for c in nodes], float)[node]
    sum_z = np.stack([c.sum_z for c in nodes])[node]
    sum_y = np.array([c.sum_y for c in nodes])[node]
    sum_g = cg[:, 0]
    return (
        cg[:, 1:] - sum_z * (sum_g / n)[:, None],
        gg - sum_g**2 / n,
        gy - sum_g * sum_y / n,
    )


def pooled_linear(
    zg: np.ndarray, gg: np.ndarray, gy: np.ndarray, masks: np.ndarray, nodes: list[NodeCovariates]
) -> dict[str, np.ndarray]:
    """BETA, SE, T_STAT, P, OBS_CT, DF and ERRCODE per variant from the pooled centred sums;
    ``masks`` says which nodes (bit k = node k) each variant's sums come from."""
    rows = len(gg)
    out = {
        "BETA": np.full(rows, np.nan),
        "SE": np.full(rows, np.nan),
        "T_STAT": np.full(rows, np.nan),
        "P": np.full(rows, np.nan),
        "OBS_CT": np.zeros(rows, np.int64),
        "ERRCODE": np.full(rows, ".", dtype=object),
    }
    q = zg.shape[1]
    for mask in np.unique(masks):
        sel = np.flatnonzero(masks == mask)
        members = [c for k, c in enumerate(nodes) if int(mask) >> k & 1]
        n = sum(c.n for c in members)
        df = n - len(members) - q - 1
        out["OBS_CT"][sel] = n
        if df <= 0:
            out["ERRCODE"][sel] = "SAMPLE_CT<=PREDICTOR_CT"
            continue
        yy = sum(c.yy for c in members)
        c_ = gg[sel]
        d = gy[sel]
        if q:
            zz = sum(c.zz for c in members)
            zy = sum(c.zy for c in members)
            low = linalg.cholesky(zz, lower=True)
            u = linalg.solve_triangular(low, zg[sel].T, lower=True)  # (q, rows)
            w = linalg.solve_triangular(low, zy, lower=True)
            s = c_ - (u * u).sum(axis=0)
            num = d - w @ u
            yy = yy - w @ w
        else:
            s, num = c_, d
        with np.errstate(invalid="ignore", divide="ignore"):
            bad = ~(s > 0) | (c_ / s > MAX_VIF)
            beta = num / s
            rss = yy - num * beta
            se = np.sqrt(rss / df / s)
            t = beta / se
        out["ERRCODE"][sel[bad]] = np.where(s[bad] > 0, "VIF_TOO_HIGH", "VIF_INFINITE")
        good = sel[~bad]
        out["BETA"][good] = beta[~bad]
        out["SE"][good] = se[~bad]
        out["T_STAT"][good] = t[~bad]
        out["P"][good] = 2 * st.t.sf(np.abs(t[~bad]), df)
    return out


def inverse_variance(
    beta: np.ndarray, se: np.ndarray, codes: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """Fixed-effect inverse-variance meta-analysis per group of rows (``codes``): BETA, SE,
    Z_STAT, P, Cochran's Q with its P (P_Q, chi-square on K - 1 df) and I^2 in percent."""
    w = 1.0 / se**2
    sum_w = np.bincount(codes, w, n_groups)
    pooled = np.bincount(codes, w * beta, n_groups) / sum_w
    q = np.bincount(codes, w * (beta - pooled[codes]) ** 2, n_groups)  # two passes: no cancellation
    k = np.bincount(codes, minlength=n_groups)
    dof = k - 1
    pooled_se = 1.0 / np.sqrt(sum_w)
    z = pooled / pooled_se
    with np.errstate(invalid="ignore", divide="ignore"):
        i2 = np.where(q > 0, np.maximum(0.0, (q - dof) / q) * 100.0, 0.0)
        p_q = np.where(dof > 0, st.chi2.sf(q, np.maximum(dof, 1)), np.nan)
    return {
        "BETA": pooled,
        "SE": pooled_se,
        "Z_STAT": z,
        "P": 2 * st.norm.sf(np.abs(z)),
        "Q": np.where(dof > 0, q, np.nan),
        "P_Q": p_q,
        "I2": np.where(dof > 0, i2, np.nan),
    }
