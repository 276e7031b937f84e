"""Free text (plain text, Markdown, LaTeX, logs, model summaries): identifiers, sample IDs, VCF
records, encoded blobs, the residual degrees of freedom printed by statsmodels and R, and the
tables inside (airlock.checks.embedded), which go through the table rules. Locations are line
numbers.

Text is a recognised kind (methods, notes, logs); each table inside it is recognised or not on
its own, as if it were a CSV file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import BinaryIO

import pyarrow as pa

from airlock.checks import content
from airlock.checks.cells import Chunk
from airlock.checks.context import CheckContext
from airlock.checks.embedded import TextTable, find_tables
from airlock.checks.findings import FindingSink, Location, Verdict
from airlock.checks.identifiers import find_identifiers, quantity_name
from airlock.checks.margins import RULE_EXTREMES
from airlock.checks.models import RULE_DOF, dof_in_text, dof_message
from airlock.checks.reading import iter_text_blocks
from airlock.checks.structures import check_structures
from airlock.checks.tables import (
    RULE_MIN_CELL,
    RULE_PROSE,
    count_name,
    counts_in_text,
    labelled_numbers,
    people_in_prose,
)


def scan_text(
    raw: bytes,
    text: str,
    first_line: int,
    context: CheckContext,
    sink: FindingSink,
    *,
    column: str | None = None,
    quantities: Callable[[int, str], bool] | None = None,
) -> list[int]:
    """Apply the free-text rules to one block; ``raw`` is ``text`` before decoding. Returns
    the residual degrees of freedom printed in it. ``quantities(line, digits)``: whether a
    number there is a cell of a table's column named for a quantity (:func:`quantity_cells`),
    which is read as a number, not an identifier, as in a CSV's such column."""
    raw, images, image_texts = content.without_images(raw)
    for kind, image_text in image_texts:  # an embedded PNG's text chunks
        scan_text(image_text.encode("utf-8"), image_text, first_line, context, sink,
                  column=f"embedded PNG {kind}")  # fmt: skip
    if images:
        sink.add(
            content.RULE_IMAGE,
            Verdict.REVIEW,
            f"The text embeds {images} image{'s' if images != 1 else ''} (data URIs): a "
            "reviewer must look at each for small counts, outliers and points that stand for "
            "single people.",
            Location(first_line, column),
        )
    raw_lines = LineNumbers(raw, first_line)
    for hit in find_identifiers(raw):
        line = raw_lines.at(hit.start)
        if quantities is not None and hit.number_like and quantities(line, hit.text):
            continue
        sink.add(hit.rule, hit.verdict, hit.message(), Location(line, column, hit.masked))
    matcher = content.context_matcher(context)
    for found in content.scan(raw, matcher):
        if sink.room(found.rule) <= 0:  # counted, not worded: a file may hold 10^5 of them
            sink.more(found.rule, Verdict.BLOCK, 1)
            continue
        line = raw_lines.at(found.start)
        message = found.message
        if found.sample_id:
            message = matcher.message("This text contains", found.sample_id)
        sink.add(found.rule, Verdict.BLOCK, message, Location(line, column, found.value))
    _code_list(text, first_line, column, sink)
    _one_person(text, first_line, column, sink)
    t = context.config.min_cell_count
    labelled = labelled_numbers(text)
    # counts written as counts ('n = 7') block; a number of people in a sentence needs a look
    said = [(o, n, RULE_MIN_CELL, Verdict.BLOCK, "people (or events)", str(n),
             "Merge small groups, or leave the count out.")
            for o, n in counts_in_text(text, labelled)]  # fmt: skip
    said += [(o, n, RULE_PROSE, Verdict.REVIEW, noun, f"{n} {noun}",
              "If they are people of the data, leave the number out or write a range; a "
              "reviewer must judge it.")
             for o, n, noun in people_in_prose(text, labelled)]  # fmt: skip
    text_lines = LineNumbers(text, first_line)
    for offset, n, rule, verdict, what, value, fix in said:
        if 0 < n < t:
            line = text_lines.at(offset)
            sink.add(rule, verdict, f"The text says {n} {what}, below the minimum of {t}. {fix}",
                     Location(line, column, value))  # fmt: skip
    if (m := _R_SUMMARY_EXTREMES.search(text)) is not None:
        sink.add(
            RULE_EXTREMES,
            Verdict.REVIEW,
            "This holds R summary() minima and maxima (Min., Max.): each is one person's value "
            "(the youngest, the heaviest), which can identify them. A reviewer must judge it; "
            "release percentiles or ranges rounded to bands instead.",
            Location(first_line + text.count("\n", 0, m.start()), column, m.group().strip()),
        )
    elif (m := _PROSE_EXTREMES.search(text)) is not None:
        sink.add(
            RULE_EXTREMES,
            Verdict.REVIEW,
            f"The text gives one person's value ('{m.group().strip()}'): the oldest, the "
            "heaviest or another extreme is one person, who can be identified by it. A reviewer "
            "must judge it; give percentiles or a range rounded to bands instead.",
            Location(first_line + text.count("\n", 0, m.start()), column, m.group().strip()),
        )
    dofs = []
    for offset, dof in dof_in_text(raw):
        dofs.append(dof)
        if dof < context.config.min_residual_dof:
            line = raw_lines.at(offset)
            sink.add(
                RULE_DOF,
                Verdict.BLOCK,
                dof_message(dof, context.config.min_residual_dof),
                Location(line, column, str(dof)),
            )
    return dofs


