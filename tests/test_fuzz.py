"""Property-based fuzzing (hypothesis) of the loader, the Markdown subset and the command line (issue 6).

Hand-written cases (test_invalid_cases.py, test_load.py, test_prose.py) cover the mistakes we thought of;
the records are typed by people, so this file throws at the same code what nobody thought of:

- arbitrary text and bytes, and generated YAML-like documents (anchors, aliases, tags, complex and
  duplicate keys, bad indentation), read by ``read_yaml``;
- a real practice record with random lines deleted, duplicated, re-indented or rewritten, read and
  checked against the ``Practice`` model;
- arbitrary text with Markdown, HTML and template syntax mixed in, parsed by ``parse_prose`` and
  ``parse_rich_line``;
- a whole edition with one file mutated, through ``compendium validate`` and ``compendium build``.

The property each time is the requirement of issue 6: the result is a model, or a list of errors that
each name a file and a line of it, with exit status 2; never a traceback, and never a half-written
``build/``. Runs are derandomized so CI sees the same examples every time; a failure prints the
smallest input hypothesis found, which belongs in the hand-written tests once fixed.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from compendium.cli import EXIT_PROBLEMS, main
from compendium.errors import Problem, display_path
from compendium.load import SourceFile, read_yaml
from compendium.model import Practice
from compendium.prose import (
    Block,
    BulletList,
    OrderedList,
    Paragraph,
    ProseError,
    Span,
    parse_prose,
    parse_rich_line,
)
from compendium.validate import validate_file

from .conftest import snapshot

ROOT = Path(__file__).resolve().parents[1]
EDITION = ROOT / "sources" / "2022-2023"
ANUCHINSKY = EDITION / "practices" / "anuchinsky-beekeeping.yaml"
EDITION_FILES = ("edition.yaml", "forewords.yaml", "geography.yaml", "rules.yaml",
                 "practices/anuchinsky-beekeeping.yaml", "practices/kemerovo-school-meals.yaml",
                 "practices/cheboksary-waste-management.yaml")

# derandomize: CI and every laptop see the same examples, so a red build is never a fluke of the seed
FUZZ = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fuzz(examples: int) -> settings:
    """The shared settings with a number of examples sized to what one example costs."""
    return settings(FUZZ, max_examples=examples)


# Pieces that mean something to YAML, to Markdown, to HTML or to a template engine: random text alone
# rarely forms them, and a mistake in a record usually involves one of them.
YAML_PIECES = [
    ":", ": ", "- ", "? ", "#", " #", "&a ", "*a", "*b", "!!python/object:os.system ", "!!python/name:os.system ",
    "!!str ", "!!int ", "!!bool ", "!!timestamp ", "!!binary ", "!!set ", "!foo ", "!<tag:x> ", "%YAML 1.1\n",
    "---\n", "...\n", "|", "|-", ">", ">+", "'", '"', "\\", "[", "]", "{", "}", ",", "@", "`", "\t", "\n", "\r\n",
    "\r", "  ", "\ufeff", "\x00", "\x85", "\u2028", "~", "null", "yes", "on", "2023-02-30", "0x_", "1e400",
    "<<: ", "Приморский край", "title", "id",
]
PROSE_PIECES = [
    "**", "*", "_", "__", "\\", "\\*", "\\\n", "#", "# ", "- ", "+ ", "* ", "1. ", "2) ", "10. ", "\n", "\n\n", " ",
    "  ", "   ", "    ", "\t", "<script>", "</script>", "alert(1)", "{{ 7*7 }}", "{% if %}", "[a](http://x)",
    "![i](p.png)", "|a|b|", "|---|---|", "&amp;", "&lt;b&gt;", "&#42;", "`", "```", "> ", "---", "***", "\r\n",
    "\r", "\x00", "слово", "Word", "42", "\u00a0",
]
VALUES = [
    "", "~", "null", "yes", "leader", "4", "0", "-1", "2023", "2023-02-30", "1e400", "0x_", ".nan", "[]", "{}",
    "[2022, 2023]", "{a: 1}", "&x 1", "*x", "'unterminated", '"unterminated', "!!python/object:os.system {}",
    "!!int abc", "!foo bar", "|", "|\n  - *italic*\n", "*italic*", "**bold**", "a: b", "- item",
    "<script>alert(1)</script>", "{{ 7*7 }}", "{% if %}", "https://csr.ru", "../secret.jpg", "Приморский край",
]


def pieces(alphabet: list[str], max_size: int = 30) -> st.SearchStrategy[str]:
    """Text made of meaningful pieces and random characters, mixed."""
    return st.lists(st.sampled_from(alphabet) | st.text(max_size=4), max_size=max_size).map("".join)


YAML_TEXT = st.text() | pieces(YAML_PIECES)
PROSE_TEXT = st.text() | pieces(PROSE_PIECES)
VALUE_TEXT = st.sampled_from(VALUES) | st.text(max_size=15) | pieces(YAML_PIECES + PROSE_PIECES, max_size=6)


@st.composite
def damaged_utf8(draw: st.DrawFn) -> bytes:
    """YAML-like text as UTF-8 with a few stray bytes spliced in: a file half converted from cp1251, say."""
    encoded = draw(YAML_TEXT).encode("utf-8")
    at = draw(st.integers(0, len(encoded)))
    return encoded[:at] + draw(st.binary(min_size=1, max_size=3)) + encoded[at:]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per module: each example overwrites the same file, so hypothesis needs no per-test fixture."""
    return tmp_path_factory.mktemp("fuzz")


