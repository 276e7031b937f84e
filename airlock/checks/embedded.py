"""Tables inside text: Markdown and LaTeX tables, fixed-width tables as R, pandas and plink print
them (``table()``, ``summary(lm)``, ``head(df)``), delimited rows pasted into notes, and
columns of one number per line. Each is handed to the table rules like a CSV file, so wrapping
a table in text changes nothing about what the checks find in it.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import re
from collections.abc import Iterator

from airlock.checks.filetypes import log_records

_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?%?$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LATEX_BEGIN = re.compile(
    # the column spec may hold braces two deep: stargazer's '{@{\extracolsep{5pt}}lc}'
    r"\\begin\{(tabular\*?|tabularx|longtable|array)\}"
    r"(\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})*"
)
_LATEX_RULES = re.compile(
    r"\\(hline|toprule|midrule|bottomrule|addlinespace|cmidrule(\([^)]*\))?\{[^}]*\}|"
    r"cline\{[^}]*\}|endhead|endfirsthead|endfoot|endlastfoot)"
)
_LATEX_WRAP = re.compile(r"\\(multicolumn\{[^}]*\}\{[^}]*\}|multirow\{[^}]*\}\{[^}]*\}|"
                         r"textbf|textit|emph|text|mathrm|underline)\{([^{}]*)\}")  # fmt: skip
#: "key: value" or an aligned "Key   : value" (nextflow's summary), not cells of a table;
#: R's summary() cells ("Min.   :40.00") have no space after the colon
_KEY_VALUE = re.compile(r"\S\s*:\s")
#: a sentence rather than a header: '(Proportion of cases in the sample = 0.333; ...)'
_PROSE_LINE = re.compile(r";\s|^\s*\(.*\)\s*$")
#: at most this many lines of a block of text are read as one fixed-width table
_MAX_BLOCK_LINES = 20_000


@dataclasses.dataclass
class TextTable:
    kind: str  # Markdown, LaTeX, fixed-width, delimited, one-column, R vector, mapping
    first_line: int  # 1-based, in the text given
    last_line: int
    names: list[str]
    rows: list[list[str | None]]
    #: a table only if the table rules find counts in it (a printed mapping, one line of
    #: numbers under labels); otherwise text like the rest, not an unrecognised table
    counts_only: bool = False
    #: the text just before a mapping ('Counter(', 'carriers_by_sex:'): whether it counts
    before: str = ""

    @property
    def what(self) -> str:
        lines = f"line {self.first_line}" if self.first_line == self.last_line else (
            f"lines {self.first_line}-{self.last_line}"
        )  # fmt: skip
        return f"the {self.kind} table at {lines}"


def find_tables(text: str, first_line: int = 1) -> Iterator[TextTable]:
    """The tables in ``text``; line numbers count from ``first_line``."""
    if "P>|" in text:  # Stata's 'P>|t|' is one column's name, not three cells
        text = _STATA_P.sub(r"P>\1", text)
    lines = text.splitlines()
    if _BOX_CHARS.search(text) or "+-" in text or "+=" in text:
        lines = [_unbox(line) for line in lines]
        _drop_julia_row_labels(lines)
    if "<" in text:
        _blank_row_numbers(lines)
    _pandas_index_names(lines)
    used = [False] * len(lines)
    tables = itertools.chain(
        _latex(text, lines, used, first_line),
        _r_vectors(text, used, first_line),
        _r_matrices(text, used, first_line),
        _unique_counts(text, used, first_line),
        _mappings(text, used, first_line),
        _tuple_lists(text, used, first_line),
        _sql_inserts(text, lines, used, first_line),
        _yaml_records(text, lines, used, first_line),
        _yaml_mappings(lines, used, first_line),
        _sas_crosstabs(lines, used, first_line),
        _markdown(lines, used, first_line),
        _table_one(lines, used, first_line),
        _blocks(lines, used, first_line),
    )
    if not printed_regression(text):
        yield from tables
        return
    for table in tables:
        if len(table.rows) <= _MAX_REGRESSION_ROWS and _regression_part(table):
            # a model's printed summary: checked for its counts (Observations), its degrees
            # of freedom and individual-level data, not an unrecognised table
            table.counts_only = True
        yield table


#: a line of a printed regression table (stargazer, esttab, modelsummary, texreg) that gives
#: the number of observations: 'Observations  4,812', 'Num.Obs. & 812', 'N  4812'
_OBSERVATIONS_LABEL = r"(?:Observations|Num\.\s?Obs\.|No\.\s?(?:of\s)?obs(?:ervations)?|N)"
#: a line of its fit statistics: 'R2', 'R$^{2}$', 'Adjusted R2', 'Log Likelihood', 'AIC'
_FIT_LABEL = (
    r"(?:(?:Adj(?:usted|\.)?\s|Pseudo\s|Within\s)?R(?:2|\$\^\{2\}\$|-?squared|²)|"
    r"Log\sLikelihood|Akaike\sInf\.\sCrit\.|AIC|BIC|Residual\sStd\.\sError|F\sStatistic)"
)
_REGRESSION_LINE = re.compile(
    rf"(?im)^[ \t|]*(?:{_OBSERVATIONS_LABEL}[ \t&|:=]+[\d,]+|{_FIT_LABEL}\b)"
)
#: a coefficient with significance stars ('0.082***', '0.082$^{***}$') or a standard error
#: or t statistic in parentheses under it ('(0.021)')
_COEFFICIENT_CELL = re.compile(r"^-?[\d.]+(?:\*+|\^\{?\*+\}?)$|^\(-?[\d.]+\)$")
#: rows of a printed regression table checked as one (a model of more terms is a table)
_MAX_REGRESSION_ROWS = 60


def printed_regression(text: str) -> bool:
    """Whether ``text`` holds a printed regression table: a line of observations and a line of
    fit statistics ('Observations 4,812' and 'R2 0.031')."""
    found = {
        m.group(0).strip(" \t|").split()[0].lower()[:3] for m in _REGRESSION_LINE.finditer(text)
    }
    return len(found) >= 2 and bool(found & {"obs", "num", "no.", "n"})


def _regression_part(table: TextTable) -> bool:
    """A table of a printed regression table: a row of observations or fit statistics, or a
    coefficient with stars or in parentheses."""
    for row in [table.names, *table.rows]:
        cells = [c.strip() for c in row if c and c.strip()]
        if not cells:
            continue
        if _REGRESSION_LINE.match(" ".join(cells)):
            return True
        if any(_COEFFICIENT_CELL.match(c.replace("$", "")) for c in cells):
            return True
    return False


#: box-drawing characters as polars, rich, tabulate, Julia and PrettyTable draw tables: the
#: vertical ones are read as '|', the horizontal ones as '-', corners and joints as '|'
_BOX = str.maketrans(
    {**dict.fromkeys("│┃┆┇┊┋║╎╏", "|"), **dict.fromkeys("─━═╌╍┄┅┈┉", "-"),
     **dict.fromkeys("┌┐└┘┏┓┗┛┍┑┕┙┎┒┖┚╒╕╘╛╓╖╙╜╔╗╚╝├┤┝┥┠┨┣┫╞╡╟╢╠╣┬┴┯┷┰┸┳┻╤╧╥╨╦╩┼┿╂╋╪╫╬"
                     "┡┩┢┪╇╈╃╄╅╆╀╁", "|")}
)  # fmt: skip
_BOX_CHARS = re.compile("[\u2500-\u257f]")
#: PrettyTable's and tabulate's ASCII rules: '+-----+-----+'
_PLUS_RULE = re.compile(r"^\s*\+(?:[-=]+\+)+\s*$")
#: a row of column types under a header: tibble's and data.table's '<chr> <int>'
_TYPE_LINE = re.compile(r"^\s*(?:<[\w.]+>\s*)+$")
#: a polars column type in the row under its header: 'str', 'i64', 'datetime[μs]'
_TYPE_CELL = re.compile(
    r"^(?:str|bool|date|time|cat|null|object|[iuf](?:8|16|32|64)|"
    r"(?:datetime|duration|list|decimal|array|enum)\[.*\])$"
)


#: a row's number as tibble ('1 ') and data.table ('1: ') print it
_ROW_NUMBER = re.compile(r"^\s*\d+:?(?=\s)")


def _blank_row_numbers(lines: list[str]) -> None:
    """Blank out the row numbers under a line of column types (tibble, data.table), so they
    are not read as a column of counts."""
    for i, line in enumerate(lines):
        if _TYPE_LINE.match(line):
            j = i + 1
            while j < len(lines) and (m := _ROW_NUMBER.match(lines[j])):
                lines[j] = " " * m.end() + lines[j][m.end() :]
                j += 1


_STATA_P = re.compile(r"P>\|([tz])\|")
#: the header of a Julia DataFrame, after unboxing: ' Row | region  n'
_JULIA_HEADER = re.compile(r"^\s*Row\s*\|")
#: a Julia column type: 'String', 'Int64', 'Float64?', 'String15', 'Union{Missing, Int64}', 'Cat…'
_JULIA_TYPE = re.compile(r"^(?:Union\{.*\}|[A-Z][\w.]*(?:\{[^}]*\})?[?…]?)$")
#: what Julia prints for rows left out of a long table
_JULIA_ELLIPSIS = re.compile(r"^[\s⋮]*$")


_ONE_WORD = re.compile(r"^[A-Za-z_][\w.]*[ \t]*$")


def _pandas_index_names(lines: list[str]) -> None:
    """pandas prints a named index's name on a line of its own under the header
    ('event_at' under 'removed  observed ...'): the name is put into the header line, over
    the index's column, and its own line made a rule line, so the block keeps its numbering."""
    for i in range(1, len(lines) - 1):
        if not _ONE_WORD.match(lines[i]):
            continue
        name = lines[i].rstrip()
        header, below = lines[i - 1], lines[i + 1]
        words = header.split()
        if (
            len(words) >= 2
            and header[: len(name) + 1].isspace()
            and len(below.split()) == len(words) + 1
            and sum(map(_numeric, words)) < 0.5 * len(words)  # 'count mean ... 25%'
        ):
            lines[i - 1] = name + header[len(name) :]
            lines[i] = "-" * len(name)


