"""Reading one YAML source with `compendium.load.read_yaml`: encodings, line ends, Unicode, aliases, lines."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

from compendium.load import MAX_NODES, read_yaml

ROOT = Path(__file__).resolve().parents[1]
ANUCHINSKY = ROOT / "sources" / "2022-2023" / "practices" / "anuchinsky-beekeeping.yaml"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufefftitle: География конкурса\n".encode())
    source, problems = read_yaml(path)
    assert problems == []
    assert source is not None
    assert source.data == {"title": "География конкурса"}
    assert source.lines[("title",)] == 1


def test_crlf_line_ends_are_accepted_and_keep_lines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes("title: Конкурс\r\ntext: |\r\n  Первая строка\r\n  Вторая строка\r\n".encode())
    source, problems = read_yaml(path)
    assert problems == []
    assert source is not None
    assert source.data == {"title": "Конкурс", "text": "Первая строка\nВторая строка\n"}
    assert source.lines[("text",)] == 2
    assert source.text_lines[("text",)] == 3


def test_decomposed_text_is_normalised_to_nfc(tmp_path: Path) -> None:
    composed = "Йошкар-Ола, ёлка"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    source, problems = read_yaml(write(tmp_path / "nfd.yaml", f"name: {decomposed}\nlist: ['{decomposed}']\n"))
    assert problems == []
    assert source is not None
    assert source.data == {"name": composed, "list": [composed]}


def test_decomposed_keys_are_normalised_too(tmp_path: Path) -> None:
    key = unicodedata.normalize("NFD", "ёлка")
    source, _ = read_yaml(write(tmp_path / "nfd-key.yaml", f"{key}: 1\n"))
    assert source is not None
    assert list(source.data) == ["ёлка"]


def test_alias_bomb_is_refused_with_a_message(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    previous = "a"
    for name in "bcdefghi":  # 10**9 values once expanded
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
        previous = name
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")

    started = time.perf_counter()
    source, problems = read_yaml(path)
    elapsed = time.perf_counter() - started

    assert source is None
    assert len(problems) == 1
    assert f"more than {MAX_NODES} values through aliases" in problems[0].message
    assert elapsed < 10


def test_self_referring_alias_is_refused(tmp_path: Path) -> None:
    source, problems = read_yaml(write(tmp_path / "loop.yaml", "items: &loop [*loop]\n"))
    assert source is None
    assert [(p.line, p.field) for p in problems] == [(1, "items[0]")]
    assert "refers to itself" in problems[0].message


def test_ordinary_aliases_are_expanded(tmp_path: Path) -> None:
    text = "organisers:\n  - &csr\n    name: ЦСР\nsupporters:\n  - *csr\n"
    source, problems = read_yaml(write(tmp_path / "alias.yaml", text))
    assert problems == []
    assert source is not None
    assert source.data["supporters"] == [{"name": "ЦСР"}]


def test_lines_of_nested_fields() -> None:
    source, problems = read_yaml(ANUCHINSKY)
    assert problems == []
    assert source is not None
    assert source.lines[("id",)] == 2
    assert source.lines[("award", "place")] == 6
    assert source.lines[("award", "year")] == 7
    assert source.lines[("quote", "author")] == 15
    assert source.lines[("results",)] == 33
    assert source.lines[("results", 0)] == 34
    assert source.lines[("results", 2)] == 38
    assert source.lines[("results", 1, "caption")] == 37
    assert source.lines[("participants", "count")] == 42


def test_text_line_of_a_block_scalar_is_the_line_after_the_bar() -> None:
    source, _ = read_yaml(ANUCHINSKY)
    assert source is not None
    assert source.text_lines[("content",)] == 19
    assert source.text_lines[("quote", "text")] == 12
    assert ("title",) not in source.text_lines  # a plain scalar: problems point at its field's line


def test_line_of_a_missing_field_is_its_nearest_ancestor() -> None:
    source, _ = read_yaml(ANUCHINSKY)
    assert source is not None
    assert source.line_of(("award", "order")) == 5
    assert source.line_of(("results", 3, "caption")) == 39


def test_duplicate_key_is_reported_on_its_second_line(tmp_path: Path) -> None:
    source, problems = read_yaml(write(tmp_path / "dup.yaml", "award:\n  place: 1\n  place: 2\n"))
    assert source is None
    assert [(p.line, p.field) for p in problems] == [(3, "award.place")]
    assert "already set on line 2" in problems[0].message


def test_dates_stay_as_typed(tmp_path: Path) -> None:
    source, _ = read_yaml(write(tmp_path / "date.yaml", "year: 2023-05-01\n"))
    assert source is not None
    assert source.data == {"year": "2023-05-01"}


def test_non_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.yaml"
    path.write_bytes("id: x\nregion: Приморский край\n".encode("cp1251"))
    source, problems = read_yaml(path)
    assert source is None
    assert [(p.line, p.field) for p in problems] == [(2, "")]
    assert "byte 0xcf at offset 14" in problems[0].message


def test_missing_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    source, problems = read_yaml(tmp_path / "absent.yaml")
    assert source is None
    assert [(p.line, p.field) for p in problems] == [(0, "")]
    assert "cannot be read" in problems[0].message