# --- helpers ----------------------------------------------------------------------------------


def yaml_line_count(text: str) -> int:
    """Lines as PyYAML numbers them: it reads YAML 1.1, where NEL, LS and PS break lines as well.

    Editors mostly do not, so past such a character a message's line runs ahead of the editor's; this
    bound accepts that, and only catches lines past the end of the file.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return sum(text.count(brk) for brk in ("\n", "\r", "\x85", "\u2028", "\u2029")) + 1


def assert_located(problems: list[Problem], shown: Path, last_line: int) -> None:
    """Each problem names the file as the loader shows it, a line of it (0: the whole file), and what is wrong."""
    assert problems
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.file == shown, problem
        assert 0 <= problem.line <= last_line, f"{problem} (the file has {last_line} lines)"
        assert problem.message.strip(), problem
        assert str(problem).startswith(str(shown)), problem


def plain_leaves(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (field path, value) of loaded data, failing on anything that is not plain data."""
    if isinstance(data, dict):
        for key, value in data.items():
            assert isinstance(key, str), (path, key)
            yield (*path, key), value
            yield from plain_leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*path, index), value
            yield from plain_leaves(value, (*path, index))
    else:
        assert data is None or isinstance(data, (str, int, float, bool)), (path, type(data))


def check_read(path: Path, text: str | None) -> tuple[SourceFile | None, list[Problem]]:
    """read_yaml's contract: plain data with a line for every field, or located problems; never an exception.

    ``text`` is the file decoded, or None when it is not UTF-8.
    """
    shown = display_path(path)
    raw = path.read_bytes()
    last_line = yaml_line_count(text) if text is not None else raw.count(b"\n") + 1
    source, problems = read_yaml(path)
    if source is None:
        assert_located(problems, shown, last_line)
        return None, problems
    assert problems == []
    assert text is not None, "bytes that are not UTF-8 were read"
    assert source.path == shown
    assert isinstance(source.data, dict)
    for field_path, value in plain_leaves(source.data):
        # every field remembers its line, so a later problem with it can be located
        assert 1 <= source.lines[field_path] <= last_line, field_path
        assert 1 <= source.line_of(field_path) <= last_line
        if isinstance(value, str):
            assert unicodedata.is_normalized("NFC", value), field_path
            value.encode("utf-8")  # no lone surrogate from a "\ud83d" escape: pydantic and the PDF refuse those
    for key in source.lines:  # keys too: they are printed in messages
        "".join(map(str, key)).encode("utf-8")
    assert all(1 <= line <= last_line + 1 for line in source.text_lines.values())
    return source, problems


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


# --- 1. the loader on arbitrary input ---------------------------------------------------------


@fuzz(1000)
@given(text=YAML_TEXT)
@example(text="published: 2023-02-30\n")  # a date that does not exist used to escape as a ValueError
@example(text="a: !!bool maybe\nb: !!int ''\nc: !!timestamp x\nd: 0b_\n")
@example(text="a: &x 2023-13-01\nb: *x\n")
@example(text="a: x\u2028y\nb: [\n")
@example(text='title: "\\ud83d\\ude00"\nlone: "\\ud83d"\n')  # a lone surrogate used to reach pydantic and crash
@example(text="title: a\x0bb\n")  # a control character used to escape as yaml.reader.ReaderError
def test_read_yaml_on_arbitrary_text(text: str, scratch: Path) -> None:
    path = write(scratch / "text.yaml", text)
    check_read(path, text)