def _drop_julia_row_labels(lines: list[str]) -> None:
    """Julia's DataFrame print draws one bar, after its row numbers ('Row'), and a row of
    column types under the header: the row numbers are blanked (they are not counts), and the
    types and the '⋮' lines of a shortened table are left out as rule lines."""
    for i, line in enumerate(lines):
        if not (m := _JULIA_HEADER.match(line)):
            continue
        cut = m.end()
        j = i
        while j < len(lines) and lines[j][cut - 1 : cut] == "|":
            rest = lines[j][cut:]
            typed = j == i + 1 and rest.split() and all(map(_JULIA_TYPE.match, rest.split()))
            lines[j] = "-" * cut if typed or _JULIA_ELLIPSIS.match(rest) else " " * cut + rest
            j += 1


def _unbox(line: str) -> str:
    if _BOX_CHARS.search(line):
        return line.translate(_BOX)
    if _PLUS_RULE.match(line):
        return line.replace("+", "|")
    return line


def _latex(text: str, lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    if "\\begin{" not in text:
        return
    line, counted = 0, 0  # line numbers counted on from the table before
    for first, last, body in _latex_environments(text):
        start = line = line + text.count("\n", counted, first)
        end = line = line + text.count("\n", first, last)
        counted = last
        for k in range(start, min(end + 1, len(used))):
            used[k] = True
        body = _LATEX_RULES.sub("", body)
        rows = []
        # rows end at '\\', with or without a space after it ('\\[-1.8ex]', stargazer's)
        for raw in re.split(r"\\\\(?:\[[^\]\n]*\])?", body):
            raw = raw.strip()
            if not raw:
                continue
            cells = [_latex_cell(c) for c in re.split(r"(?<!\\)&", raw)]
            if any(cells):
                rows.append(cells)
        if len(rows) >= 1:
            yield _with_header("LaTeX", base + start, base + end, rows)


def _latex_environments(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, body) of each LaTeX table environment, found by a walk from each
    '\\begin' to its '\\end': one never closed is passed over (a lazy pattern went through the
    rest of the text for each, so a text of unclosed ones took time growing with its square)."""
    at, unclosed = 0, set()
    while (m := _LATEX_BEGIN.search(text, at)) is not None:
        closing = "\\end{" + m.group(1) + "}"
        end = -1 if m.group(1) in unclosed else text.find(closing, m.end())
        if end < 0:
            unclosed.add(m.group(1))
            at = m.end()
            continue
        yield m.start(), end + len(closing), text[m.end() : end]
        at = end + len(closing)


def _latex_cell(cell: str) -> str:
    previous = None
    while previous != cell:
        previous, cell = cell, _LATEX_WRAP.sub(r"\2", cell)
    cell = cell.replace("$", "").replace("\\%", "%").replace("\\_", "_").replace("\\&", "&")
    cell = re.sub(r"\\(textless|lt)\b\s*", "<", cell)
    cell = re.sub(r"\\[a-zA-Z]+\s*", "", cell).replace("{", "").replace("}", "")
    return cell.strip()


#: the statistics SAS PROC FREQ stacks in each cell of a crosstab, one line each
_SAS_STATISTIC = re.compile(
    r"^\s*(Frequency|Percent|Row Pct|Col Pct|Expected|Deviation|Cell Chi-Square|Tot Pct)\s*\|"
)


def _sas_crosstabs(lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    """SAS PROC FREQ's crosstabs: under 'Frequency|', 'Percent |' ... (the last line of them
    carries the column labels), each row's statistics on as many lines, the first its counts;
    the table of those first lines and the Total line."""
    i = 0
    while i < len(lines):
        if (
            used[i]
            or not lines[i].strip().startswith("Frequency")
            or not _SAS_STATISTIC.match(lines[i])
        ):
            i += 1
            continue
        start, k = i, 1
        while start + k < len(lines) and _SAS_STATISTIC.match(lines[start + k]):
            k += 1
        labels = [c.strip() for c in lines[start + k - 1].split("|")[1:]]
        rows: list[list[str]] = []
        j = start + k
        while j < len(lines):
            line = lines[j]
            if _RULE_LINE.match(line.replace("|", "")) and "-" in line:
                j += 1
                continue
            cells = [c.strip() for c in line.split("|")]
            if len(cells) >= 2 and cells[0]:
                rows.append([cells[0], *cells[1:]])
                j += k  # the row's other statistics
                continue
            if line.strip().startswith("Total") and "|" not in line:
                rows.append(line.split())
                j += 2 if j + 1 < len(lines) and lines[j + 1].strip() else 1
            break
        if not rows:
            i = start + k
            continue
        for m in range(start, min(j, len(lines))):
            used[m] = True
        width = 1 + len(labels)
        rows = [(r + [""] * width)[:width] for r in rows]
        yield TextTable("SAS crosstab", base + start, base + j - 1, ["", *labels], rows)
        i = j


def _markdown(lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    i = 0
    while i < len(lines):
        if used[i] or not lines[i].strip().startswith("|"):
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].strip().startswith("|") and not used[j]:
            j += 1
        block = [ln.strip() for ln in lines[i:j]]
        if j - i < 2:
            i = j  # one line is no table (Stata's '     |   case' over its columns)
            continue
        for k in range(i, j):
            used[k] = True
        rows = [_md_cells(ln) for ln in block if not _MD_RULE.match(ln)]
        if len(rows) > 2 and all(_TYPE_CELL.match(c) for c in rows[1]):
            del rows[1]  # polars' column types under its header
        has_rule = any(_MD_RULE.match(ln) for ln in block[1:2])
        if rows:
            if has_rule:
                yield TextTable("Markdown", base + i, base + j - 1, _names(rows[0]), rows[1:])
            else:
                yield _with_header("Markdown", base + i, base + j - 1, rows)
        i = j


#: the title over a tableone print: R's 'Stratified by case', Python's 'Grouped by case'
_TABLE_ONE_TITLE = re.compile(r"^\s*(?:Stratified|Grouped) by\s+(\S.*?)\s*$")
#: a cell of a printed table: words or numbers with single spaces between ('3 ( 1.0)')
_SPACED_CELL = re.compile(r"\S+(?: \S+)*")


def _table_one(lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    """A "Table 1" as R's and Python's tableone print it: a title naming the grouping, a
    header of the groups, then rows of a label and cells such as '600 (50.0)' or '50.1
    (10.2)' under the groups, cells apart by two spaces or more. A group's number is named
    with the grouping ('case 1'), which says it is a label."""
    for i, line in enumerate(lines[:-2]):
        title = _TABLE_ONE_TITLE.match(line) if "by" in line and not used[i] else None
        if title is None:
            continue
        heads = [(m.start(), m.end()) for m in _SPACED_CELL.finditer(lines[i + 1])]
        if not heads:
            continue
        names = [lines[i + 1][s:e] for s, e in heads]
        names = [f"{title.group(1)} {n}" if _numeric(n) else n for n in names]
        rows: list[list[str | None]] = []
        j = i + 2
        while j < len(lines) and lines[j].strip() and not used[j]:
            row: list[str | None] = [None] * (len(heads) + 1)
            label = []
            for m in _SPACED_CELL.finditer(lines[j]):
                if m.end() <= heads[0][0]:
                    label.append(m.group())
                    continue
                k = max(range(len(heads)), key=lambda h: (
                    min(m.end(), heads[h][1]) - max(m.start(), heads[h][0]),
                    -abs(m.start() + m.end() - heads[h][0] - heads[h][1])))  # fmt: skip
                row[k + 1] = m.group() if row[k + 1] is None else f"{row[k + 1]} {m.group()}"
            row[0] = " ".join(label)
            rows.append(row)
            j += 1
        if not rows:
            continue
        for k in range(i, j):
            used[k] = True
        yield TextTable("Table 1", base + i, base + j - 1, ["label", *names], rows)


def _md_cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]
    return [_MD_EMPHASIS.sub(r"\2", c) if c[:1] in "*_`" else c for c in cells]


#: a cell in bold, italics or code: '**3**', '_3_', '`3`'
_MD_EMPHASIS = re.compile(r"^(\*\*|__|\*|_|`)(.+)\1$")


_RULE_LINE = re.compile(r"^\s*[-=_+~*]{3,}[-=_+~* ]*$")


def _blocks(lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    """Runs of lines separated by blank ones, tried as delimited, fixed-width or one-column
    tables. Rule lines ('-----', '=====') are left out without ending a run."""
    i = 0
    while i < len(lines):
        if used[i] or not lines[i].strip() or _left_out(lines[i]):
            i += 1
            continue
        j = i
        kept: list[int] = []
        while j < len(lines) and lines[j].strip() and not used[j] and j - i < _MAX_BLOCK_LINES:
            if not _left_out(lines[j]):
                kept.append(j)
            j += 1
            if len(kept) == 1 and j == kept[0] + 1 and _header_apart(lines, j - 1):
                j += 1  # the blank line between a header and its rows
            elif (
                len(kept) >= 2
                and j + 1 < len(lines)
                and not lines[j].strip()
                and (_same_columns(lines[kept[-1]], lines[j + 1]))
            ):
                j += 1  # a blank line between rows (SAS's PROC MEANS between class levels)
        if log_records([lines[k] for k in kept]):
            i = j  # log records ('1733560000 INFO chunk 7 done'): sentences, not a table
            continue
        for table in _block([lines[k] for k in kept], 0):
            # line numbers back in the text's numbering (rule lines were left out)
            table.first_line = base + kept[table.first_line]
            table.last_line = base + kept[table.last_line]
            yield table
        i = j


def _same_columns(row: str, other: str) -> bool:
    """Two rows of one fixed-width table: as many fields, numbers among them, each field
    ending in the same column (numbers are aligned right)."""
    ends = [m.end() for m in re.finditer(r"\S+", row)]
    return (
        len(ends) >= 2
        and ends == [m.end() for m in re.finditer(r"\S+", other)]
        and any(map(_numeric, row.split()))
        and any(map(_numeric, other.split()))
    )


def _header_apart(lines: list[str], i: int) -> bool:
    """A header of words, a blank line, then rows of a label and a number under each word
    (scikit-learn's classification_report)."""
    if i + 2 >= len(lines) or lines[i + 1].strip():
        return False
    words, cells = lines[i].split(), lines[i + 2].split()
    return (
        len(words) >= 2
        and not any(map(_numeric, words))
        and len(cells) == len(words) + 1
        and all(map(_numeric, cells[1:]))
    )


def _left_out(line: str) -> bool:
    """A rule line, or a line of column types: not part of a table's rows."""
    return bool(_RULE_LINE.match(line) or _TYPE_LINE.match(line))


def _block(block: list[str], first: int) -> Iterator[TextTable]:
    """Tables in one block of non-blank lines: the longest runs that read as tables."""
    arrays = _array_runs(block)
    refused: dict[str, int] = {}
    k = 0
    while k < len(block):
        found = _table_at(block, k, first, arrays, refused)
        if found is None:
            k += 1
            continue
        table, end = found
        yield table
        k = end


def _table_at(
    block: list[str], k: int, first: int, arrays: list[tuple[int, bool]], refused: dict[str, int]
) -> tuple[TextTable, int] | None:
    if arrays[k][1] and _ARRAY_OPEN.match(block[k]):
        # 'array([-0.15,  0.48,' wrapped over lines: NumPy's commas are no CSV's
        found = _array_run(block, k, first, arrays)
        if found is not None:
            return found
    return (
        _delimited_run(block, k, first)
        or _one_column_run(block, k, first)
        or _array_run(block, k, first, arrays)
        or _fixed_width_run(block, k, first, refused)
        or _counted_rows_run(block, k, first)
    )


def _numeric(token: str) -> bool:
    return bool(_NUMBER.match(token.strip().strip("()")))


def _delimited_run(block: list[str], k: int, first: int) -> tuple[TextTable, int] | None:
    for sep in ("\t", ",", ";", "|"):
        if sep not in block[k]:
            continue
        width = _fields(block[k], sep)
        if width < 2:
            continue
        end = k + 1
        # tab-separated 'label value' rows under wider ones (GCTA's .hsq: 'logL\t1201.3' under
        # 'V(G)\t0.051\t0.012')
        while end < len(block) and (
            (n := _fields(block[end], sep)) == width or (sep == "\t" and n == 2 < width)
        ):
            end += 1
        rows = [next(csv.reader([ln], delimiter=sep)) for ln in block[k:end]]
        if sep == "|":
            rows = _split_runs(rows)
        data = rows[1:] if not all(_numeric(c) for c in rows[0] if c.strip()) else rows
        if end - k >= 3 and data and all(any(_numeric(c) for c in r) for r in data):
            return _with_header("delimited", first + k, first + end - 1, rows), end
    return None


def _split_runs(rows: list[list[str]]) -> list[list[str]]:
    """Cells between '|' that hold several space-separated values on every row, as Stata's
    ``tab`` prints the columns of one variable ('|    140      3 |'), split into columns."""
    width = min(len(r) for r in rows)
    counts = [{len(r[j].split()) for r in rows[1:]} for j in range(width)]
    split = {j: min(c) for j, c in enumerate(counts) if len(c) == 1 and min(c) > 1 and all(
        all(_numeric(t) for t in r[j].split()) for r in rows[1:])}  # fmt: skip
    if not split:
        return rows
    head = [part for j, cell in enumerate(rows[0])
            for part in (_header_parts(cell, split[j]) if j in split else [cell])]  # fmt: skip
    return [head] + [[part for j, cell in enumerate(r)
                      for part in (cell.split() if j in split else [cell])]
                     for r in rows[1:]]  # fmt: skip


def _header_parts(cell: str, n: int) -> list[str]:
    """The ``n`` names over a cell of ``n`` values: split at spaces, or at runs of two (Stata's
    'Coefficient  Std. err.      t    P>t     [95% conf. interval]', the interval's name over
    both of its bounds)."""
    parts = cell.split()
    if len(parts) == n:
        return parts
    parts = re.split(r"\s{2,}", cell.strip())
    if len(parts) == n - 1 and "interval" in parts[-1].lower():
        parts[-1:] = [f"{parts[-1]} lower", f"{parts[-1]} upper"]
    return parts[:n] + [""] * (n - len(parts))


def _fields(line: str, sep: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=sep)))
    except (csv.Error, StopIteration):
        return 0


