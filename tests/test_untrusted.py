"""Untrusted content: pictures and SVGs from applicants, markup in records, the network, and killed builds.

The subprocess tests run the real command line, as organisers do: one under an audit hook that
refuses every socket, and one that kills builds at random moments and checks build/ each time.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from compendium import pictures
from compendium.book import Book
from compendium.errors import CompendiumError, SourceProblems
from compendium.paths import ProjectPaths
from compendium.pictures import UnsafePicture, check_picture, sanitised_svg
from compendium.pipeline import CACHE, build, load_collection
from compendium.render_pdf import lay_out
from compendium.resources import RestrictedFetcher, check_layout_files
from compendium.write import StagedOutputs

from .conftest import snapshot

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = Path("practices") / "anuchinsky-beekeeping.yaml"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 30"'

# An audit hook, installed in every Python process of the run (as sitecustomize, so the worker
# processes have it too), that refuses to create, resolve or connect any network socket and says so
# on stderr. Audit hooks see every socket Python makes, whichever library makes it. Unix sockets
# stay allowed: they are how the layout workers are started, and they never leave the machine.
NO_SOCKETS = """
import socket, sys
def refuse(event, args):
    if not event.startswith("socket."):
        return
    family = args[1] if event == "socket.__new__" else getattr(args[0], "family", None)
    if family == socket.AF_UNIX:
        return
    sys.stderr.write(f"SOCKET {event} {args!r}\\n")
    raise PermissionError(f"no sockets in this test: {event}")
sys.addaudithook(refuse)
"""
CONTROL = """
import urllib.request
urllib.request.urlopen("http://example.org/", timeout=1)
"""
COMMAND_LINE = "import sys; from compendium.cli import main; main(sys.argv[1:])"


def leftovers(output_root: Path) -> list[str]:
    """Hidden staging or retired folders beside the editions' output folders (the lock file and cache are kept)."""
    return sorted(path.name for path in output_root.iterdir()
                  if path.name.startswith(".") and path.is_dir() and path.name != CACHE)


# --- pictures ---------------------------------------------------------------------------------------------

