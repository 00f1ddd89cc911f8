"""The benchmark: full builds, rebuilds after an edit, and WeasyPrint alone, side by side for N practices.

    .venv/bin/python benchmarks/run.py                 # N = 10, 100, 250
    .venv/bin/python benchmarks/run.py --sizes 10 500  # any sizes
    .venv/bin/python benchmarks/run.py --pictures      # every practice with its own photograph

Every measurement is a fresh process, timed from outside with its whole process tree's memory
sampled (psutil), in a scratch project whose layouts are a copy, so that a layout change can be
made without touching this repository. The floor is WeasyPrint alone, in one process, laying out
and writing the pipeline's own final HTML for both profiles; the build makes those same two PDFs
and, besides, the per-practice PDFs, the Word draft, the map and the preflight.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psutil
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # a script beside this one, not a package

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SAMPLE_SECONDS = 0.05

# WeasyPrint alone: the final HTML of each profile, laid out and written as the build writes it
FLOOR = """
import json, sys
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
for html, base_url, stylesheets, variant, options in json.loads(sys.argv[1]):
    fonts = FontConfiguration()
    sheets = [CSS(filename=name, font_config=fonts) for name in stylesheets]
    HTML(filename=html, base_url=base_url).write_pdf(stylesheets=sheets, font_config=fonts, pdf_variant=variant,
                                                     **options)
"""

# The pipeline's final HTML per profile, written for the floor to read; its contents prints the pages the
# build found (the named destinations of the built book), as the pipeline's own last layout of the frame does
FINAL_HTML = """
import json, sys
from dataclasses import replace
from pathlib import Path
from pypdf import PdfReader
from compendium.book import Book
from compendium.book_html import render_html
from compendium.paths import ProjectPaths
from compendium.pipeline import load_collection
from compendium.profiles import PROFILES
paths = ProjectPaths(Path(sys.argv[1]))
collection = load_collection(Path(sys.argv[2]), paths)
built = PdfReader(sys.argv[4])
pages = {name: built.get_destination_page_number(target) + 1 for name, target in built.named_destinations.items()}
book = replace(Book.of(collection), pages=pages)
jobs = []
for name, profile in PROFILES.items():
    html = Path(sys.argv[3]) / f"{name}.html"
    html.write_text(render_html(book, collection, paths, profile), encoding="utf-8")
    options = dict(profile.write_options) | ({"full_fonts": True} if profile.whole_fonts else {})
    stylesheets = [str(paths.layouts / "pdf" / name) for name in ("book.css", profile.stylesheet) if name]
    jobs.append([str(html), str(paths.layouts / "pdf" / "book.html.j2"), stylesheets, profile.pdf_variant, options])
print(json.dumps(jobs))
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    """The peak of the RSS summed over the process tree: pages the workers share with the server they are
    forked from (WeasyPrint, loaded once) count once per process."""
    peak_pss_mb: float
    """The peak of the summed PSS: each shared page split among the processes sharing it, so counted once."""


@dataclass(frozen=True)
class Row:
    practices: int
    pages: int
    full: Run
    edit: Run
    layout_change: Run
    floor: Run

    @property
    def pages_per_second(self) -> float:
        return 2 * self.pages / self.full.seconds  # both profiles are laid out

    def cells(self) -> list[str]:
        return [f"{self.practices}", f"{self.pages}", f"{self.full.seconds:.1f}", f"{self.full.peak_rss_mb:.0f}",
                f"{self.full.peak_pss_mb:.0f}",
                f"{self.pages_per_second:.1f}", f"{self.edit.seconds:.1f}", f"{self.layout_change.seconds:.1f}",
                f"{self.floor.seconds:.1f}", f"{self.floor.peak_rss_mb:.0f}",
                f"{self.full.seconds / self.floor.seconds:.2f}×"]


HEADER = ["N", "pages", "full build s", "peak RSS MB", "peak PSS MB", "pages/s", "after a text edit s",
          "after a CSS edit s", "floor s", "floor RSS MB", "build / floor"]