def _one_column_run(block: list[str], k: int, first: int) -> tuple[TextTable, int] | None:
    end = k
    while end < len(block) and _numeric(block[end].strip()) and len(block[end].split()) == 1:
        end += 1
    if end - k < 10:
        return None
    header = k > 0 and len(block[k - 1].split()) == 1 and not _numeric(block[k - 1].strip())
    names = [block[k - 1].strip()] if header else ["value"]
    rows = [[ln.strip()] for ln in block[k:end]]
    return TextTable("one-column", first + k, first + end - 1, names, rows), end


_ARRAY_NUMBER = r"(?:[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?|nan|NA|\.\.\.)"
#: a line of an array as NumPy ('[[0 1 2]', ' [1. 0.5]]'), Python ('[[3, 2], [1, 40]]') or R
#: ('[7]  0.52 -0.79', '[3,]    0    1') prints it, or a bare line of numbers
#: what may wrap an array's lines: a name it is given ('scores = [...]', 'x <- '), NumPy's and
#: PyTorch's repr ('array([...], dtype=float32)', 'tensor([...])'), a statement's ';'
_ARRAY_PREFIX = (
    r"(?:[A-Za-z_][\w.]{0,80}\s*(?:=|<-)\s*)?(?:(?:np\.|numpy\.|torch\.)?(?:array|tensor)\()?"
)
_ARRAY_SUFFIX = r"(?:,\s*dtype=[\w.]+)?\)?;?"
_ARRAY_OPEN = re.compile(rf"^\s*{_ARRAY_PREFIX}\[")
#: an array that starts with its name or its type ('scores = [', 'array([', 'tensor(['): a
#: run of array lines is read from each of these, and from its first line, only
_NAMED_ARRAY = re.compile(
    r"^\s*(?:[A-Za-z_][\w.]{0,80}\s*(?:=|<-)\s*|(?:np\.|numpy\.|torch\.)?(?:array|tensor)\()"
)
_ARRAY_WRAPPING = re.compile(rf"^\s*{_ARRAY_PREFIX}|{_ARRAY_SUFFIX}\s*$")
_ARRAY_LINE = re.compile(
    # possessive runs (*+, ++): a run of spaces or digits is never given back to be cut
    # another way ('1', 4,000 spaces and a word took 55 s when the runs could be shared)
    r"^\s*+"
    + _ARRAY_PREFIX
    + r"(?:\[\d+,?\]|\[+)?[\s,]*+(?:"
    + _ARRAY_NUMBER
    + r"(?:[\s,]|\][\s,]*+\[)++)*"  # rows in brackets on one line: '[[3, 2], [1, 40]]'
    + _ARRAY_NUMBER
    + r"[\s,]*+\]*+(?:\s*+,\s*+dtype=[\w.]++)?[\s,]*+\)?;?\s*+$"  # ', dtype=int8)'
)
_R_INDEX = re.compile(r"^\s*\[\d+,?\]")
#: the fewest numbers an array printed in text must hold to be read as a table, and a vector
#: of whole numbers (labels such as chromosomes, unless it is as long as a list of people)
_ARRAY_MIN_NUMBERS = 20
_VECTOR_MIN_WHOLE = 100
_WHOLE = re.compile(r"^[-+]?\d+$")