def test_a_picture_linked_to_outside_the_edition_is_refused(edition_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    Image.new("RGB", (10, 10)).save(secret)
    (edition_copy / "photos").mkdir()
    (edition_copy / "photos" / "visit.jpg").symlink_to(secret)

    message = check_picture(edition_copy, "photos/visit.jpg")

    assert message == f"photos/visit.jpg leads outside the edition folder (to {secret}); copy the picture into it"


def test_a_picture_over_the_byte_limit_is_refused(edition_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (300, 200), (10, 200, 30)).save(edition_copy / "visit.png")
    monkeypatch.setattr(pictures, "MAX_BYTES", 100)

    message = check_picture(edition_copy, "visit.png")

    assert message is not None
    assert message.startswith("visit.png is 0.0 MB; a picture may be at most 0 MB")


def test_a_valid_photo_passes(edition_copy: Path) -> None:
    Image.new("RGB", (300, 200), (10, 200, 30)).save(edition_copy / "visit.jpg")
    assert check_picture(edition_copy, "visit.jpg") is None


def test_sanitised_svg_keeps_the_drawing_and_drops_what_runs() -> None:
    hostile = (f'{SVG} onload="alert(1)"><script>alert(2)</script><?xml-stylesheet href="http://e.org/x.css"?>'
               '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>'
               '<rect width="40" height="30" fill="#c80" onclick="alert(3)"/><use href="#r"/></svg>').encode()

    cleaned = sanitised_svg(hostile).decode()

    assert '<rect width="40" height="30" fill="#c80"/>' in cleaned
    assert '<use href="#r"/>' in cleaned
    for gone in ("script", "alert", "onload", "onclick", "foreignObject", "xml-stylesheet", "e.org"):
        assert gone not in cleaned


def png_data(size: tuple[int, int], mode: str = "RGB") -> str:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_an_svg_may_embed_a_png_but_not_name_a_file() -> None:
    embedded = f'{SVG}><image href="{png_data((4, 3))}" width="4" height="3"/></svg>'
    assert b"data:image/png" in sanitised_svg(embedded.encode())
    with pytest.raises(UnsafePicture, match=r"refers to 'photo\.png' outside the picture"):
        sanitised_svg(f'{SVG}><image xlink:href="photo.png" width="4" height="3"/></svg>'.encode())
    with pytest.raises(UnsafePicture, match="has a fill that loads another file"):
        sanitised_svg(f'{SVG}><rect width="4" height="3" fill="url(other.svg#paint)"/></svg>'.encode())


@pytest.mark.parametrize(("svg", "refusal"), [
    ('<image xml:base="http://example.invalid/" href="#a"/><g id="a"/>', None),  # xml:base is dropped
    ('<style>@font-face{src:u\\72l(http://example.invalid/f.woff)}</style>', "has a style that loads"),
    ("<style>rect{fill:URL('http://example.invalid/p.svg#x')}</style>", "has a style that loads"),
    ('<rect style="background: image-set(\'x.png\' 1x)"/>', "has a style that loads"),
    ('<image href="data:image/png;base64,PHN2Zy8+"/>', "embeds a picture that is not a picture"),
    ('<image href="{bomb}"/>', "embeds a picture that has more than 40 megapixels"),
], ids=["xml-base", "escaped-url", "url-in-stylesheet", "image-set", "svg-as-png", "embedded-bomb"])
def test_svg_tricks_that_would_fetch_or_decode_too_much(svg: str, refusal: str | None) -> None:
    data = f"{SVG}>{svg.replace('{bomb}', png_data((12_000, 12_000), '1'))}</svg>".encode()
    if refusal is None:
        assert b"example.invalid" not in sanitised_svg(data)
    else:
        with pytest.raises(UnsafePicture, match=re.escape(refusal)):
            sanitised_svg(data)


def test_an_svg_with_a_plain_doctype_is_accepted() -> None:
    doctype = '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
    assert b"<rect" in sanitised_svg(f'{doctype}{SVG}><rect width="1" height="1"/></svg>'.encode())


def test_a_phone_jpeg_with_several_pictures_is_a_jpeg(edition_copy: Path) -> None:
    photo = Image.new("RGB", (64, 48), (200, 100, 50))
    photo.save(edition_copy / "phone.jpg", "MPO", save_all=True, append_images=[photo.copy()])
    assert Image.open(edition_copy / "phone.jpg").format == "MPO"
    assert check_picture(edition_copy, "phone.jpg") is None


# --- what the renderer may fetch --------------------------------------------------------------------------

@pytest.fixture
def sockets_refused(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records, and refuses, every attempt to resolve a name or open a connection in this process."""
    attempts: list[str] = []

    def refuse(name: str):
        def refused(*args: object, **kwargs: object) -> None:
            attempts.append(name)
            raise PermissionError(f"no sockets in this test: {name}")
        return refused

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    return attempts


@pytest.mark.parametrize("url", [
    "http://example.org/logo.png",
    "https://example.org/font.woff2",
    "ftp://example.org/x.png",
    "file:///etc/passwd",
    "file://{root}/layouts/../../outside.css",
    "data:text/html,<script>alert(1)</script>",
    "data:image/png;base64,PHN2Zy8+",  # an SVG passed off as a PNG
    "file://tracker.example.invalid{root}/layouts/pdf/book.css",  # a host is a name to resolve
])
def test_the_fetcher_refuses_everything_outside_the_project(url: str, sockets_refused: list[str],
                                                             edition_copy: Path) -> None:
    fetcher = RestrictedFetcher(ProjectPaths(ROOT), edition_copy)

    with pytest.raises(ValueError, match="refused to load"):
        fetcher.fetch(url.format(root=ROOT))

    assert fetcher.refused == [url.format(root=ROOT)]
    assert sockets_refused == []


def test_the_fetcher_serves_the_editions_svgs_sanitised(edition_copy: Path) -> None:
    logo = edition_copy / "logo.svg"
    logo.write_text(f'{SVG} onload="alert(1)"><script>alert(2)</script><rect width="4" height="3"/></svg>')
    fetcher = RestrictedFetcher(ProjectPaths(ROOT), edition_copy)

    served = fetcher.fetch(logo.resolve().as_uri()).read()

    assert b"<rect" in served
    assert b"script" not in served and b"onload" not in served


def test_a_missing_or_broken_layout_font_is_named_with_its_stylesheet_line(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "layouts", tmp_path / "layouts")
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    (tmp_path / "assets" / "fonts" / "PTSans-Bold.ttf").unlink()
    (tmp_path / "assets" / "fonts" / "PTSerif-Bold.ttf").write_text("<html>404</html>")

    with pytest.raises(SourceProblems) as raised:
        check_layout_files(ProjectPaths(tmp_path))

    messages = [f"{problem.file.name}:{problem.line}: {problem.field}: {problem.message}"
                for problem in raised.value.problems]
    assert messages == [
        "book.css:7: @font-face: ../../assets/fonts/PTSans-Bold.ttf does not exist; restore "
        f"{tmp_path / 'assets' / 'fonts'} (see its SOURCE file for the script)",
        "book.css:13: @font-face: ../../assets/fonts/PTSerif-Bold.ttf is not a TrueType, OpenType or WOFF font",
    ]


# --- the whole command line, in a subprocess ----------------------------------------------------------------

def run_without_sockets(code: str, arguments: list[str], cwd: Path, hooks: Path) -> subprocess.CompletedProcess[str]:
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(NO_SOCKETS, encoding="utf-8")
    environment = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", code, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=environment)


def test_the_socket_guard_catches_a_fetch(tmp_path: Path) -> None:
    """The control: the same harness does catch Python opening a connection."""
    result = run_without_sockets(CONTROL, [], tmp_path, tmp_path / "hooks")
    assert result.returncode != 0
    assert "SOCKET socket." in result.stderr


HOSTILE_TITLE = "Пчёлы <b>{{ config }}</b> {% if 1 %}да{% endif %} <script>alert(1)</script>"
HOSTILE_LINE = "<img src=http://example.org/pixel.png> {{ 7+7 }} &amp; <a href=file:///etc/passwd>x</a>"


def test_a_build_opens_no_socket_and_prints_markup_from_records_as_text(edition_copy: Path, tmp_path: Path) -> None:
    practice = edition_copy / PRACTICE
    text = practice.read_text(encoding="utf-8")
    title_line = next(line for line in text.splitlines() if line.startswith("title:"))
    text = text.replace(title_line, f"title: '{HOSTILE_TITLE}'")
    text = text.replace("content: |\n", f"content: |\n  {HOSTILE_LINE}\n\n")
    practice.write_text(text + "photos:\n  - file: logo.svg\n    alt: Эмблема\n", encoding="utf-8")
    (edition_copy / "logo.svg").write_text(
        f'{SVG} onload="fetch(\'http://example.org\')"><script>alert(1)</script>'
        '<rect width="40" height="30" fill="#3a7"/></svg>', encoding="utf-8")

    result = run_without_sockets(COMMAND_LINE, ["build", str(edition_copy), "--profile", "screen",
                                                 "--output", str(tmp_path / "out")], ROOT, tmp_path / "hooks")

    assert result.returncode == 0, result.stderr
    assert "SOCKET" not in result.stderr
    folder = tmp_path / "out" / edition_copy.name
    spread = subprocess.run(["pdftotext", "-layout", str(folder / "practices" / "anuchinsky-beekeeping.pdf"), "-"],
                            capture_output=True, text=True, check=True).stdout
    flat = " ".join(spread.replace("\u00a0", " ").split())
    for literal in ("<b>{{ config }}</b>", "{% if 1 %}да{% endif %}", "<script>alert(1)</script>",
                    HOSTILE_LINE):
        assert literal in flat, literal
    with zipfile.ZipFile(folder / f"draft-{edition_copy.name}.docx") as draft:
        body = draft.read("word/document.xml").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "{{ config }}" in body


# --- builds that die ------------------------------------------------------------------------------------------

def build_command(edition: Path, output_root: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "compendium"), "build", str(edition), "--profile", "screen",
            "--output", str(output_root)]


def test_a_build_killed_at_any_moment_leaves_the_previous_outputs(edition_copy: Path, tmp_path: Path) -> None:
    output_root = tmp_path / "out"
    subprocess.run(build_command(edition_copy, output_root), cwd=ROOT, check=True, capture_output=True, timeout=300)
    folder = output_root / edition_copy.name
    practice = edition_copy / PRACTICE
    text = practice.read_text(encoding="utf-8")

    def edit(count: int) -> None:
        """A change that any build would write, and that no earlier build has laid out and cached."""
        practice.write_text(text.replace("participants:\n  count: 3", f"participants:\n  count: {count}"),
                            encoding="utf-8")

    edit(100)
    started = time.monotonic()  # the builds killed below lay out one spread again, like this one
    subprocess.run(build_command(edition_copy, output_root), cwd=ROOT, check=True, capture_output=True, timeout=300)
    rebuild = time.monotonic() - started
    previous = snapshot(folder)

    moments = random.Random(6).sample(range(5, 90), 8)  # percent of a rebuild
    killed = 0
    for count, percent in enumerate(sorted(moments), start=4):
        edit(count)
        # its own process group, so that the kill takes its worker processes too, as a killed terminal does
        process = subprocess.Popen(build_command(edition_copy, output_root), cwd=ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rebuild * percent / 100)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL)
        killed += process.returncode == -signal.SIGKILL
        landed = snapshot(folder) != previous
        if landed:
            # it finished, or was killed only after swapping its outputs in: then they are the edit's, whole,
            # the same bytes as a build of the same sources elsewhere
            reference = tmp_path / f"reference-{count}"
            subprocess.run(build_command(edition_copy, reference), cwd=ROOT, check=True, capture_output=True,
                           timeout=300)
            assert snapshot(folder) == snapshot(reference / edition_copy.name), f"killed at {percent}% of a build"
            previous = snapshot(folder)
    assert killed >= 6, "too few builds were killed before they finished; the moments are too late"

    subprocess.run(build_command(edition_copy, output_root), cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert leftovers(output_root) == []
    assert set(snapshot(folder)) == set(previous)
    # the last edit is written now, unless the last build killed had already swapped it in
    assert (snapshot(folder) == previous) == landed


def test_a_build_that_died_between_its_two_renames_is_rolled_back(tmp_path: Path) -> None:
    """Where the folders cannot be exchanged in one step, the old folder is restored by the next build."""
    folder = tmp_path / "2022-2023"
    retired = tmp_path / ".2022-2023.retired-x1" / "2022-2023"
    retired.mkdir(parents=True)
    (retired / "compendium-2022-2023.pdf").write_bytes(b"%PDF previous")
    (tmp_path / ".2022-2023.staging-x2").mkdir()

    with StagedOutputs(folder):
        assert (folder / "compendium-2022-2023.pdf").read_bytes() == b"%PDF previous"

    assert leftovers(tmp_path) == []


def test_a_commit_keeps_outputs_it_does_not_make_and_drops_stale_ones(tmp_path: Path) -> None:
    folder = tmp_path / "2022-2023"
    (folder / "practices").mkdir(parents=True)
    (folder / "print.pdf").write_bytes(b"print, from before")
    (folder / "practices" / "gone.pdf").write_bytes(b"a practice no longer in the edition")
    (folder / "screen.pdf").write_bytes(b"screen, old")

    with StagedOutputs(folder) as staged:
        staged.add(folder / "screen.pdf", b"screen, new")
        staged.add(folder / "practices" / "kept.pdf", b"a practice")
        assert (folder / "screen.pdf").read_bytes() == b"screen, old"  # nothing visible before the commit
        staged.commit(stale=[folder / "practices" / "gone.pdf"])

    assert {path: folder.joinpath(path).read_bytes() for path in snapshot(folder)} == {
        "practices/kept.pdf": b"a practice",
        "print.pdf": b"print, from before",
        "screen.pdf": b"screen, new",
    }
    assert leftovers(tmp_path) == []


def test_leaving_without_a_commit_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "2022-2023"
    folder.mkdir()
    (folder / "screen.pdf").write_bytes(b"screen, old")

    with pytest.raises(RuntimeError), StagedOutputs(folder) as staged:
        staged.add(folder / "screen.pdf", b"screen, new")
        raise RuntimeError("a check failed")

    assert snapshot(folder) == {"screen.pdf": hashlib.sha256(b"screen, old").hexdigest()}
    assert leftovers(tmp_path) == []


def test_a_layout_that_asks_for_the_network_is_refused_with_its_line(tmp_path: Path,
                                                                      sockets_refused: list[str]) -> None:
    shutil.copytree(ROOT / "layouts", tmp_path / "layouts")
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    stylesheet = tmp_path / "layouts" / "pdf" / "book.css"
    lines = stylesheet.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(4, "@import url(https://fonts.example.org/css?family=PT+Sans);\n")  # line 5, before any rule
    stylesheet.write_text("".join(lines), encoding="utf-8")
    paths = ProjectPaths(tmp_path)
    collection = load_collection(ROOT / "sources" / "2022-2023", paths)

    with pytest.raises(CompendiumError) as raised:
        lay_out(Book.of(collection), collection, paths)

    assert re.search(r"book\.css:5: refused https://fonts\.example\.org/css\?family=PT\+Sans: only files inside "
                     r"the project may be used", str(raised.value)), str(raised.value)
    assert sockets_refused == []


def test_an_output_folder_that_is_a_link_is_refused_and_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "2022-2023").symlink_to(elsewhere)

    with pytest.raises(CompendiumError, match="is not a folder"), StagedOutputs(tmp_path / "out" / "2022-2023"):
        pass

    assert (tmp_path / "out" / "2022-2023").is_symlink()
    assert leftovers(tmp_path / "out") == []


def test_recovery_reads_a_folder_name_literally(tmp_path: Path) -> None:
    """A killed build of edition «a» left its old outputs; building «[ab]» must not take them for its own."""
    retired = tmp_path / ".a.retired-k1" / "a"
    retired.mkdir(parents=True)
    (retired / "compendium-a.pdf").write_bytes(b"%PDF a")

    with StagedOutputs(tmp_path / "[ab]"):
        pass

    assert (retired / "compendium-a.pdf").exists()


def test_a_profile_asked_for_twice_is_built_once(edition_copy: Path, tmp_path: Path) -> None:
    result = build(edition_copy, ProjectPaths(ROOT), output_root=tmp_path / "out", profiles=("screen", "screen"))
    assert len([key for key in result.outputs if key.startswith("practice-")]) == 10
    assert len(list((tmp_path / "out" / edition_copy.name / "practices").glob("*.pdf"))) == 10
