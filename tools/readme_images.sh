#!/usr/bin/env bash
# Regenerates the page images shown in the README from the built PDF (run `make build` first).
set -euo pipefail
cd "$(dirname "$0")/.."
pdf=build/2022-2023/compendium-2022-2023.pdf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pdftoppm -r 45 -png "$pdf" "$work/page"
.venv/bin/python - "$work" <<'PY'
import sys
from pathlib import Path
from PIL import Image

work = Path(sys.argv[1])
pages = {int(p.stem.split("-")[-1]): Image.open(p) for p in work.glob("page-*.png")}
def spread(left: int, right: int, name: str) -> None:
    a, b = pages[left], pages[right]
    sheet = Image.new("RGB", (a.width + b.width + 4, a.height), "#9aa3ad")
    sheet.paste(a, (0, 0))
    sheet.paste(b, (a.width + 4, 0))
    sheet.save(f"docs/images/{name}.png", optimize=True)
spread(1, 2, "cover-and-about")
spread(6, 7, "geography-spread")
spread(10, 11, "practice-spread")
spread(26, 27, "practice-spread-dense")
PY
echo "docs/images updated"
