"""The 2-bit kernels against the int8 kernels they stand in for, on calls of every shape: the
same counts, and the same floating-point sums to the bit; text formatting against Python's."""

from __future__ import annotations

import math

import numcodecs
import numpy as np
import pytest

from tresor.stats import aggregation_kernels, association_kernels, packed_kernels, pca_kernels, text
from tresor.stats.hwe_kernels import hwe_exact_cached, hwe_exact_per_allele, new_cache


def odd_calls(rng, n_variants: int, n_samples: int, ploidy: int = 2) -> np.ndarray:
    """int8 calls: diploid 0/1 with missing, half-missing, haploid (-2 fill) calls, rows with
    an allele 2, calls without any allele and, in a ploidy-3 block, triploid calls."""
    g = np.full((n_variants, n_samples, max(ploidy, 2)), -2, dtype=np.int8)
    g[:, :, :2] = rng.integers(0, 2, (n_variants, n_samples, 2))
    g[rng.random((n_variants, n_samples)) < 0.05, :2] = -1
    half = rng.random((n_variants, n_samples)) < 0.02
    g[half, 0] = -1
    haploid = (rng.random(n_samples) < 0.3)[None, :] & (np.arange(n_variants) % 3 == 0)[:, None]
    g[haploid, 1] = -2
    g[::7, 0, 0] = 2  # multi-allelic rows
    g[5, n_samples - 1] = -2  # a call with no allele: an exception row
    if ploidy == 3:
        g[::4, 2, :] = (0, 1, 1)  # triploid calls: exception rows
    if ploidy == 1:  # a ploidy-1 store: every call haploid (or missing, or allele 2)
        g = g[:, :, :1]
    return np.ascontiguousarray(g)


class Packed:
    """A block packed as the companion stores it, with a sample selection."""

    def __init__(self, g: np.ndarray, keep: np.ndarray):
        self.codes, self.haploid, fits, self.has_haploid = packed_kernels.pack_block(g)
        self.positions = np.flatnonzero(keep)
        self.mask = packed_kernels.sample_mask(keep)
        self.exception = np.full(len(g), -1, dtype=np.int32)
        self.exception[~fits] = np.arange((~fits).sum())
        self.exception_calls = np.ascontiguousarray(g[~fits][:, self.positions])
        self.kept = np.ascontiguousarray(g[:, self.positions])  # what the int8 kernels see
        self.rank = np.full(self.codes.shape[1] * 32, -1, dtype=np.int64)
        self.rank[self.positions] = np.arange(len(self.positions))


SHAPES = [(2, 70, 2), (2, 64, 2), (3, 33, 3), (4, 40, 1), (5, 1, 2)]


@pytest.fixture(params=SHAPES, ids=lambda s: f"seed{s[0]}-{s[1]}samples-ploidy{s[2]}")
def block(request):
    seed, n_samples, ploidy = request.param
    rng = np.random.default_rng(seed)
    g = odd_calls(rng, 60, n_samples, ploidy)
    keep = rng.random(n_samples) < 0.7
    keep[0] = True
    return g, keep


def test_pack_block__rows_2_bits_cannot_hold_are_exceptions_and_the_rest_decode_alike(block):
    g, _ = block
    codes, haploid, fits, has_haploid = packed_kernels.pack_block(g)
    called = ~(g == -1).any(axis=2)
    other = (g > 1).any(axis=(1, 2))  # even in a missing call: the row is not biallelic
    empty = ((g == -2).all(axis=2)).any(axis=1)
    polyploid = (((g >= 0).sum(axis=2) > 2) & called).any(axis=1)
    np.testing.assert_array_equal(fits, ~(other | empty | polyploid))
    decoded = packed_kernels.decode_calls(
        codes[fits],
        haploid[fits],
        np.full(fits.sum(), -1, np.int32),
        np.empty((0, g.shape[1], g.shape[2]), np.int8),
        np.arange(g.shape[1]),
        g.shape[2],
    )
    original = g[fits]
    missing = (original == -1).any(axis=2)
    np.testing.assert_array_equal((decoded == -1).any(axis=2), missing)
    for d, o in ((decoded, original),):  # called calls: the same alleles, the same ploidy
        called = ~missing
        np.testing.assert_array_equal(np.sort(d, axis=2)[called], np.sort(o, axis=2)[called])
    assert has_haploid[fits].tolist() == (
        (((original >= 0).sum(axis=2) == 1) & ~missing).any(axis=1).tolist()
    )


