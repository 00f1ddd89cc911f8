# Two commands do the whole set-up on a fresh Debian machine: `make build` and `make test`.
# Both first run scripts/bootstrap.sh (system libraries via apt-get, then the virtual environment);
# `make test` also installs LibreOffice Writer, which the Word-draft tests open the draft with, and the PDF
# readers the tests open every PDF with: MuPDF, Ghostscript and pdf.js (under Node.js, into tools/pdfjs/).

VENV ?= .venv
EDITION ?= sources/2022-2023
BIN := $(VENV)/bin

.PHONY: build test bench validate lint schema bootstrap clean

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	@$(BIN)/compendium build $(EDITION)

validate: bootstrap
	@$(BIN)/compendium validate $(EDITION)

test:
	@bash scripts/bootstrap.sh --test
	@$(BIN)/ruff check src tests tools benchmarks
	@$(BIN)/python -m pytest

bench: bootstrap
	@$(BIN)/python benchmarks/run.py $(SIZES)

schema: bootstrap
	@$(BIN)/compendium schema

clean:
	rm -rf build