@fuzz(600)
@given(raw=st.binary() | damaged_utf8())
@example(raw=b"\xff\xfet\x00i\x00t\x00l\x00e\x00")  # UTF-16 saved by a Windows editor
@example(raw="id: x\nregion: Приморский край\n".encode("cp1251"))
def test_read_yaml_on_arbitrary_bytes(raw: bytes, scratch: Path) -> None:
    path = scratch / "bytes.yaml"
    path.write_bytes(raw)
    try:
        text: str | None = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    _, problems = check_read(path, text)
    if text is None:
        assert len(problems) == 1
        assert "UTF-8" in problems[0].message
        assert problems[0].line == raw[: _first_bad_byte(raw)].count(b"\n") + 1


def _first_bad_byte(raw: bytes) -> int:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return error.start
    raise AssertionError("decodes")


KEYS = st.sampled_from(["id", "title", "award", "place", "year", "a", "b", "null", "~", "yes", "on", "1", "2023-02-30",
                        "'q'", '"id"', "'a\\nb'", '"a\\nb"', "Приморский край", "<<"])
ODD_KEYS = st.sampled_from(["[k]", "{k: v}", "!!python/object:os.system k", "&k k", "*k", "? [x]"])
PLAIN = st.lists(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8),
                 min_size=1, max_size=3).map(" ".join)
SCALARS = (PLAIN | st.sampled_from(VALUES) | st.text(max_size=6).map(json.dumps)).map(lambda s: s.replace("\n", " "))
PROSE_BODY = ["**", "*", "_", "\\", "- ", "1. ", "\n", "\n\n", " ", "<script>", "{{ x }}", "#", "'", '"', ": "]
TAGS = st.sampled_from(["!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!binary ", "!!map ",
                        "!!seq ", "!!set ", "!!omap ", "!!pairs ", "!!merge ", "!!python/object:os.system ",
                        "!!python/tuple ", "!foo ", "!<tag:x> "])


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    # hypothesis leans towards the first choice (and shrinks towards it): make that the usual case
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))


@st.composite
def yaml_documents(draw: st.DrawFn) -> str:
    """A YAML-like document written by hand, as an organiser would: usually valid, sometimes subtly not.

    Each oddity (a tag, an anchor or alias, a complex or duplicate key, an indentation one space off)
    is drawn rarely, so that most documents reach the reader's conversion rather than stop at the parser.
    """
    anchors: list[str] = []

    def decoration() -> str:
        text = draw(TAGS) if rarely(draw, 6) else ""
        if rarely(draw, 6):
            anchors.append(f"n{len(anchors)}")
            text += f"&{anchors[-1]} "
        return text

    def alias() -> str | None:
        if anchors and rarely(draw, 5):
            return "*" + (draw(st.sampled_from(anchors)) if not rarely(draw, 8) else "undefined")
        return None

    def key() -> str:
        if rarely(draw, 15):
            return draw(ODD_KEYS)
        # names from a small set collide now and then: a duplicate key, or null and ~ as the same key
        return draw(KEYS) if rarely(draw, 3) else draw(st.text(alphabet="abcdefgh_", min_size=1, max_size=6))

    def flow(depth: int) -> str:
        if (reference := alias()) is not None:
            return reference
        kind = draw(st.sampled_from(["scalar", "scalar", "scalar", "list", "map"] if depth < 3 else ["scalar"]))
        if kind == "scalar":
            return decoration() + draw(SCALARS)
        items = [flow(depth + 1) for _ in range(draw(st.integers(0, 3)))]
        if kind == "map":
            items = [f"{key()}: {item}" for item in items]
        return decoration() + ("[{}]" if kind == "list" else "{{{}}}").format(", ".join(items))

    def block(depth: int, indent: int, is_list: bool) -> list[str]:
        lines: list[str] = []
        for _ in range(draw(st.integers(1, 4))):
            # one space off is the classic mistake of a hand-indented file
            pad = " " * max(0, indent + (draw(st.sampled_from([1, -1, 2])) if rarely(draw, 12) else 0))
            if is_list:
                lead = f"{pad}-"
            elif rarely(draw, 15):
                lead = f"{pad}? {key()}\n{pad}:"  # a complex key
            else:
                lead = f"{pad}{key()}:"
            shape = draw(st.sampled_from(["flow", "flow", "block", "literal"] if depth < 3 else ["flow"]))
            if shape == "block":
                lines.append(f"{lead} {decoration()}".rstrip())
                lines.extend(block(depth + 1, indent + 2, draw(st.booleans())))
            elif shape == "literal":
                lines.append(f"{lead} {draw(st.sampled_from(['|', '>', '|-', '>+']))}")
                body = draw(st.lists(PLAIN | st.sampled_from(PROSE_BODY), max_size=8).map("".join)).split("\n")
                lines.extend(f"{pad}  {line.lstrip()}" for line in body)
            else:
                lines.append(f"{lead} {flow(depth)}")
            if rarely(draw, 8):
                lines.append(f"{pad}# {draw(SCALARS)}")
        return lines

    head = draw(st.sampled_from(["", "", "", "", "---\n", "\ufeff", "%YAML 1.1\n---\n", "# comment\n"]))
    tail = "---\nsecond: document\n" if rarely(draw, 20) else draw(st.sampled_from(["", "\n", "...\n"]))
    return head + "\n".join(block(0, 0, is_list=rarely(draw, 10))) + "\n" + tail