RULE_CODE_LIST = "individual-level.code-list"
#: a line holding one token of 5 to 40 characters
_TOKEN_LINE = re.compile(r"(?m)^[ \t]*([^\s:,;]{5,40})[ \t]*\r?$")
#: a code: letters and at least four digits (HG00096, a cohort's sample ID reversed or
#: re-lettered); digits alone are numbers, and identifiers of variants, genes, transcripts,
#: ontology terms and catalogue entries are public
_CODE = re.compile(r"(?=.*[A-Za-z])(?=(?:\D*\d){4})")
_PUBLIC = re.compile(
    r"(?:rs|ss|LOC|LINC|MIR|GCST|PGS|PGP|GO_?|HP_?|MONDO_?|EFO_?|ENS[A-Z]*|[NX][MRP]_|chr)"
    r"\d+(?:\.\d+)?"
    r"|(?:chr)?(?:\d{1,2}|[XYM]|MT)[_-]\d+(?:[_-][ACGTN]+){0,2}"  # 1_10043_A_G
    r"|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?",  # a number
    re.I,
)
#: this many lines of codes, and as many as half the lines with text, make a list
_CODE_LIST_LINES = 10


def _code_list(text: str, first_line: int, column: str | None, sink: FindingSink) -> None:
    """A list of codes, one per line: people's IDs (of another cohort, or this node's written
    so they do not match) are individual-level data; a reviewer must see what they are."""
    if text.count("\n") < _CODE_LIST_LINES:
        return
    codes = [m for m in _TOKEN_LINE.finditer(text)
             if _CODE.match(m.group(1)) and not _PUBLIC.fullmatch(m.group(1))]  # fmt: skip
    if len(codes) < _CODE_LIST_LINES:
        return
    if 2 * len(codes) < sum(1 for line in text.splitlines() if line.strip()):
        return
    first = codes[0]
    sink.add(
        RULE_CODE_LIST,
        Verdict.REVIEW,
        f"The text is a list of {len(codes):,} codes, one per line ({first.group(1)}, ...), "
        "like people's identifiers. A list of people's IDs, of this node's datasets or of "
        "any other, is individual-level data; a reviewer must judge what these are. Release "
        "counts instead, or say in the request what the codes are.",
        Location(first_line + text.count("\n", 0, first.start()), column),
    )


RULE_ONE_PERSON = "individual-level.one-person"
#: a person named by a number ('participant 17', 'patient #3', 'subject no. 12'), a proband, or
#: a person's age in years ('a 54-year-old woman'): words that describe one person
_ONE_PERSON = re.compile(  # bounded gaps: a run of spaces never makes it backtrack far
    r"\b(?:(?:participant|patient|subject|individual|donor|person|proband)[ \t]{0,2}"
    r"(?:(?:#|no\.?|number|id)[ \t]{0,2})?[:#]?[ \t]{0,2}\d+\b"
    r"(?![ \t]{0,2}(?:%|percent|years|months))"
    r"|proband\b|\d{1,3}[- ](?:year|yr|month)s?[- ]old\b)",
    re.I,
)