def measure(command: list[str], cwd: Path) -> Run:
    """Wall time and the peaks of the summed RSS and PSS of the process and all its children, each address
    space counted once (`_shares_parent_memory`)."""
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while process.poll() is None:
        try:
            tree = [(member.memory_info().rss, _pss(member)) for member in (process, *process.children(recursive=True))
                    if not _shares_parent_memory(member)]
            peak_rss = max(peak_rss, sum(rss for rss, _ in tree))
            peak_pss = max(peak_pss, sum(pss for _, pss in tree))
        except (psutil.Error, OSError):
            pass  # a child ended between listing and reading
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return Run(seconds, peak_rss / 2**20, peak_pss / 2**20)


_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())
"""The number of the kcmp system call, which tells whether two processes share their memory."""
KCMP_VM = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


def _shares_parent_memory(process: psutil.Process) -> bool:
    """True for a child started by vfork that has not yet run its program: until then it is its parent's
    address space under a second pid, and its RSS is its parent's (the build starts its PDF readers so,
    by subprocess). Counting it would add the building process again for as long as a sample lasts."""
    parent = process.ppid()
    return _KCMP is not None and parent > 1 and _LIBC.syscall(_KCMP, parent, process.pid, KCMP_VM, 0, 0) == 0


def _pss(process: psutil.Process) -> int:
    """The process's PSS in bytes, from the kernel's one-line summary: psutil reads every mapping (smaps),
    which, sampled 20 times a second, takes enough of a core to slow the build it measures."""
    for line in Path(f"/proc/{process.pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no Pss in /proc/{process.pid}/smaps_rollup")


def scratch_project(folder: Path) -> Path:
    """layouts/ copied (the benchmark edits it), assets/ linked."""
    shutil.copytree(ROOT / "layouts", folder / "layouts")
    (folder / "assets").symlink_to(ROOT / "assets")
    return folder


def bench(count: int, pictures: bool, work: Path) -> Row:
    project = scratch_project(work / f"project-{count}")
    edition = generate(count, project / "sources" / f"bench-{count}", pictures)
    output = project / "build"
    build = [str(BIN / "compendium"), "build", str(edition), "--output", str(output)]

    full = measure(build, project)
    pages = len(PdfReader(output / edition.name / f"compendium-{edition.name}.pdf").pages)

    practice = sorted((edition / "practices").glob("*.yaml"))[count // 2]
    text = practice.read_text(encoding="utf-8")
    content = text.index("content:")  # a word of the spread's text, not of the name the contents lists
    practice.write_text(text[:content] + text[content:].replace("муниципальн", "Муниципальн", 1), encoding="utf-8")
    edit = measure(build, project)

    stylesheet = project / "layouts" / "pdf" / "book.css"
    stylesheet.write_text(stylesheet.read_text(encoding="utf-8") + "\n.benchmark-edit { color: var(--ink); }\n",
                          encoding="utf-8")
    layout_change = measure(build, project)

    html_folder = work / f"html-{count}"
    html_folder.mkdir()
    built = output / edition.name / f"compendium-{edition.name}.pdf"
    jobs = subprocess.run([str(BIN / "python"), "-c", FINAL_HTML, str(project), str(edition), str(html_folder),
                           str(built)], cwd=project, check=True, capture_output=True, text=True).stdout
    floor = measure([str(BIN / "python"), "-c", FLOOR, jobs], project)
    return Row(count, pages, full, edit, layout_change, floor)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---:|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 250],
                        help="numbers of practices (default: 10 100 250; add 500 for the largest)")
    parser.add_argument("--pictures", action="store_true", help="every practice with its own photograph")
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="compendium-bench-") as work:
        for count in arguments.sizes:
            rows.append(bench(count, arguments.pictures, Path(work)))
            print(f"N = {count}: done", file=sys.stderr, flush=True)
    print(f"{date.today().isoformat()}, {os.cpu_count()} cores, {'with' if arguments.pictures else 'without'} "
          "pictures; full build = both PDFs, per-practice PDFs, Word draft, map PNG and preflight")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
