#!/usr/bin/env bash
# Prepares a fresh Debian machine for compendium: system libraries, then a virtual environment.
# Idempotent: a second run only checks. Used by `make build` and, with --test, by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint draws text with Pango and subsets fonts with HarfBuzz; the preflight reads PDFs back with poppler and qpdf.
SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfontconfig1 poppler-utils qpdf)
# The tests open the Word draft in a real client: LibreOffice Writer, headless (about 100 MB to download);
# and every PDF in readers that share no code with poppler or qpdf: MuPDF and Ghostscript (and pdf.js, below).
# python3-uno lets Debian's own Python (/usr/bin/python3, not the venv's) drive Writer as a person edits:
# tests/clients/libreoffice_edit.py runs under it.
if [[ ${1:-} == --test ]]; then
  SYSTEM_PACKAGES+=(libreoffice-writer-nogui python3-uno mupdf-tools ghostscript)
fi
missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing system packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

VENV=${VENV:-.venv}
stamp="$VENV/.installed"
if [[ ! -f $stamp || pyproject.toml -nt $stamp || requirements.lock -nt $stamp ]]; then
  echo "bootstrap: preparing the virtual environment in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -c requirements.lock -e ".[test,bench]"
  touch "$stamp"
fi

# pdf.js, the reader of Firefox, runs under Node.js (20.19 or later); the version is pinned in its package-lock.json.
if [[ ${1:-} == --test ]]; then
  PDFJS=tools/pdfjs
  installed=$PDFJS/node_modules/.package-lock.json  # npm ci writes it last
  if ! command -v npm >/dev/null; then
    echo "bootstrap: the tests read the PDFs with pdf.js, which needs Node.js 20.19 or later and npm" >&2
    exit 1
  fi
  if [[ ! -f $installed || $PDFJS/package-lock.json -nt $installed ]]; then
    echo "bootstrap: installing pdf.js into $PDFJS/node_modules"
    npm ci --prefix "$PDFJS" --no-audit --no-fund --silent
  fi
fi
