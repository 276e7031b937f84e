"""How often ordinary numbers are taken for personal identifiers (CPR, personnummer, NHS).

Random read totals (10 digits), genomic positions (up to 9 digits) and Unix timestamps are
written the ways outputs carry them: a column named for what it holds (``total_reads``,
``pos``, ``timestamp``), a column with a name that says nothing (``value``), free text (a log
line), and small tables of ten rows. Each is checked with the node's rules
(airlock.checks.check_file); the rate is the share of values flagged by a ``personal-id.*``
rule. Fixed seed, so runs are comparable.

    .venv/bin/python -m benchmarks.identifier_false_positives [--n 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np

from airlock.checks import CheckContext, check_file
from tresor.core.airlock_config import AirlockConfig

_EPOCH_2000 = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
_EPOCH_2030 = int(dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp())


def samples(n: int, seed: int = 14) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "read totals": rng.integers(1_000_000_000, 10_000_000_000, n),
        "positions": rng.integers(1, 248_956_422, n),
        "timestamps": rng.integers(_EPOCH_2000, _EPOCH_2030, n),
    }


_COLUMN = {"read totals": "total_reads", "positions": "pos", "timestamps": "timestamp"}
_LINE = {
    "read totals": "library {i}: {v} reads passed filters",
    "positions": "variant {i} at position {v}",
    "timestamps": "step {i} done at {v}",
}


def flagged(report) -> int:
    """Values flagged by the identifier rules (listed findings plus the counted rest)."""
    total = 0
    for f in report.findings:
        if not f.rule.startswith("personal-id"):
            continue
        if f.location is None and "more finding" in f.message:
            total += int(f.message.split(" ", 1)[0].replace(",", ""))
        else:
            total += 1
    return total


def rates(n: int) -> dict[tuple[str, str], float]:
    context = CheckContext(AirlockConfig(max_findings_per_rule=10**9))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for what, values in samples(n).items():
            named = Path(tmp, "named.csv")
            named.write_text(
                f"group,{_COLUMN[what]}\n" + "".join(f"g{i},{v}\n" for i, v in enumerate(values))
            )
            plain = Path(tmp, "plain.csv")
            plain.write_text("group,value\n" + "".join(f"g{i},{v}\n" for i, v in enumerate(values)))
            log = Path(tmp, "run.log")
            # every other line a note of another length, so the log is text, not a table
            log.write_text(
                "".join(
                    _LINE[what].format(i=i, v=v) + "\n" + "note: nothing else to say\n" * (i % 2)
                    for i, v in enumerate(values)
                )
            )
            for where, path in (
                (f"column {_COLUMN[what]}", named),
                ("column value", plain),
                ("log text", log),
            ):
                out[what, where] = flagged(check_file(path, context)) / n
            # small tables: too few numbers to tell quantities from identifiers by their share
            small = values[: max(n // 10, _SMALL)]
            hits = 0
            for k in range(0, len(small), _SMALL):
                plain.write_text(
                    "group,value\n"
                    + "".join(f"g{i},{v}\n" for i, v in enumerate(small[k:][:_SMALL]))
                )
                hits += flagged(check_file(plain, context))
            out[what, f"column value, {_SMALL} rows"] = hits / len(small)
    return out


_SMALL = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="values per kind")
    args = parser.parse_args()
    print(f"{'values':<12} {'where':<20} flagged as a personal identifier (n={args.n:,})")
    for (what, where), rate in rates(args.n).items():
        print(f"{what:<12} {where:<20} {rate:7.3%}")


if __name__ == "__main__":
    main()