@fuzz(600)
@given(text=yaml_documents())
def test_read_yaml_on_generated_documents(text: str, scratch: Path) -> None:
    path = write(scratch / "document.yaml", text)
    check_read(path, text)


def test_generated_documents_are_not_all_refused(scratch: Path) -> None:
    """The generator must reach past the parser: a fuzzer whose every input is a syntax error tests little."""
    read, refused = 0, 0

    @fuzz(200)
    @given(text=yaml_documents())
    def count(text: str) -> None:
        nonlocal read, refused
        source, _ = read_yaml(write(scratch / "count.yaml", text))
        read, refused = read + (source is not None), refused + (source is None)

    count()
    assert read >= 20, (read, refused)
    assert refused >= 20, (read, refused)


# --- 2. a real record, mutated ------------------------------------------------------------------


_VALUE_AT = re.compile(r"^(\s*(?:- )?(?:[^\s:#'\"][^:#]*:)?\s?)(.*)$")


def mutate(data: st.DataObject, text: str) -> str:
    """The record with one to three edits of the kinds people make: lines lost, doubled, re-indented, rewritten."""
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        lines = text.split("\n")
        at = data.draw(st.integers(0, len(lines) - 1), label="line")
        kind = data.draw(st.sampled_from(["delete", "duplicate", "insert", "value", "quoted", "indent", "swap"]),
                         label="edit")
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "insert":
            offset = data.draw(st.integers(0, len(text)), label="offset")
            text = text[:offset] + data.draw(VALUE_TEXT, label="inserted") + text[offset:]
            continue
        elif kind in ("value", "quoted"):
            match = _VALUE_AT.match(lines[at])
            assert match is not None
            value = data.draw(VALUE_TEXT, label="value")
            if kind == "quoted":
                # a double-quoted value holds escapes: line breaks that move prose lines away from the file's,
                # and with ensure_ascii every character past U+FFFF as two surrogate halves, as JSON tools write
                value = json.dumps(value, ensure_ascii=data.draw(st.booleans(), label="ascii"))
            lines[at] = match[1] + value
        elif kind == "indent":
            change = data.draw(st.sampled_from(["add", "remove", "tab"]), label="indent")
            if change == "remove":
                lines[at] = lines[at].removeprefix(" ")
            else:
                lines[at] = ("\t" if change == "tab" else " ") + lines[at]
        else:
            other = data.draw(st.integers(0, len(lines) - 1), label="other line")
            lines[at], lines[other] = lines[other], lines[at]
        text = "\n".join(lines)
    return text


@fuzz(600)
@given(data=st.data())
def test_mutated_practice_is_a_model_or_located_problems(data: st.DataObject, scratch: Path) -> None:
    text = mutate(data, ANUCHINSKY.read_text(encoding="utf-8"))
    path = write(scratch / "anuchinsky-beekeeping.yaml", text)
    source, problems = check_read(path, text)
    if source is None:
        return
    practice, problems = validate_file(source, Practice)
    if practice is not None:
        assert isinstance(practice, Practice)
        assert problems == []
        return
    # the model's problems point into the file: a field's line, or a line inside a prose field's text
    assert_located(problems, source.path, yaml_line_count(text))
    assert all(problem.line >= 1 for problem in problems)


# --- 3. the Markdown subset ---------------------------------------------------------------------