def _array_runs(block: list[str]) -> list[tuple[int, bool]]:
    """For each line of ``block``: where the run of array lines from it ends, and whether a
    bracket is in that run. One pass from the end: scanning each line's run again from every
    line above it made ragged lines of numbers, which no reader takes, quadratic (4,000 such
    lines took 10 s)."""
    runs = [(len(block), False)] * (len(block) + 1)
    for i in range(len(block) - 1, -1, -1):
        if _ARRAY_LINE.match(block[i]):
            end, bracketed = runs[i + 1]
            runs[i] = (end, bracketed or "[" in block[i] or "]" in block[i])
        else:
            runs[i] = (i, False)
    return runs


def _array_run(
    block: list[str], k: int, first: int, arrays: list[tuple[int, bool]]
) -> tuple[TextTable, int] | None:
    """Numbers printed as an array: NumPy's rows in brackets (a matrix), R's print of a
    vector or matrix ('[1]' and '[1,]' before each line), or one long line of numbers (a
    vector written with ' '.join). Lines of numbers without brackets are the fixed-width
    reader's. ``arrays``: :func:`_array_runs` of the block."""
    end, bracketed = arrays[k]
    if end <= k or (not bracketed and end - k > 1):
        return None  # told before the run's lines are read: each line below asks again
    if k > 0 and arrays[k - 1][0] == end and not _NAMED_ARRAY.match(block[k]):
        return None  # inside a run read from its start (or from an 'array(['): once each
    lines = [_ARRAY_WRAPPING.sub("", ln) for ln in block[k:end]]
    numbers = [t for ln in lines for t in _array_tokens(_R_INDEX.sub("", ln))]
    # fewer numbers are a table only as a matrix of whole numbers in NumPy's or Python's
    # nested brackets: a contingency table ('[[ 3  2]\n [ 1 40]]', a confusion matrix)
    few = len(numbers) < _ARRAY_MIN_NUMBERS
    if few and not (lines[0].lstrip().startswith("[[") and all(map(_WHOLE.match, numbers))):
        return None
    rows: list[list[str | None]]
    if all(_R_INDEX.match(ln) and "," in _R_INDEX.match(ln).group() for ln in lines):
        rows = [list(_array_tokens(_R_INDEX.sub("", ln))) for ln in lines]  # R's matrix
    elif not any(_R_INDEX.match(ln) for ln in lines) and "]" in "".join(lines):
        text = " ".join(lines)  # NumPy: a row per innermost brackets, wrapped or not
        rows = [list(_array_tokens(r)) for r in re.findall(r"\[([^\[\]]*)\]", text)]
    else:
        rows = [[t] for t in numbers]  # a vector
    widths = {len(r) for r in rows}
    if len(widths) != 1 or len(rows) < 2:
        rows = [[t] for t in numbers]
    width = len(rows[0])
    if few and width < 2:
        return None
    if width == 1 and len(rows) < _VECTOR_MIN_WHOLE and all(_WHOLE.match(r[0]) for r in rows):
        return None  # a short vector of whole numbers ('[1]  1  2 ... 22': chromosomes)
    names = ["value"] if width == 1 else [str(j + 1) for j in range(width)]
    table = TextTable("array", first + k, first + end - 1, names, rows, counts_only=few)
    return table, end