def _one_person(text: str, first_line: int, column: str | None, sink: FindingSink) -> None:
    """Prose about one person (a case report, a participant's score): a reviewer must judge
    whether they could be recognised."""
    m = _ONE_PERSON.search(text)
    if m is None:
        return
    sink.add(
        RULE_ONE_PERSON,
        Verdict.REVIEW,
        f"The text speaks of one person ('{m.group()}'): what is said about a single person "
        "(their age, values, genotype, history) is individual-level data, and may let them be "
        "recognised. A reviewer must judge it; describe groups, not people.",
        Location(first_line + text.count("\n", 0, m.start()), column),
    )


class LineNumbers:
    """Line numbers of offsets into ``data``, counted from the last offset asked for (on or
    back): counting from the start for every finding made a text with a sample ID on each of
    its 60,000 lines take half a minute (offsets asked for in order cost one pass in all)."""

    def __init__(self, data: bytes | str, first_line: int) -> None:
        self.data, self.first_line = data, first_line
        self.newline = b"\n" if isinstance(data, bytes) else "\n"
        self.offset, self.line = 0, first_line

    def at(self, offset: int) -> int:
        if offset >= self.offset:
            self.line += self.data.count(self.newline, self.offset, offset)
        else:  # back a little (two scanners' hits on one line): count back, not from the start
            self.line -= self.data.count(self.newline, offset, self.offset)
        self.offset = offset
        return self.line


_HTML_TABLE = re.compile(r"<table[\s>]", re.I)
#: R's summary() of a data frame: ' Min.   :40.00  ' ... ' Max.   :79.00  '
_R_SUMMARY_EXTREMES = re.compile(r"(?m)(?:^|\s)Max\.\s*:\s*-?\d")
#: an extreme in a sentence: 'the oldest participant was 97', 'maximum age 97'
_PROSE_EXTREMES = re.compile(
    r"(?i)(?:\b(?:oldest|youngest|heaviest|lightest|tallest|shortest)\b[^.;\n\d]{0,60}"
    r"|\b(?:max(?:imum)?|min(?:imum)?|highest|lowest)\s+(?:age|bmi|weight|height|income)\b"
    r"[^.;\n\d]{0,30})\d+(?:\.\d+)?(?!\d|\s*(?:-|–|to)\s*\d)"  # not a band: '40-49'
)


def quantity_cells(tables: Iterable[TextTable]) -> Callable[[int, str], bool]:
    """Whether digits on a line are a cell of a column named for a quantity (``reads``,
    ``depth``, ``bytes``) in one of ``tables`` (found in a text): a Markdown table of read
    totals holds numbers, whatever check digit they happen to have."""
    spans: list[tuple[int, int, set[str]]] = []
    for t in tables:
        width = max([len(t.names), *(len(r) for r in t.rows)])
        shift = width - len(t.names)  # R prints row names under no header
        columns = [j + shift for j, n in enumerate(t.names) if n and quantity_name(n)]
        cells = {str(r[j]).strip() for r in t.rows for j in columns if j < len(r) and r[j]}
        if cells:
            spans.append((t.first_line, t.last_line, cells))

    def quantity(line: int, digits: str) -> bool:
        return any(a <= line <= b and digits in cells for a, b, cells in spans)

    return quantity


def check_tables_in(
    text: str, first_line: int, context: CheckContext, sink: FindingSink,
    dofs: Iterable[int] = (), tables: Iterable[TextTable] | None = None,
) -> int:  # fmt: skip
    """The table rules on every table inside ``text`` (the file's first
    :data:`MAX_TEXT_TABLES`; ``tables``, when they were found already); returns how many
    there were."""
    from airlock.checks.tabular import check_table

    found = unchecked = 0
    first_unchecked = None
    for table in find_tables(text, first_line) if tables is None else tables:
        found += 1
        if sink.text_tables >= MAX_TEXT_TABLES:
            unchecked += 1
            first_unchecked = first_unchecked or table.first_line
            continue
        sink.text_tables += 1
        names, chunk = table_chunk(table)
        if table.counts_only:
            side = FindingSink(sink.cap)
            check_table(names, [chunk], context, side, delimiter=",", what=table.what,
                        known_dof=dofs, transpose=False)  # fmt: skip
            if table.kind in ("mapping", "YAML") and not counting_mapping(table):
                # a run's settings ({'memory_gb': 8, 'cpus': 4}), not counts of people; but
                # one value per person ({'p1': 0.21, ...} for 300 people) is individual-level
                sink.extend(f for f in side.findings() if f.rule.startswith("individual-level"))
                continue
            # a table the rules find no counts in is text like the rest, not unrecognised
            parts, side.parts = side.parts, []
            sink.merge(side)
            for part in parts:
                if part.kind is not None:
                    sink.recognised(part.what, part.kind,
                                    summary_statistics=part.summary_statistics)  # fmt: skip
            continue
        check_table(names, [chunk], context, sink, delimiter=",", what=table.what,
                    known_dof=dofs)  # fmt: skip
    if unchecked:
        sink.add(
            RULE_TEXT_TABLES,
            Verdict.REVIEW,
            f"This text holds more than {MAX_TEXT_TABLES} tables; {unchecked} from line "
            f"{first_unchecked} on were not checked with the table rules (sample IDs, "
            "identifiers and genotype records were looked for in all of it). A reviewer must "
            "look at them, or release the tables as CSV files.",
            Location(first_unchecked),
        )
    return found


