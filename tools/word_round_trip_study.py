"""Measures which anchoring mechanisms LibreOffice Writer keeps across saves and edits (docs/word-round-trip.md).

For each mechanism it writes a small Word file: a paragraph before, a three-item field (Alpha, Beta, Gamma)
marked with the mechanism, and a paragraph after. Each scenario opens, edits and saves it in LibreOffice
through UNO (tests/libreoffice_uno.py), then a second plain save, and prints per paragraph which marks
it carries. Run from the project root with the test environment: `.venv/bin/python tools/word_round_trip_study.py`
(about a minute; needs `scripts/bootstrap.sh --test`).
"""

from __future__ import annotations

import copy
import sys
import tempfile
import zipfile
from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import LibreOffice
from tests.libreoffice_uno import Writer

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TEXTS = ["Before the field", "Alpha one", "Beta two", "Gamma three", "Omega after"]
FIELD = (1, 4)  # the field's paragraphs, as a slice of TEXTS

SCENARIOS: dict[str, list[dict]] = {
    "type inside": [{"do": "append", "find": "Beta two", "text": " plus"}],
    "type in first": [{"do": "replace", "find": "Alpha one", "old": "one", "text": "uno"}],
    "delete first": [{"do": "delete_paragraph", "find": "Alpha one"}],
    "move first down": [{"do": "move_down", "find": "Alpha one"}],
    "split": [{"do": "split", "find": "Beta two", "after": "Beta"}],
    "join first two": [{"do": "join", "find": "Alpha one"}],
    "cut last, paste first": [{"do": "cut_paste", "find": "Gamma three", "before": "Alpha one"}],
}


def bookmark(paragraph, name: str, number: int, where: str) -> None:
    element = OxmlElement(f"w:bookmark{where}")
    element.set(qn("w:id"), str(number))
    if where == "Start":
        element.set(qn("w:name"), name)
        paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, element)
    else:
        paragraph._p.append(element)


def mark_range(document, field) -> None:
    """One bookmark from the field's first paragraph to its last, as the draft writes today."""
    bookmark(field[0], "cf_F", 10, "Start")
    bookmark(field[-1], "cf_F", 10, "End")


def mark_late_range(document, field) -> None:
    """One bookmark from the end of the field's first paragraph (after its text) to the end of its last."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), "10")
    start.set(qn("w:name"), "cf_F")
    field[0]._p.append(start)
    bookmark(field[-1], "cf_F", 10, "End")


def mark_body_range(document, field) -> None:
    """One bookmark whose start and end stand between paragraphs, in the body."""
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), "10")
    start.set(qn("w:name"), "cf_F")
    end.set(qn("w:id"), "10")
    field[0]._p.addprevious(start)
    field[-1]._p.addnext(end)


def mark_each(document, field) -> None:
    """One bookmark per paragraph, opened and closed inside it."""
    for number, paragraph in enumerate(field, 1):
        bookmark(paragraph, f"cf_F_{number}", 10 + number, "Start")
        bookmark(paragraph, f"cf_F_{number}", 10 + number, "End")


def mark_block_sdt(document, field) -> None:
    """A block-level content control around the field's paragraphs, with an alias and a tag."""
    sdt = etree.SubElement(field[0]._p.getparent(), qn("w:sdt"))
    field[0]._p.addprevious(sdt)
    properties = etree.SubElement(sdt, qn("w:sdtPr"))
    etree.SubElement(properties, qn("w:alias")).set(qn("w:val"), "F")
    etree.SubElement(properties, qn("w:tag")).set(qn("w:val"), "cf:F")
    etree.SubElement(properties, qn("w:id")).set(qn("w:val"), "1001")
    content = etree.SubElement(sdt, qn("w:sdtContent"))
    for paragraph in field:
        content.append(paragraph._p)