def _array_tokens(text: str) -> Iterator[str]:
    for t in re.split(r"[\s,\[\]]+", text):
        if t and t != "...":
            yield t


#: an R vector as dput() and deparse() write it: 'age = c(40L, 51L, NA)', 'c("a", "b")'
_R_VECTOR = re.compile(r"\bc\(([^()]*)\)")
#: the name before a vector, looked for in the 100 characters before it (a pattern that tried
#: a name at every position of a long word would take time growing with its square)
_R_NAME = re.compile(r'(`[^`\n]{1,80}`|"[^"\n]{1,80}"|[A-Za-z.][\w.]{0,80})\s*=\s*$')
_R_ELEMENT = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^,]+?)\s*(?:,|$)')


#: counts typed into an R test, as its 'data:' line prints them again:
#: 'fisher.test(matrix(c(3, 117, 12, 98), nrow = 2))', 'prop.test(c(3, 40), c(120, 110))'
_R_MATRIX = re.compile(
    r"\bmatrix\(\s*c\(((?:\s*\d+\s*,)+\s*\d+\s*)\)|(?m:^data:[^\n]*?\bc\(((?:\s*\d+\s*,)+\s*\d+\s*)\))"
)


def _r_matrices(text: str, used: list[bool], base: int) -> Iterator[TextTable]:
    """Whole numbers written into R's ``matrix(c(...))`` or into a test's ``data:`` line, a
    table only if the rules find counts in it."""
    if "matrix(" not in text and "data:" not in text:
        return
    for m in _R_MATRIX.finditer(text):
        line = base + text.count("\n", 0, m.start())
        rows: list[list[str | None]] = [[v.strip()] for v in (m.group(1) or m.group(2)).split(",")]
        yield TextTable("R matrix", line, line, ["value"], rows, counts_only=True)


def _r_vectors(text: str, used: list[bool], base: int) -> Iterator[TextTable]:
    """R vectors of at least 20 elements (a data frame as ``dput()`` writes it:
    ``structure(list(age = c(40L, 51L, ...), ldl = c(...)), ...)``), wrapped over lines or
    not: the vectors of one length in a row are the columns of one table."""
    if "c(" not in text:
        return
    found: list[tuple[int, int, str, list[str]]] = []
    for m in _R_VECTOR.finditer(text):
        values = [v.strip('"') if v.startswith('"') else v.rstrip("L")
                  for v in _R_ELEMENT.findall(m.group(1).replace("\n", " "))]  # fmt: skip
        if len(values) >= _ARRAY_MIN_NUMBERS:
            named = _R_NAME.search(text, max(0, m.start() - 100), m.start())
            name = named.group(1).strip('`"') if named else "value"
            found.append((m.start(), m.end(), name, values))
    k = 0
    while k < len(found):
        end = k + 1
        while end < len(found) and len(found[end][3]) == len(found[k][3]):
            end += 1
        group = found[k:end]
        first = base + text.count("\n", 0, group[0][0])
        last = base + text.count("\n", 0, group[-1][1])
        for line in range(first - base, last - base + 1):
            used[line] = True
        names = [name for _, _, name, _ in group]
        rows = [list(row) for row in zip(*(values for *_, values in group), strict=True)]
        yield TextTable("R vector", first, last, names, rows)
        k = end