def test_genotype_counts__equal_the_int8_kernel_with_any_sample_mask(block):
    g, keep = block
    p = Packed(g, keep)
    for n_alleles in (2, 3):
        exceptions = aggregation_kernels.genotype_counts(p.exception_calls, n_alleles)
        ours = packed_kernels.genotype_counts(
            p.codes, p.haploid, p.has_haploid, p.exception, exceptions, p.mask, n_alleles
        )
        np.testing.assert_array_equal(ours, aggregation_kernels.genotype_counts(p.kept, n_alleles))


def test_sample_counts__equal_the_int8_kernel_to_the_bit(block):
    g, keep = block
    p = Packed(g, keep)
    expected_hom = np.random.default_rng(0).random(len(g))
    ours = packed_kernels.sample_counts(
        p.codes,
        p.haploid,
        p.exception,
        packed_kernels.call_classes(p.exception_calls),
        p.positions,
        expected_hom,
    )
    theirs = aggregation_kernels.sample_counts(p.kept, expected_hom)
    assert ours.tobytes() == theirs.tobytes()


def test_missing_counts__per_variant_and_per_sample(block):
    g, keep = block
    p = Packed(g, keep)
    classes = packed_kernels.call_classes(p.exception_calls)
    per_variant, per_sample = packed_kernels.missing_counts(
        p.codes, classes < 0, p.exception, p.mask, p.positions
    )
    missing = (p.kept == -1).any(axis=2) | (p.kept == -2).all(axis=2)
    np.testing.assert_array_equal(per_variant, missing.sum(axis=1))
    np.testing.assert_array_equal(per_sample, missing.sum(axis=0))


@pytest.mark.parametrize("n_covariates", [1, 3])
def test_linreg_stats__the_same_sums_as_the_int8_kernel_to_the_bit(block, n_covariates):
    g, keep = block
    p = Packed(g, keep)
    rng = np.random.default_rng(n_covariates)
    n = len(p.positions)
    covariates = np.column_stack([np.ones(n), rng.normal(size=(n, n_covariates - 1))])
    y = rng.normal(size=n)
    include = rng.random(n) < 0.9
    included = np.zeros(g.shape[1], dtype=bool)
    included[p.positions] = include
    for n_alleles in (2, 3):
        exceptions = association_kernels.linreg_stats(
            p.exception_calls, covariates, y, include, n_alleles
        )
        ours = packed_kernels.linreg_stats(
            p.codes,
            p.haploid,
            p.exception,
            exceptions,
            p.rank,
            packed_kernels.sample_mask(included),
            covariates,
            y,
            include,
            n_alleles,
            g.shape[2] == 2,
        )
        theirs = association_kernels.linreg_stats(p.kept, covariates, y, include, n_alleles)
        assert ours.tobytes() == theirs.tobytes()


def test_decoded_calls__read_by_the_int8_kernels_as_the_source(block):
    """PCA, logistic regression and LD pruning read calls decoded from the 2 bits."""
    g, keep = block
    p = Packed(g, keep)
    calls = packed_kernels.decode_calls(
        p.codes, p.haploid, p.exception, p.exception_calls, p.positions, g.shape[2]
    )
    np.testing.assert_array_equal(
        pca_kernels.biallelic_dosage(calls), pca_kernels.biallelic_dosage(p.kept)
    )
    np.testing.assert_array_equal(
        aggregation_kernels.genotype_counts(calls, 3),
        aggregation_kernels.genotype_counts(p.kept, 3),
    )
    two = np.ones(len(g), dtype=bool)
    for a, b in zip(
        pca_kernels.filtered_standardized(calls, two, 0.0, 0.0),
        pca_kernels.filtered_standardized(p.kept, two, 0.0, 0.0),
        strict=True,
    ):
        assert a.tobytes() == b.tobytes()


