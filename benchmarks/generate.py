"""Synthetic editions for the benchmark: N practices made by cycling the default edition's records.

Each copy gets a new id, file name and title; places beyond the originals become «Лидер» so that no
place is awarded twice. ``--pictures`` gives every practice its own photograph (a generated JPEG,
3 000 × 2 000 px, as a municipality would send), so that image handling is measured too.

    .venv/bin/python benchmarks/generate.py 250 /tmp/bench/250 [--pictures]
"""

from __future__ import annotations

import argparse
import io
import shutil
from pathlib import Path

import yaml
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EDITION = ROOT / "sources" / "2022-2023"
PHOTO_SIZE = (3000, 2000)


class _LiteralBlocks(yaml.SafeDumper):
    """Writes multi-line text as | blocks, as organisers do, so the records stay readable."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_LiteralBlocks.add_representer(str, _text)


def generate(count: int, target: Path, pictures: bool = False) -> Path:
    """Writes an edition of ``count`` practices into ``target`` (replaced if it exists)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(DEFAULT_EDITION, target, ignore=shutil.ignore_patterns("practices"))
    (target / "practices").mkdir()
    originals = [yaml.safe_load(path.read_text(encoding="utf-8"))
                 for path in sorted((DEFAULT_EDITION / "practices").glob("*.yaml"))]
    for index in range(count):
        record = dict(originals[index % len(originals)])
        cycle = index // len(originals)
        if cycle:
            record["id"] = f"{record['id']}-{cycle + 1}"
            record["title"] = f"{record['title']} {cycle + 1}"
            record["award"] = {**record["award"], "place": "leader"}
            record["order"] = index
        if pictures:
            photo = f"photos/{record['id']}.jpg"
            (target / "photos").mkdir(exist_ok=True)
            (target / photo).write_bytes(_photo(index))
            record["photos"] = [{"file": photo, "alt": f"Фотография практики {index + 1}"}]
        text = yaml.dump(record, Dumper=_LiteralBlocks, allow_unicode=True, sort_keys=False, width=10_000)
        (target / "practices" / f"{record['id']}.yaml").write_text(text, encoding="utf-8")
    return target


def _photo(seed: int) -> bytes:
    """A photograph-sized JPEG that differs for every practice, so that no two images are shared."""
    image = Image.linear_gradient("L").resize(PHOTO_SIZE).convert("RGB")
    draw = ImageDraw.Draw(image)
    for step in range(12):
        x, y = (seed * 97 + step * 251) % PHOTO_SIZE[0], (seed * 61 + step * 173) % PHOTO_SIZE[1]
        draw.ellipse((x, y, x + 400, y + 300), fill=((seed * 40 + step * 20) % 256, 120, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, dpi=(300, 300))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("target", type=Path)
    parser.add_argument("--pictures", action="store_true", help="give every practice its own photograph")
    arguments = parser.parse_args()
    print(generate(arguments.count, arguments.target, arguments.pictures))


if __name__ == "__main__":
    main()