#: what a mapping's keys are when it counts people by category: genotypes ('0/1', '1|1',
#: 'AG'), sexes, cases and controls, yes and no, numbers and bands ('0', '40-49', '<50')
_CATEGORY_KEY = re.compile(
    r"(?i)^(?:\.|\d+[/|]\d+|[ACGT]{1,2}(?:/[ACGT])?|f|m|female|male|women|men|cases?|"
    r"controls?|carriers?|non[-_ ]?carriers?|affected|unaffected|yes|no|true|false|unknown|"
    r"missing|other|total|all|hom[-_ ]?ref|het|hom[-_ ]?alt|[<>≤≥]?\s*\d+(?:\s*[-–+]\s*\d*)?)$"
)
#: the text before a mapping that says it counts: Python's Counter, pandas' value_counts
_COUNTING_BEFORE = re.compile(
    r"(?i)(?:counter|value_counts|defaultdict|table|tally|count|counts|frequenc\w*|by[_ ]\w+|"
    r"carriers?|cases|genotypes?)[^\n]{0,40}$"
)


def counting_mapping(table: TextTable) -> bool:
    """Whether a printed mapping may count people: a key named as a count ('n_cases'), keys
    that are categories of people, or words before it that say it counts; a mapping of other
    names to numbers is a run's settings."""
    before = table.before.rstrip().rstrip("({[:=").rstrip()
    return (
        any(count_name(name) for name in table.names)
        or all(_CATEGORY_KEY.match(name.strip()) for name in table.names)
        or bool(_COUNTING_BEFORE.search(before))
    )


#: tables inside a file's text that the table rules check one by one (about 30 ms each); a log
#: of records of several types falls apart into many small tables (a 22 MB bcftools roh
#: output: 1,400), and the tables past this many get a reviewer's look instead
MAX_TEXT_TABLES = 200
RULE_TEXT_TABLES = "text-tables"


def table_chunk(table: TextTable):
    """A table found in text as column names and one chunk of typed columns."""
    from airlock.checks.tabular import _typed

    width = max([len(table.names), *(len(r) for r in table.rows)])
    names = list(table.names)
    if len(names) < width:  # R prints row names under no header
        names = [""] * (width - len(names)) + names
    names = [n if n else f"column {j + 1}" for j, n in enumerate(names)]
    rows = [list(r) + [None] * (width - len(r)) for r in table.rows]
    arrays = [pa.array([r[j] for r in rows], type=pa.string()) for j in range(width)]
    typed = _typed(pa.Table.from_arrays(arrays, names=[str(j) for j in range(width)]))
    # the text around it was scanned already: no bytes to scan again
    return names, Chunk(typed, 1, b"")


def check_text(
    f: BinaryIO,
    *,
    encoding: str,
    context: CheckContext,
    sink: FindingSink,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    matrix = False
    for block in iter_text_blocks(
        f,
        encoding=encoding,
        max_line_bytes=context.config.max_line_bytes,
        quoted=False,
        on_bytes=on_bytes,
    ):
        tables = list(find_tables(block.text, block.first_line))
        dofs = scan_text(block.raw, block.text, block.first_line, context, sink,
                         quantities=quantity_cells(tables))  # fmt: skip
        # a Matrix Market file's lines are 'row col value' coordinates, not a table of counts
        matrix = check_structures(block.text, block.first_line, context, sink) or matrix
        if not matrix:
            check_tables_in(block.text, block.first_line, context, sink, dofs, tables)
        if _HTML_TABLE.search(block.text):
            # HTML inside Markdown (knitr's kable, a pasted df.to_html())
            from airlock.checks.frames import html_tables

            html_tables(block.text, context, sink, f"line {block.first_line} on")
    sink.recognised("the text", "text")