#: NumPy's print of np.unique(..., return_counts=True): the values, then how many of each
_UNIQUE_COUNTS = re.compile(
    r"\(array\(\[([^\[\]()]{1,65536})\](?:,\s*dtype=[\w'\"<>]+)?\),\s*"
    r"array\(\[([\d,\s]{1,65536})\](?:,\s*dtype=\w+)?\)\)"
)


def _unique_counts(text: str, used: list[bool], base: int) -> Iterator[TextTable]:
    """``(array([0, 1, 2]), array([250, 45, 3]))``: a table of values and their counts."""
    if "array([" not in text:
        return
    for m in _UNIQUE_COUNTS.finditer(text):
        values = [v.strip("'\"") for v in _array_tokens(m.group(1))]
        counts = list(_array_tokens(m.group(2)))
        if len(values) != len(counts) or not counts:
            continue
        first = base + text.count("\n", 0, m.start())
        last = base + text.count("\n", 0, m.end())
        for line in range(first - base, last - base + 1):
            used[line] = True
        rows: list[list[str | None]] = [[v, c] for v, c in zip(values, counts, strict=True)]
        yield TextTable("array", first, last, ["label", "count"], rows)


#: a mapping of names to numbers as Python, JSON or YAML's flow style print it:
#: "{'0/0': 1205, '0/1': 450, '1/1': 2}", 'Counter({"F": 3, "M": 117})', '{F: 3, M: 117}'
_MAPPING = re.compile(r"\{([^{}]{1,65536})\}")
_MAPPING_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|None|null|NA"
_MAPPING_NONE = frozenset({"nan", "NaN", "None", "null", "NA"})
_MAPPING_ENTRY = re.compile(
    r"""\s*(?:'([^'\n]{1,80})'|"([^"\n]{1,80})"|([\w.]{1,80}))\s*:\s*"""
    rf"({_MAPPING_NUMBER})\s*(?:,\s*|$)"
)


def _mappings(text: str, used: list[bool], base: int) -> Iterator[TextTable]:
    """Mappings of two or more names to numbers, printed from Python (a dict, a Counter,
    ``value_counts().to_dict()``), JSON or YAML: each is a table of one row, its names the
    columns; mappings in a row with the same names (a log of them) are one table."""
    if "{" not in text:
        return
    line, at = base, 0
    group: TextTable | None = None
    for m in _MAPPING.finditer(text):
        body = m.group(1)
        entries = []
        pos = 0
        while pos < len(body):
            e = _MAPPING_ENTRY.match(body, pos)
            if e is None or e.end() == pos:
                break
            entries.append((e.group(1) or e.group(2) or e.group(3), e.group(4)))
            pos = e.end()
        if pos < len(body) or len(entries) < 2:
            continue
        line += text.count("\n", at, m.start())
        last = line + body.count("\n")
        at = m.start()
        for k in range(line - base, last - base + 1):
            used[k] = True
        before = text[max(0, m.start() - 80) : m.start()]
        table = _mapping_table("mapping", line, last, entries, before)
        if group is not None and group.names == table.names and group.last_line >= line - 1:
            group.rows += table.rows
            group.last_line = last
            continue
        if group is not None:
            yield group
        group = table
    if group is not None:
        yield group


#: a list of tuples as Python prints it: Counter.most_common()'s "[('M', 117), ('F', 3)]", or
#: rows "[('rs123', 'A', 2), ...]"
_TUPLE_LIST = re.compile(
    r"\[\s*(\([^()\[\]\n]{1,400}\)(?:\s*,\s*\([^()\[\]\n]{1,400}\)){1,100000})\s*,?\s*\]"
)
_TUPLE = re.compile(r"\(([^()]*)\)")
_TUPLE_LIST_START = re.compile(r"\[\s*\(")


def _tuple_lists(text: str, used: list[bool], base: int) -> Iterator[TextTable]:
    """Lists of two or more tuples of one width: pairs of a name and a number are a mapping
    (``Counter.most_common()``), wider tuples the rows of a table; either is a table only if
    the table rules find counts in it."""
    if "(" not in text or not _TUPLE_LIST_START.search(text):
        return
    for m in _TUPLE_LIST.finditer(text):
        rows = [
            [v[1:-1] if v[:1] in "'\"" else v for v in _R_ELEMENT.findall(t.group(1))]
            for t in _TUPLE.finditer(m.group(1))
        ]
        widths = {len(r) for r in rows}
        if len(widths) != 1 or widths == {1}:
            continue
        first = base + text.count("\n", 0, m.start())
        last = base + text.count("\n", 0, m.end())
        for line in range(first - base, last - base + 1):
            used[line] = True
        before = text[max(0, m.start() - 80) : m.start()]
        if widths == {2} and all(re.fullmatch(_MAPPING_NUMBER, v) for _, v in rows):
            yield _mapping_table("mapping", first, last, [(k, v) for k, v in rows], before)
            continue
        names = [f"column {j + 1}" for j in range(len(rows[0]))]
        yield TextTable("tuple list", first, last, names, list(rows), counts_only=True)


#: a YAML mapping's entry of a number, one a line: '  F: 3', '  "1/1": 2'
_YAML_ENTRY = re.compile(
    r"""^([ \t]*)(?:'([^'\n]{1,80})'|"([^"\n]{1,80})"|([\w./<>+-]{1,80})):[ \t]+"""
    rf"({_MAPPING_NUMBER})[ \t]*$"
)


def _mapping_table(kind: str, first: int, last: int, entries: list[tuple[str, str]],
                   before: str) -> TextTable:  # fmt: skip
    """A mapping's (name, number) entries as a table of one row, its names the columns."""
    names = [name for name, _ in entries]
    row: list[str | None] = [None if v in _MAPPING_NONE else v for _, v in entries]
    return TextTable(kind, first, last, names, [row], counts_only=True, before=before)


def _yaml_mappings(lines: list[str], used: list[bool], base: int) -> Iterator[TextTable]:
    """Two or more lines of 'name: number' at one indent, as YAML writes a mapping: a table
    of one row, as a printed mapping is (its parent's name, the line above, says what it
    counts)."""
    i = 0
    while i < len(lines):
        m = _YAML_ENTRY.match(lines[i]) if not used[i] and ":" in lines[i] else None
        if m is None:
            i += 1
            continue
        indent = m.group(1)
        entries = []
        j = i
        while j < len(lines) and not used[j] and (e := _YAML_ENTRY.match(lines[j])):
            if e.group(1) != indent:
                break
            entries.append((e.group(2) or e.group(3) or e.group(4), e.group(5)))
            j += 1
        if len(entries) >= 2:
            for k in range(i, j):
                used[k] = True
            before = lines[i - 1] if i > 0 else ""
            yield _mapping_table("YAML", base + i, base + j - 1, entries, before)
        i = max(j, i + 1)


#: a YAML sequence's item of mappings, and a further entry of the item: '- age: 54', '  ldl: 3.1'
_YAML_KEY = (
    r"""(?:'([^'\n]{1,80})'|"([^"\n]{1,80})"|([\w./<>+-]{1,80})):[ \t]+([^\s#][^\n#]*?)[ \t]*$"""
)
_YAML_ITEM = re.compile(r"^([ \t]*-[ \t]+)" + _YAML_KEY)
_YAML_FIELD = re.compile(r"^([ \t]*)" + _YAML_KEY)


