"""Small editions of random text, inside and outside the fonts: each is refused with located problems, or
merges into books whose every page is its layout's, pixel for pixel."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from benchmarks.generate import generate
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from compendium.characters import font_coverage, printable
from compendium.errors import SourceProblems
from compendium.paths import ProjectPaths
from compendium.pipeline import build

from .test_merge_fidelity import pages_unlike_their_layouts

PATHS = ProjectPaths(Path(__file__).resolve().parents[1])
COVERAGE = font_coverage(PATHS.fonts)
# Letters and the punctuation of plain prose: text that is prose whatever its order (no Markdown syntax)
COVERED = st.sampled_from(sorted({chr(code) for code in COVERAGE if chr(code).isalnum()} | set(" ,.;:!?()«»—…№%")))
# What staff paste (arrows, check marks, emoji, CJK, thin spaces), and any character Unicode assigns
UNCOVERED = st.one_of(st.sampled_from("→✓😀中\u2009꧀ᚠ"), st.characters(
    exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")).filter(lambda character: not printable(
        character, COVERAGE)))
PLAIN = st.lists(COVERED, min_size=1, max_size=60).map("".join).filter(str.strip)
MIXED = st.lists(st.one_of(*[COVERED] * 10, UNCOVERED), min_size=1, max_size=60).map("".join).filter(str.strip)
editions = itertools.count()


# Each example is a build of a few seconds: a handful, the same in every run, and no shrinking, which
# would build dozens more; a failure shows its example as drawn
@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(paragraphs=["Знак ꧀ и стрелка →", "Просто текст"], profile="print")
@example(paragraphs=["😀", "中文 и галочка ✓", "тонкий\u2009пробел"], profile="screen")
@given(paragraphs=st.one_of(st.lists(PLAIN, min_size=2, max_size=4), st.lists(MIXED, min_size=2, max_size=4)),
       profile=st.sampled_from(["screen", "print"]))
def test_random_text_is_refused_where_located_or_merged_as_laid_out(tmp_path: Path, paragraphs: list[str],
                                                                     profile: str) -> None:
    scratch = tmp_path / f"edition-{next(editions)}"
    edition = generate(len(paragraphs), scratch / "random")
    written = [paragraph.strip() for paragraph in paragraphs]  # as a paragraph of prose keeps it
    for record, paragraph in zip(sorted((edition / "practices").glob("*.yaml")), written, strict=True):
        data = yaml.safe_load(record.read_text(encoding="utf-8"))
        data["content"] = f"{data['content'].rstrip()}\n\n{paragraph}\n"
        record.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outside = {character for paragraph in written for character in paragraph if not printable(character, COVERAGE)}
    event("refused" if outside else "built")
    try:
        result = build(edition, PATHS, output_root=scratch / "build", profiles=(profile,))
    except SourceProblems as refused:
        assert outside, f"text the fonts cover was refused: {refused}"
        named = {character for problem in refused.problems for character in outside
                 if f"U+{ord(character):04X}" in problem.message}
        assert named == outside, f"not every uncovered character was named: {refused}"
        assert all(problem.line > 0 and problem.field == "content" for problem in refused.problems), refused
        return
    assert not outside, f"built although {sorted(outside)} have no glyph"
    book = "pdf" if profile == "screen" else "pdf-print"
    assert pages_unlike_their_layouts(result, book, scratch / "pages") == []
    assert result.preflight.warnings == []


def test_the_uncovered_strategy_draws_only_what_the_fonts_lack() -> None:
    @given(UNCOVERED)
    @settings(max_examples=50, derandomize=True)
    def check(character: str) -> None:
        assert not printable(character, COVERAGE)

    check()


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