def mark_run_sdt(document, field) -> None:
    """A run-level content control around each paragraph's text, tagged with the paragraph's id."""
    for number, paragraph in enumerate(field, 1):
        sdt = OxmlElement("w:sdt")
        properties = etree.SubElement(sdt, qn("w:sdtPr"))
        etree.SubElement(properties, qn("w:alias")).set(qn("w:val"), f"F.{number}")
        etree.SubElement(properties, qn("w:tag")).set(qn("w:val"), f"cf:F.{number}")
        etree.SubElement(properties, qn("w:id")).set(qn("w:val"), str(2000 + number))
        content = etree.SubElement(sdt, qn("w:sdtContent"))
        runs = paragraph._p.findall(qn("w:r"))
        runs[0].addprevious(sdt)
        for run in runs:
            content.append(run)


def mark_para_id(document, field) -> None:
    """Word 2010's paragraph ids (w14:paraId, w14:textId) on every paragraph."""
    for number, paragraph in enumerate(document.paragraphs, 1):
        paragraph._p.set(f"{{{W14}}}paraId", f"1A2B3C{number:02X}")
        paragraph._p.set(f"{{{W14}}}textId", f"7F6E5D{number:02X}")


def mark_vanish(document, field) -> None:
    """A hidden run at the start of each paragraph whose text is the paragraph's id."""
    for number, paragraph in enumerate(field, 1):
        run = paragraph._p.findall(qn("w:r"))[0]
        hidden = copy.deepcopy(run)
        properties = hidden.get_or_add_rPr()
        properties.append(OxmlElement("w:vanish"))
        hidden.find(qn("w:t")).text = f"⟦F.{number}⟧"
        run.addprevious(hidden)


def mark_style(document, field) -> None:
    """A paragraph style of the field's own."""
    style = document.styles.add_style("cf F", 1)
    style.base_style = document.styles["List Bullet"]
    for paragraph in field:
        paragraph.style = style


def mark_rsid(document, field) -> None:
    """Revision-session ids on the field's paragraphs (and declared in the settings)."""
    for number, paragraph in enumerate(field, 1):
        for attribute in ("w:rsidR", "w:rsidRDefault", "w:rsidP"):
            paragraph._p.set(qn(attribute), f"00F0000{number}")
    rsids = OxmlElement("w:rsids")
    for number in (1, 2, 3):
        etree.SubElement(rsids, qn("w:rsid")).set(qn("w:val"), f"00F0000{number}")
    document.settings.element.append(rsids)


MECHANISMS = {
    "bookmark range (as today)": mark_range, "bookmark range from the first paragraph's end": mark_late_range,
    "bookmark range, body-level": mark_body_range,
    "bookmark per paragraph": mark_each, "block content control": mark_block_sdt,
    "run content control per paragraph": mark_run_sdt, "w14:paraId": mark_para_id, "hidden run (w:vanish)": mark_vanish,
    "paragraph style per field": mark_style, "w:rsid attributes": mark_rsid,
}


def make(path: Path, mark) -> None:
    document = docx.Document()
    for text in TEXTS:
        document.add_paragraph(text, style="List Bullet" if text in TEXTS[slice(*FIELD)] else None)
    mark(document, document.paragraphs[slice(*FIELD)])
    document.core_properties.comments = "cf-edition: 2022-2023"  # a document property, for comparison
    document.save(str(path))
    add_document_level_marks(path)