def _yaml_records(text: str, lines: list[str], used: list[bool], base: int
                  ) -> Iterator[TextTable]:  # fmt: skip
    """A YAML sequence of mappings ('- age: 54' then '  ldl: 3.1' under it), as yaml.dump of a
    list of dicts writes records: one table, an item a row and a key a column."""
    i = 0
    for start in _record_starts(text):
        if start < i:
            continue  # inside the run before
        i = start
        m = _YAML_ITEM.match(lines[i]) if i < len(lines) and not used[i] else None
        if m is None:
            continue
        dash, indent = m.group(1), " " * len(m.group(1).expandtabs())
        records: list[dict[str, str]] = []
        j = i
        while j < len(lines) and (item := _YAML_ITEM.match(lines[j])) and item.group(1) == dash:
            record = {_yaml_key(item): item.group(5).strip("'\"")}
            j += 1
            while j < len(lines) and (f := _YAML_FIELD.match(lines[j])) and f.group(1) == indent:
                record[_yaml_key(f)] = f.group(5).strip("'\"")
                j += 1
            records.append(record)
        names = list(dict.fromkeys(k for r in records for k in r))
        rows: list[list[str | None]] = [[r.get(k) for k in names] for r in records]
        numbers = any(all(v is not None and re.fullmatch(_MAPPING_NUMBER, v) for v in column)
                      for column in zip(*rows, strict=True))  # fmt: skip
        if len(records) >= 2 and all(len(r) >= 2 for r in records) and numbers:
            # (a list of settings, names and paths as a workflow's config has, is no table)
            for k in range(i, j):
                used[k] = True
            yield TextTable("YAML list", base + i, base + j - 1, names, rows)
        i = max(j, i + 1)