def spans_of(blocks: tuple[Block, ...]) -> Iterator[Span]:
    """Every span of the blocks, in reading order."""
    for block in blocks:
        if isinstance(block, Paragraph):
            yield from block.spans
        else:
            assert isinstance(block, (BulletList, OrderedList))
            for item in block.items:
                yield from spans_of(item.blocks)


def markdown_lines(source: str) -> list[str]:
    """The lines as markdown-it numbers them: it reads \\r\\n and a lone \\r as line ends."""
    return re.sub(r"\r\n?", "\n", source).split("\n")


# No rule the subset enables consumes or produces these: letters, and everything HTML, links, tables,
# code, headings, entities and templates are made of. They reach the text as typed, in order.
_LITERAL = set("<>&;#`[]({}|!%=\"'/:@$^~?,")


def literal_characters(text: str) -> list[str]:
    return [c for c in text if c.isalpha() or c in _LITERAL]


def check_prose_error(error: ProseError, source: str) -> None:
    lines = markdown_lines(source)
    assert str(error).strip()
    assert 0 <= error.line < len(lines), f"line {error.line} of {len(lines)}"
    if str(error).startswith("italic"):
        # the line an organiser is sent to holds the asterisk or underscore in question
        assert set(lines[error.line]) & {"*", "_"}, (error.line, lines)


@fuzz(2000)
@given(source=PROSE_TEXT)
@example(source="a\\\nb *c*")  # a backslash line break used to hide a line from the error's line number
@example(source="a\\\nb")  # ... and to glue the two words together
@example(source="\u00a0\n*0*")  # a line of no-break spaces before the italic used to shift its line number
@example(source="- " * 12 + "abc\n\nrest")  # lists nested past markdown-it's limit used to drop the rest silently
@example(source="<script>alert(1)</script> {{ 7*7 }} {% if %} &amp; [a](http://x) |a|b| `x` # h")
def test_prose_is_parsed_or_refused_with_a_line(source: str) -> None:
    try:
        prose = parse_prose(source)
    except ProseError as error:
        check_prose_error(error, source)
        return
    assert prose.source == source
    spans = list(spans_of(prose.blocks))
    for span in spans:
        # a paragraph's lines are joined with single spaces; no line break or tab survives into the text
        assert span.text
        assert not re.search(r"\s\s|[^\S ]", span.text), span
    # nothing is lost or invented: HTML and templates stay literal text, entities stay undecoded
    assert literal_characters(" ".join(span.text for span in spans)) == literal_characters(source)
    if "<script>" in source:
        assert any("<script>" in span.text for span in spans)
    words = re.findall(r"[^\W\d_]+", source)
    assert all(any(word in span.text for span in spans) for word in words), words


@fuzz(1000)
@given(source=PROSE_TEXT)
@example(source="в **1,3** раза")
@example(source="- один\n- два")
def test_rich_line_is_one_paragraph_or_refused_with_a_line(source: str) -> None:
    try:
        line = parse_rich_line(source)
    except ProseError as error:
        check_prose_error(error, source)
        with contextlib.suppress(ProseError):
            blocks = parse_prose(source).blocks
            # refused although the prose parses: only because it is not one paragraph
            assert len(blocks) != 1 or not isinstance(blocks[0], Paragraph)
            assert error.line == 0
        return
    [paragraph] = parse_prose(source).blocks
    assert isinstance(paragraph, Paragraph)
    assert line.spans == paragraph.spans
    assert line.source == source


# --- 4. the command line on a mutated edition -----------------------------------------------


_PROBLEM = re.compile(r"^(?P<file>[^:\n]+?)(?::(?P<line>\d+))?: (?P<rest>.+)$")
_SUMMARY = re.compile(r"^(?P<count>\d+) problems? found; nothing was written\.$")
PREVIOUS_BUILD = {
    "compendium-2022-2023.pdf": b"%PDF-1.7 previous screen build",
    "compendium-2022-2023-print.pdf": b"%PDF-1.7 previous print build",
    "draft-2022-2023.docx": b"PK previous draft",
    "map-2022-2023.png": b"\x89PNG previous map",
    "preflight.json": b'{"previous": true}',
    "practices/anuchinsky-beekeeping.pdf": b"%PDF-1.7 previous practice",
}