def test_popcount_and_trailing_zeros__on_words():
    import numba

    @numba.njit
    def both(x):
        return packed_kernels.popcount(x), packed_kernels.trailing_zeros(x)

    for value in (1, 2**63, 0x5555555555555555, 0b101000, 2**64 - 1):
        count, zeros = both(np.uint64(value))
        assert count == bin(value).count("1")
        assert zeros == (value & -value).bit_length() - 1


def test_hwe_cached__equals_the_test_and_reuses_counts():
    rng = np.random.default_rng(3)
    hom = rng.integers(0, 40, (500, 3))
    het = rng.integers(0, 20, (500, 3))
    hom[250:], het[250:] = hom[:250], het[:250]  # every count seen twice
    n_alleles = rng.integers(2, 4, 500).astype(np.int32)
    cache = new_cache()
    cached = hwe_exact_cached(hom, het, n_alleles, cache)
    np.testing.assert_array_equal(cached, hwe_exact_per_allele(hom, het, n_alleles))
    size = len(cache)
    assert size < 2 * 250 * 3  # the second half was looked up
    np.testing.assert_array_equal(hwe_exact_cached(hom, het, n_alleles, cache), cached)
    assert len(cache) == size


# --- text -----------------------------------------------------------------------------------
def _values(rng) -> np.ndarray:
    ties = np.arange(1, 4000) / np.array([128, 1024, 20000, 6])[:, None]  # exact decimal ties
    return np.concatenate(
        [
            rng.random(20_000),
            rng.standard_normal(20_000) * 10.0 ** rng.integers(-30, 30, 20_000),
            ties.ravel(),
            [0.0, -0.0, 1.0, 1e-5, 1e-4, 123456.5, 999999.5, 0.9999995, 1e16, 5e-324, 1.8e308],
            [math.nan, math.inf, -math.inf],
        ]
    )


@pytest.mark.parametrize("digits", [1, 3, 6, 12])
def test_floats__written_as_python_formats_them(digits):
    values = _values(np.random.default_rng(digits))
    ours = text.floats(values, digits).strings()
    theirs = ["NA" if math.isnan(x) else format(x, f".{digits}g") for x in values.tolist()]
    assert ours == theirs


def test_ints_strings_and_joins():
    values = np.array([0, -1, 7, 10, -1234567890123, 2**62])
    assert text.ints(values).strings() == [str(v) for v in values.tolist()]
    words = ["", "A", "ÅÄÖ", "<NON_REF>", "TTTTTTTTTTTTTTTTTTT"]
    column = text.strings(words)
    assert column.strings() == words
    assert column.take(np.array([4, 0, 2])).strings() == ["TTTTTTTTTTTTTTTTTTT", "", "ÅÄÖ"]
    assert text.joined(column, np.array([2, 0, 3]), empty=".").strings() == [
        ",A",
        ".",
        "ÅÄÖ,<NON_REF>,TTTTTTTTTTTTTTTTTTT",
    ]
    lines = text.lines([text.strings(["a", "b"]), text.ints(np.array([1, 2]))])
    assert lines == b"a\t1\nb\t2\n"
    chosen = text.where(np.array([True, False]), text.strings(["x", "y"]), column.take([1, 2]))
    assert chosen.strings() == ["x", "ÅÄÖ"]


def test_vlen_utf8__parsed_as_numcodecs_decodes_it():
    from tresor.stats.text_kernels import vlen_sizes, vlen_utf8

    words = np.array(["rs1", "", "chr1:100:A:G", "é" * 5, "."], dtype=object)
    raw = np.frombuffer(numcodecs.VLenUTF8().encode(words), dtype=np.uint8)
    assert text.Column(*vlen_utf8(raw)).strings() == list(words)
    np.testing.assert_array_equal(vlen_sizes(raw), [len(w.encode()) for w in words])
