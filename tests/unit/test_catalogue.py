import pytest

from tresor.catalogue import check_user_can_open, get_entry, user_can_open
from tresor.core.catalogue import DatasetEntry, load_catalogue, register_dataset
from tresor.core.errors import AccessDeniedError, ConfigError, DatasetNotFoundError
from tresor.identity import Identity


@pytest.fixture
def entry(tmp_path):
    return DatasetEntry(
        id="dk",
        title="Danish cohort",
        store=tmp_path / "dk.vcz",
        n_samples=10,
        n_variants=20,
        phenotypes={"pheno": tmp_path / "dk.pheno"},
        grants=("nordic",),
        contact="dac@example.org",
    )


def test_register_dataset__round_trip(tmp_path, entry):
    register_dataset(entry, tmp_path / "cat")
    assert load_catalogue(tmp_path / "cat") == {"dk": entry}


def test_register_dataset__replaces_atomically(tmp_path, entry):
    register_dataset(entry, tmp_path / "cat")
    changed = DatasetEntry(**{**entry.__dict__, "grants": ("nordic", "uk")})
    register_dataset(changed, tmp_path / "cat")
    assert load_catalogue(tmp_path / "cat")["dk"].grants == ("nordic", "uk")
    assert sorted(p.name for p in (tmp_path / "cat").iterdir()) == ["dk.toml"]


def test_register_dataset__metadata_round_trip_and_old_entries_still_load(tmp_path, entry):
    described = DatasetEntry(
        **{
            **entry.__dict__,
            "contigs": ("chr21", "chrX"),
            "ploidy": {"chr21": (2,), "chrX": (1, 2)},
            "missing_rate": 0.0125,
            "sources": {"cohort.vcf.gz": "ab" * 32},
            "repairs": ("bcftools annotate -x INFO/AF",),
            "store_sha256": "cd" * 32,
        }
    )
    register_dataset(described, tmp_path / "cat")
    assert load_catalogue(tmp_path / "cat") == {"dk": described}
    # an entry written before the metadata existed (as the demo and Ansible write them)
    old = tmp_path / "old"
    old.mkdir()
    (old / "se.toml").write_text(
        'id = "se"\ntitle = "Swedish cohort"\nstore = "/data/se.vcz"\ngenome_build = "GRCh38"\n'
        'description = ""\nn_samples = 3\nn_variants = 4\ngrants = ["nordic"]\n'
        'contact = "dac"\n\n[phenotypes]\n'
    )
    se = load_catalogue(old)["se"]
    assert (se.contigs, se.ploidy, se.missing_rate, se.sources) == ((), {}, None, {})


def test_dataset_entry__id_is_validated(tmp_path):
    with pytest.raises(ConfigError, match="dataset id"):
        DatasetEntry(id="../etc", title="x", store=tmp_path)


def test_user_can_open__needs_a_granted_group(entry):
    assert user_can_open(entry, Identity("ann", frozenset({"researchers", "nordic"})))
    assert not user_can_open(entry, Identity("bob", frozenset({"researchers", "uk"})))
    assert not user_can_open(entry, Identity("eve", frozenset()))


def test_check_user_can_open__refusal_says_who_to_ask(entry):
    with pytest.raises(AccessDeniedError) as e:
        check_user_can_open(entry, Identity("bob", frozenset({"uk"})))
    message = str(e.value)
    assert "bob has no grant for dataset 'dk'" in message
    assert "dac@example.org" in message
    assert "nordic" in message


def test_get_entry__unknown_dataset_lists_known_ones(entry):
    with pytest.raises(DatasetNotFoundError, match="datasets here: dk"):
        get_entry("se", {"dk": entry})


def test_current_identity__outside_a_hub_denies(monkeypatch):
    from tresor.identity import current_identity

    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    current_identity.cache_clear()
    with pytest.raises(AccessDeniedError, match="no hub session"):
        current_identity()