@contextlib.contextmanager
def project_copy() -> Iterator[Path]:
    """A project folder with a fresh copy of the edition and a previous build in out/, as the working directory.

    The CLI finds its project from the working directory, so even a build that ignored --output could
    not reach the real build/; layouts/ and assets/ are only read and stay links to the real ones.
    """
    with tempfile.TemporaryDirectory(prefix="compendium-fuzz-") as folder:
        root = Path(folder)
        for name in ("layouts", "assets"):
            (root / name).symlink_to(ROOT / name, target_is_directory=True)
        shutil.copytree(EDITION, root / "sources" / "2022-2023")
        for name, content in PREVIOUS_BUILD.items():
            (root / "out" / "2022-2023" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "out" / "2022-2023" / name).write_bytes(content)
        with contextlib.chdir(root):
            yield root


def run_cli(*arguments: str) -> tuple[int, str, str]:
    """Runs the CLI in-process, where a traceback shows as an exception on the result."""
    result = CliRunner().invoke(main, list(arguments))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{arguments}: unexpected {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def check_problem_report(stderr: str, root: Path) -> None:
    """Exit status 2 prints one `file:line: field: message` per problem, then the count, and nothing else."""
    *problem_lines, summary = stderr.rstrip("\n").split("\n")
    match = _SUMMARY.match(summary)
    assert match, stderr
    assert int(match["count"]) == len(problem_lines) > 0, stderr
    for line in problem_lines:
        problem = _PROBLEM.match(line)
        assert problem, f"not `file:line: message`: {line!r}\n{stderr}"
        file = root / problem["file"]
        assert file.is_file(), f"{problem['file']} is not a file of the edition\n{stderr}"
        last_line = yaml_line_count(file.read_bytes().decode("utf-8", errors="replace"))
        assert int(problem["line"] or 0) <= last_line, f"{line!r}: the file has {last_line} lines"


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_cli_on_a_mutated_edition(data: st.DataObject) -> None:
    with project_copy() as root:
        relative = data.draw(st.sampled_from(EDITION_FILES), label="file")
        path = root / "sources" / "2022-2023" / relative
        path.write_bytes(mutate(data, path.read_text(encoding="utf-8")).encode("utf-8"))
        previous = snapshot(root / "out")

        status, stdout, stderr = run_cli("validate", "sources/2022-2023")

        assert status in (0, EXIT_PROBLEMS), stderr
        event(f"validate exits {status}")  # --hypothesis-show-statistics: both branches must be reached
        if status == 0:
            assert stdout.endswith("no problems\n"), stdout
            return  # a full build takes seconds; the model accepted the edition, which is the property here
        check_problem_report(stderr, root)

        # build checks before it writes: the same problems, the same status, the previous build untouched
        status_of_build, _, stderr_of_build = run_cli("build", "sources/2022-2023", "--output", "out")
        assert status_of_build == EXIT_PROBLEMS
        assert stderr_of_build == stderr
        # the edition's lock file, beside its outputs, is taken before the records are read
        assert {name: sha for name, sha in snapshot(root / "out").items() if name != ".2022-2023.lock"} == previous
        assert not (root / "build").exists()


# --- found by fuzzing: problems print on one line; prose lines in quoted values --------------------


@pytest.mark.parametrize(("old", "new"), [
    ("region: Приморский край\n", 'region: "Приморский\\nкрай"\n'),
    ("title:", '"odd\\nkey": 1\ntitle:'),
], ids=["value", "key"])
def test_a_problem_is_printed_on_one_line(old: str, new: str) -> None:
    with project_copy() as root:
        path = root / "sources" / "2022-2023" / "practices" / "anuchinsky-beekeeping.yaml"
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1
        path.write_text(text.replace(old, new), encoding="utf-8")
        status, _, stderr = run_cli("validate", "sources/2022-2023")
        assert status == EXIT_PROBLEMS
        check_problem_report(stderr, root)


def test_prose_problem_in_a_quoted_value_names_the_line_of_the_value(scratch: Path) -> None:
    text = ANUCHINSKY.read_text(encoding="utf-8")
    block = re.search(r"^content: \|\n  .*\n", text, re.MULTILINE)
    assert block is not None
    quoted = 'content: "' + "абзац\\n\\n" * 30 + '*курсив*"\n'
    path = write(scratch / "quoted.yaml", text[: block.start()] + quoted + text[block.end():])
    source, _ = read_yaml(path)
    assert source is not None
    _, problems = validate_file(source, Practice)
    assert [(p.field, p.line) for p in problems] == [("content", source.lines[("content",)])]