#: an SQL dump's row: "INSERT INTO pheno (id, age) VALUES (1, 54), (2, 61);"
_SQL_INSERT = re.compile(
    r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+([\w.`\"\[\]]+)\s*(?:\(([^()]*)\))?\s*VALUES\s*(.+?);?\s*$",
    re.I,
)
_SQL_ROW = re.compile(r"\(([^()]*)\)")
_ANY_INSERT = re.compile(r"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b", re.I)
_RECORD_START = re.compile(
    r"(?m)^[ \t]*-[ \t]+[^\s:]{1,80}:[ \t]+\S[^\n]*\n[ \t]+[^\s:-][^\s:]{0,79}:[ \t]"
)


def _sql_inserts(text: str, lines: list[str], used: list[bool], base: int
                 ) -> Iterator[TextTable]:  # fmt: skip
    """The rows an SQL dump inserts (sqlite3's .dump, pg_dump --inserts, pandas' to_sql
    echoed): the statements into one table in a row are one table."""
    if not _ANY_INSERT.search(text):
        return
    i = 0
    while i < len(lines):
        m = _SQL_INSERT.match(lines[i]) if not used[i] and "INTO" in lines[i].upper() else None
        if m is None:
            i += 1
            continue
        into, columns = m.group(1), m.group(2)
        rows: list[list[str | None]] = []
        j = i
        while j < len(lines) and (n := _SQL_INSERT.match(lines[j])) and n.group(1) == into:
            for values in _SQL_ROW.findall(n.group(3)):
                rows.append([None if v.strip().upper() == "NULL" else v.strip().strip("'\"")
                             for v in values.split(",")])  # fmt: skip
            j += 1
        widths = {len(r) for r in rows}
        if len(widths) == 1:
            width = widths.pop()
            names = [c.strip().strip('`"[]') for c in columns.split(",")] if columns else []
            if len(names) != width:
                names = [f"column {k + 1}" for k in range(width)]
            for k in range(i, j):
                used[k] = True
            yield TextTable("SQL inserts", base + i, base + j - 1, names, rows)
        i = max(j, i + 1)


def _record_starts(text: str) -> list[int]:
    """The lines where a YAML record of two entries or more starts ('- age: 54' and an
    entry under it), found by one pattern over the text rather than line by line."""
    starts, line, at = [], 0, 0
    for m in _RECORD_START.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        starts.append(line)
    return starts


def _yaml_key(m: re.Match) -> str:
    return m.group(2) or m.group(3) or m.group(4)


#: a run of lines this long that the fixed-width reader refused is not read again from every
#: line in it (a long misaligned run, read from each line, took time growing with its square)
_REFUSED_RUN = 20


def _fixed_width_run(
    block: list[str], k: int, first: int, refused: dict[str, int]
) -> tuple[TextTable, int] | None:
    """A header line and at least two lines of fixed-width columns with numbers (three without
    a header). ``refused``: the line before which a long run refused is not read again (kept
    by the caller)."""
    if k < refused.get("fixed-width", -1):
        return None
    found = _fixed_width_at(block, k, first)
    if isinstance(found, int):
        if found - k >= _REFUSED_RUN:
            # a shorter run may read (labels that widen from 'p9' to 'p10' misalign a run,
            # not its end): tried again an eighth of the way on, so each line is read a
            # bounded number of times
            refused["fixed-width"] = k + (found - k) // 8
        return None
    return found


def _fixed_width_at(block: list[str], k: int, first: int) -> tuple[TextTable, int] | int | None:
    """:func:`_fixed_width_run`'s reading, or where the run it refused ends."""

    def data_line(line: str) -> bool:
        tokens = line.split()
        return (
            len(tokens) >= 2
            and any(_numeric(t) for t in tokens[1:])
            and not _KEY_VALUE.search(line)
            and not line.lstrip().startswith((">", "#", "["))
        )

    def header_over(line: str, below: str) -> bool:
        """Mostly words over a line of mostly numbers: a header with a number in it (R's
        survfit summary: 'lower 95% CI')."""
        words, cells = line.split(), below.split()
        return sum(map(_numeric, words)) < 0.5 * len(words) and sum(map(_numeric, cells)) >= (
            0.5 * len(cells)
        )

    if "|" in block[k] and k + 1 < len(block) and _delimited_run(block, k + 1, first):
        return None  # a title over '|'-delimited lines (Stata's '   |   case'): not a header
    start = k
    if not data_line(block[k]) or (
        k + 1 < len(block) and data_line(block[k + 1]) and header_over(block[k], block[k + 1])
    ):
        start = k + 1  # a header line
    end = start
    if end < len(block) and data_line(block[end]):
        # a line whose number of fields differs by more than one ends the run (the run would
        # be refused whole below): a log of tab-separated records with other records between
        # them (bcftools roh's RG lines between its ST lines) is not scanned to its end from
        # every such line, which took minutes for a few megabytes
        fields = len(block[end].split())
        while (end < len(block) and abs(len(block[end].split()) - fields) <= 1
               and data_line(block[end])):  # fmt: skip
            end += 1
    # a run refused without a header line over it is refused from any line in it
    refused_end = end if start == k else None
    # two lines under a header make a table; without one it takes three, as two log lines
    # can line up by chance ('INFO step 2' over 'INFO kept 19873 variants')
    one_row = end - start == 1 and start > k
    if end - start < (2 if start > k else 3) and not one_row:
        return refused_end
    if _options(block, start, end):
        return refused_end
    counts = {len(ln.split()) for ln in block[start:end]}
    if max(counts) - min(counts) > 1:
        return refused_end
    if start > k and (
        _KEY_VALUE.search(block[k])
        or block[k].lstrip().startswith((">", "#"))
        or _PROSE_LINE.search(block[k])
    ):
        start_header = None
    else:
        start_header = k if start > k else None
    if start_header is None and start > k:
        return None  # the line over them is no header: the table, if any, starts below it
    data = [ln.expandtabs() for ln in block[start:end]]
    header = block[start_header].expandtabs() if start_header is not None else None
    names, rows = split_fixed_width(header, data)
    if one_row and header is not None and len(header.split()) == len(data[0].split()):
        names, rows = header.split(), [data[0].split()]  # one word a column, as it reads
    if len(names) < 2 or _misaligned(rows):
        return refused_end
    counts_only = False
    if one_row and not any(_COUNT_HEADER.match(n) for n in names):
        # one line under a header is a table when it counts (SAS's N, Stata's Obs, R's table())
        if header is None or not _counts_under_labels(header.split(), data[0].split()):
            return refused_end
        counts_only = True
    first_line = first + (start_header if start_header is not None else start)
    table = TextTable("fixed-width", first_line, first + end - 1, _names(names), rows, counts_only)
    return table, end


#: a column of counts under a header: SAS's 'N', SPSS's 'Frequency', Stata's 'Freq.'/'Obs'
_COUNT_HEADER = re.compile(r"(?i)^\s*(?:n|nobs|obs|count|counts|freq\.?|frequency|_freq_)\s*$")


def _counts_under_labels(header: list[str], cells: list[str]) -> bool:
    """A line of whole numbers under one of labels, one each: R's print of a table() of one
    factor or of a named vector ('  F   M ' over '  3 117 ')."""
    return (
        len(header) == len(cells) >= 2
        and all(_WHOLE.match(c) for c in cells)
        and not any(_numeric(w) for w in header)
    )


def _counted_rows_run(block: list[str], k: int, first: int) -> tuple[TextTable, int] | None:
    """A header with a count column ('Frequency Percent Valid Percent ...') over lines of a
    label and numbers whose spacing was lost (output pasted as plain text: 'Valid F 3 2.5
    2.5'): the label is the words, the count the first number, the other numbers after it."""
    header = block[k].split()
    at = next((j for j, w in enumerate(header) if _COUNT_HEADER.match(w)), None)
    if at is None or any(_numeric(w) for w in header):
        return None
    rows: list[list[str | None]] = []
    end = k + 1
    while end < len(block):
        tokens = block[end].split()
        n = next((j for j, t in enumerate(tokens) if _numeric(t)), None)
        if n is None or n == 0 or not all(_numeric(t) for t in tokens[n:]):
            break
        rows.append([" ".join(tokens[:n]), *tokens[n:]])
        end += 1
    if len(rows) < 2:
        return None
    width = max(len(r) for r in rows)
    names = ["label", header[at], *(f"column {j + 1}" for j in range(2, width))]
    return TextTable("plain-text", first + k, first + end - 1, names, rows), end


#: a command-line option and its values ('  --ld-window-kb 100'), not a row of a table
_OPTION = re.compile(r"\s*--?[A-Za-z][\w-]*(\s|$)")
#: more lines of options than this are read as a table all the same: no command has that many,
#: and rows of people must not hide behind a leading '--x'
_MAX_OPTIONS = 40


def _options(block: list[str], start: int, end: int) -> bool:
    """Lines ``start:end`` are the options a plink log lists under 'Options in effect:', one a
    line ('  --ld-window-kb 100'), not a table. Only there: elsewhere lines that start with
    '--' are read as any others, so that rows of people cannot pass for options."""
    if not all(_OPTION.match(ln) for ln in block[start:end]):
        return False
    first = start  # options without values above ('  --pfile dk') belong to the same list
    while first > 0 and _OPTION.match(block[first - 1]):
        first -= 1
    return (
        first > 0
        and block[first - 1].strip() == "Options in effect:"
        and end - first <= _MAX_OPTIONS
    )


def _misaligned(rows: list[list]) -> bool:
    """Lines that only look like columns: a cell past the first (which may be a label of
    several words) holds words and numbers together, as log lines do ('workers 2 threads 4',
    'loaded 20000 variants'), where the cells of a table hold one value each."""
    for row in rows:
        for cell in row[1:]:
            tokens = cell.split() if cell else []
            if len(tokens) > 1 and any(map(_numeric, tokens)) and not all(map(_numeric, tokens)):
                return True
    return False


def split_fixed_width(header: str | None, data: list[str]) -> tuple[list[str], list[list]]:
    """Columns of fixed-width lines where every data line has a space; the header's words go
    to the column they overlap most (or the nearest: headers are aligned left or right)."""
    width = max(len(ln) for ln in data)
    blank = [all(i >= len(ln) or ln[i] == " " for ln in data) for i in range(width)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < width:
        if blank[i]:
            i += 1
            continue
        j = i
        while j < width and not blank[j]:
            j += 1
        spans.append((i, j))
        i = j
    rows = [[ln[a:b].strip() or None for a, b in spans] for ln in data]
    if header is None:
        return [str(k + 1) for k in range(len(spans))], rows
    words: list[list[str]] = [[] for _ in spans]
    for m in re.finditer(r"\S+", header):
        s, e = m.start(), m.end()
        overlap = [max(0, min(e, b) - max(s, a)) for a, b in spans]
        if max(overlap) > 0:
            k = overlap.index(max(overlap))
        else:  # in a gap: the nearer column, the one to the right on a tie (R and pandas
            # align headers right over numbers)
            right = next((c for c, (a, _) in enumerate(spans) if a >= e), len(spans) - 1)
            left = max(right - 1, 0)
            k = left if right == left or s - spans[left][1] < spans[right][0] - e else right
        words[k].append(m.group())
    return [" ".join(w) for w in words], rows


def _with_header(kind: str, first: int, last: int, rows: list[list[str]]) -> TextTable:
    """The first row is the header unless it is all numbers."""
    head = rows[0]
    if head and not all(_numeric(c) for c in head if c) and len(rows) >= 1:
        return TextTable(kind, first, last, _names(head), rows[1:])
    return TextTable(kind, first, last, [str(j + 1) for j in range(len(head))], rows)


def _names(cells: list[str]) -> list[str]:
    return [c if c else f"column {j + 1}" for j, c in enumerate(cells)]