def add_document_level_marks(path: Path) -> None:
    """A document variable in the settings and a custom XML part, both naming the edition."""
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    settings = etree.fromstring(parts["word/settings.xml"])
    variables = etree.SubElement(settings, qn("w:docVars"))
    variable = etree.SubElement(variables, qn("w:docVar"))
    variable.set(qn("w:name"), "cf_edition")
    variable.set(qn("w:val"), "2022-2023")
    parts["word/settings.xml"] = etree.tostring(settings, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts["customXml/item1.xml"] = b'<?xml version="1.0"?><cf:edition xmlns:cf="urn:compendium">2022-2023</cf:edition>'
    parts["word/_rels/document.xml.rels"] = parts["word/_rels/document.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdCf" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/customXml" Target="../customXml/item1.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)


def marks(path: Path) -> str:
    """Per paragraph, the marks it carries: 'text[mark,...]' joined by ' | '. A bookmark shows as
    ``<name`` where it starts, ``name>`` where it ends, ``name`` in between, ``<name?`` where a start has no end."""
    with zipfile.ZipFile(path) as package:
        body = etree.fromstring(package.read("word/document.xml")).find(W + "body")
        styles = etree.fromstring(package.read("word/styles.xml"))
    style_names = {style.get(W + "styleId"): style.find(W + "name").get(W + "val")
                   for style in styles.iter(W + "style")}
    ended = {end.get(W + "id") for end in body.iter(W + "bookmarkEnd")}
    names = {start.get(W + "id"): start.get(W + "name") for start in body.iter(W + "bookmarkStart")
             if start.get(W + "name", "").startswith("cf_")}
    paragraphs, current, open_now = [], None, set()
    for element in body.iter(W + "p", W + "bookmarkStart", W + "bookmarkEnd"):
        if element.tag == W + "p":
            current = (element, set(names[i] for i in open_now))
            paragraphs.append(current)
            continue
        number = element.get(W + "id")
        if number not in names:
            continue
        inside = current is not None and element in current[0].iter()
        if element.tag == W + "bookmarkStart":
            label = "<" + names[number] + ("" if number in ended else "?")
            open_now |= {number} if number in ended else set()
        else:
            label = names[number] + ">"
            open_now.discard(number)
        if inside:
            current[1].add(label)
        # a body-level start belongs to the next paragraph, which the open set already covers
    return " | ".join(describe(paragraph, found, style_names) for paragraph, found in paragraphs)


def describe(paragraph, found: set[str], style_names: dict[str, str]) -> str:
    text = "".join(t.text or "" for t in paragraph.iter(W + "t") if not hidden(t))
    found = set(found)
    found |= {"sdt:" + tag.get(W + "val") for sdt in paragraph.iterancestors(W + "sdt")
              for tag in sdt.iter(W + "tag")}
    found |= {"rsdt:" + tag.get(W + "val") for tag in paragraph.iter(W + "tag")}
    found |= {"hid:" + t.text for t in paragraph.iter(W + "t") if hidden(t)}
    if paragraph.get(f"{{{W14}}}paraId"):
        found.add("paraId:" + paragraph.get(f"{{{W14}}}paraId"))
    found |= {f"{etree.QName(name).localname}:{value}" for name, value in paragraph.attrib.items()
              if "rsid" in name and "00F0" in value}
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    if style is not None and style_names.get(style.get(W + "val"), "").startswith("cf"):
        found.add("style:" + style_names[style.get(W + "val")])
    return f"{text}[{','.join(sorted(found))}]"


def hidden(text_element) -> bool:
    run = text_element.getparent()
    return run.find(f"{W}rPr/{W}vanish") is not None


def document_level(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        settings = package.read("word/settings.xml").decode()
        core = package.read("docProps/core.xml").decode() if "docProps/core.xml" in names else ""
    return (f"docVar={'cf_edition' in settings} customXml={any(n.startswith('customXml/') for n in names)} "
            f"core comment={'cf-edition' in core}")


def run_study(writer: Writer, folder: Path) -> None:
    for name, mark in MECHANISMS.items():
        original = folder / f"{mark.__name__}.docx"
        make(original, mark)
        print(f"## {name}\n  draft     : {marks(original)}")
        saves = [folder / f"{mark.__name__}-save{n}.docx" for n in range(1, 11)]
        writer.rounds([{"open": original if n == 0 else saves[n - 1], "save": saves[n]} for n in range(10)])
        for n in (1, 2, 10):
            print(f"  {n:>2} saves  : {marks(saves[n - 1])}")
        print(f"  document  : {document_level(saves[0])} / after 10: {document_level(saves[9])}")
        for scenario, edits in SCENARIOS.items():
            edited, again = folder / f"{mark.__name__}-{len(scenario)}a.docx", folder / f"{mark.__name__}-b.docx"
            writer.rounds([{"open": original, "save": edited, "edits": edits}, {"open": edited, "save": again}])
            print(f"  {scenario:<22}: {marks(edited)}\n  {'  + plain save':<22}: {marks(again)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        writer = Writer(LibreOffice(folder))
        try:
            run_study(writer, folder)
        finally:
            writer.close()


if __name__ == "__main__":
    main()
