#!/usr/bin/env bash
# Regenerates the page images shown in the README from the built PDF and the Word draft as
# LibreOffice prints it (run `make build` first; the draft's image needs soffice, which `make test` installs).
set -euo pipefail
cd "$(dirname "$0")/.."
pdf=build/2022-2023/compendium-2022-2023.pdf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pdftoppm -r 45 -png "$pdf" "$work/page"
printf '<?xml version="1.0"?><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>%s</dir></fontconfig>' \
  "$PWD/assets/fonts" > "$work/fonts.conf"
FONTCONFIG_FILE="$work/fonts.conf" HOME="$work" soffice --headless "-env:UserInstallation=file://$work/profile" \
  --convert-to pdf --outdir "$work" build/2022-2023/draft-2022-2023.docx >/dev/null
pdftoppm -r 45 -png -f 11 -l 12 "$work/draft-2022-2023.pdf" "$work/draft"
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
draft = sorted(work.glob("draft-*.png"))
pages[101], pages[102] = (Image.open(p) for p in draft)
spread(101, 102, "word-draft-practice")
PY
echo "docs/images updated"
