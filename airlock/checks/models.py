"""Models: residual degrees of freedom in a coefficient table (a ``df_resid`` column, or the
model summary's text around the table) and in model summaries pasted into a table; a
coefficient table without them needs review [ACRO: residual degrees of freedom >= 10]."""

from __future__ import annotations

import re
from collections.abc import Iterator

from airlock.checks.cells import Chunk, TableContext, key, report_cells, show
from airlock.checks.findings import Location, Verdict

RULE_DOF = "model-dof"
RULE_DOF_UNCHECKED = "model-dof.unchecked"
_DOF = {"df_resid", "df_residual", "df_residuals", "residual_df", "resid_df", "dof", "df_error"}
# with the ratios Stata's logistic, stcox, poisson and mlogit print
_COEF = {"coef", "coefficient", "estimate", "beta", "b", "odds_ratio", "haz_ratio",
         "hazard_ratio", "irr", "rrr", "exp_coef", "exp_b"}  # fmt: skip
_STDERR = {"se", "std_err", "stderr", "std_error", "standard_error", "se_coef"}


def is_model_table(names: list[str]) -> bool:
    keys = {key(n) for n in names}
    return bool(keys & _DOF) or (bool(keys & _COEF) and bool(keys & _STDERR))


class ModelDof:
    """Residual degrees of freedom in a model table, or a coefficient table without them."""

    @classmethod
    def for_table(cls, ctx: TableContext) -> ModelDof | None:
        keys = [key(n) for n in ctx.names]
        dof = [i for i, k in enumerate(keys) if k in _DOF]
        coefficients = any(k in _COEF for k in keys) and any(k in _STDERR for k in keys)
        rec = ctx.recognition
        # a registered tool whose estimates are not a model's fit to people (a Mendelian
        # randomisation from summary statistics) says where its rules are
        registered = bool(rec and rec.kind and not rec.kind.generic and rec.layout != "model")
        if not dof and not (coefficients and not ctx.per_variant and not registered):
            return None
        return cls(ctx, dof)

    def __init__(self, ctx: TableContext, columns: list[int]) -> None:
        self.ctx, self.columns = ctx, columns
        ctx.claimed.update(columns)

    def feed(self, chunk: Chunk) -> None:
        t = self.ctx.config.min_residual_dof
        for col in self.columns:
            values = chunk.numbers(col)
            report_cells(
                self.ctx.sink,
                RULE_DOF,
                Verdict.BLOCK,
                values < t,
                chunk,
                self.ctx.names[col],
                values,
                lambda i, v=values: dof_message(v[i], t),
            )

    def finish(self, rows: int) -> None:
        if self.columns or self.ctx.sink.has(RULE_DOF):
            return
        t = self.ctx.config.min_residual_dof
        if self.ctx.known_dof:
            for dof in self.ctx.known_dof:
                if dof < t:
                    self.ctx.sink.add(RULE_DOF, Verdict.BLOCK, dof_message(dof, t))
            return
        self.ctx.sink.add(
            RULE_DOF_UNCHECKED,
            Verdict.REVIEW,
            "This looks like a table of model coefficients but does not say the model's "
            "residual degrees of freedom, so a reviewer must check that enough people are "
            "behind it. Add a df_resid column (results.df_resid in statsmodels).",
        )


def dof_message(dof: float, t: int) -> str:
    return (
        f"The model has {show(dof)} residual degrees of freedom, fewer than the minimum of {t}: "
        "too few people for each parameter, so estimates can reveal individuals. Use more "
        "observations or fewer parameters."
    )


_DOF_TEXT = re.compile(
    rb"Df Residuals:?[\s\",;|]*(\d+)|Residual.{0,80}?\bon\s+(\d+)\s+degrees\s+of\s+freedom"
    rb"|df_resid\W{1,3}(\d+)|F-statistic:.{0,40}?\bon\s+\d+\s+and\s+(\d+)\s+DF"
    rb"|(?m:^)\s*Residuals?\s+(\d+)\s+[-+\d.]"
    # stargazer: 'Residual Std. Error  0.912 (df = 4809)', 'F Statistic  76.9*** (df = 2; 4809)'
    rb"|Residual\s+Std\.\s+Error[^\n]{0,60}?\(df\s*=\s*(\d+)\)"
    rb"|F\s+Statistic[^\n]{0,60}?\(df\s*=\s*\d+\s*;\s*(\d+)\)"
    # Stata's regress: 'F(2, 5)  =  3.21'
    rb"|\bF\(\s*\d+\s*,\s*(\d+)\s*\)\s*=",
    re.I,
)

_DOF_KEYS = (b"esid", b"ESID", b"DF", b"tatistic", b"TATISTIC", b"F(", b"chi2(")
#: Stata's maximum-likelihood models (logistic, poisson, stcox) print no residual degrees of
#: freedom but the observations and the model's: 'Number of obs = 4,812 ... LR chi2(3) = 76.21'
_OBS_AND_CHI2 = re.compile(
    rb"Number\s+of\s+obs\s*=\s*([\d,]+)(?:[^\n]*\n){1,4}?[^\n]{0,120}?\b(?:LR|Wald)\s+chi2\((\d+)\)"
)


def dof_in_text(data: bytes) -> Iterator[tuple[int, int]]:
    """(offset, residual degrees of freedom) printed in model summaries (statsmodels, R,
    stargazer)."""
    # a quick look for what every alternative holds (Resid..., F-statistic ... DF), in either
    # case as the pattern ignores it; most blocks have none
    if not any(key in data for key in _DOF_KEYS):
        return
    for m in _DOF_TEXT.finditer(data):
        yield m.start(), int(next(g for g in m.groups() if g))
    if b"chi2(" in data:
        for m in _OBS_AND_CHI2.finditer(data):
            observations, model = int(m.group(1).replace(b",", b"")), int(m.group(2))
            yield m.start(), observations - model - 1  # the constant's degree too


class TextDof:
    """Model summaries pasted into a table (e.g. statsmodels summary().tables[0] as CSV)."""

    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx

    def feed(self, chunk: Chunk) -> None:
        if not chunk.raw or chunk.first_row != 1:  # summaries are short: the first rows
            return
        t = self.ctx.config.min_residual_dof
        for offset, dof in dof_in_text(chunk.raw):
            if dof < t:
                row = chunk.first_row + chunk.raw.count(b"\n", 0, offset)
                self.ctx.sink.add(
                    RULE_DOF, Verdict.BLOCK, dof_message(dof, t), Location(row=row, value=str(dof))
                )

    def finish(self, rows: int) -> None:
        pass


def table_rules(ctx: TableContext) -> Iterator[object]:
    # first, so that the degrees-of-freedom column is not read as counts of people
    if (model := ModelDof.for_table(ctx)) is not None:
        yield model
    yield TextDof(ctx)
