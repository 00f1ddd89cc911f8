"""Writes layouts/docx/reference.docx: the styles, list definitions and page set-up of the Word draft.

The draft writer (src/compendium/render_docx.py) applies style ids only; every look lives here.
Style ids are ASCII, display names Russian; Word's built-in styles (headings, lists, TOC, caption)
keep their built-in names so that Word and LibreOffice recognise them and show them localised.
The archive is written with fixed dates, so running this script twice gives the same bytes, and a
test checks that the committed template is what this script makes.

    .venv/bin/python tools/make_docx_reference.py
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "layouts" / "docx" / "reference.docx"

# The PDF's palette (layouts/pdf/book.css).
INK, MUTED, PRIMARY, ACCENT, TINT, RULE = "1C2330", "5D6778", "153F6B", "E2622A", "EEF3F8", "C8D3E0"
SANS, SERIF, NARROW = "PT Sans", "PT Serif", "PT Sans Narrow"

# A4 with 25 mm inside and 20 mm outside margins; the text is 165 mm wide (the map is drawn at that width).
PAGE_WIDTH, PAGE_HEIGHT = 11906, 16838  # twips
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 1134, 1247, 1417, 1134
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
BULLETS_NUM_ID, NUMBERS_NUM_ID = 1, 2


@dataclass(frozen=True)
class Style:
    style_id: str
    name: str
    kind: str = "paragraph"
    based_on: str | None = "Normal"
    next_style: str | None = None
    paragraph: str = ""
    run: str = ""
    outline_level: int | None = None


def font(family: str) -> str:
    return f'<w:rFonts w:ascii="{family}" w:hAnsi="{family}" w:cs="{family}" w:eastAsia="{family}"/>'


def size(points: float) -> str:
    half_points = round(points * 2)
    return f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


def color(value: str) -> str:
    return f'<w:color w:val="{value}"/>'


def spacing(before: float = 0, after: float = 0, line: float | None = None) -> str:
    line_attr = f' w:line="{round(line * 240)}" w:lineRule="auto"' if line else ""
    return f'<w:spacing w:before="{round(before * 20)}" w:after="{round(after * 20)}"{line_attr}/>'


def border(side: str, width_eighths: int, value: str, space: int = 4) -> str:
    return f'<w:{side} w:val="single" w:sz="{width_eighths}" w:space="{space}" w:color="{value}"/>'


def shading(fill: str) -> str:
    return f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>'


def numbered(num_id: int, level: int) -> str:
    return f'<w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'


BOLD, CAPS, KEEP_NEXT, PAGE_BREAK = "<w:b/><w:bCs/>", "<w:caps/>", "<w:keepNext/>", "<w:pageBreakBefore/>"
RIGHT_TAB_DOTS = f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH}"/></w:tabs>'
NO_HYPHENATION = "<w:suppressAutoHyphens/>"
QUOTE_FRAME = (f"<w:pBdr>{border('left', 24, PRIMARY, 8)}</w:pBdr>{shading(TINT)}"
               '<w:ind w:left="340" w:right="227"/>')

STYLES: tuple[Style, ...] = (
    # Word's built-in styles, restyled.
    Style("Normal", "Normal", based_on=None, paragraph=spacing(after=6, line=1.25),
          run=font(SANS) + size(10.5) + color(INK)),
    Style("Title", "Title", next_style="CoverPeriod", paragraph=spacing(before=96, after=12, line=1.1) + NO_HYPHENATION,
          run=font(SERIF) + BOLD + size(32) + color(PRIMARY)),
    Style("Heading1", "heading 1", next_style="Normal", outline_level=0,
          paragraph=KEEP_NEXT + PAGE_BREAK + spacing(after=18, line=1.1) + NO_HYPHENATION
          + f"<w:pBdr>{border('top', 36, ACCENT, 12)}</w:pBdr>",
          run=font(SERIF) + BOLD + size(24) + color(PRIMARY)),
    Style("Heading2", "heading 2", next_style="Region", outline_level=1,
          paragraph=KEEP_NEXT + spacing(before=4, after=2, line=1.1) + NO_HYPHENATION,
          run=font(SANS) + BOLD + size(18) + color(PRIMARY)),
    Style("Heading3", "heading 3", next_style="Normal", outline_level=2,
          paragraph=KEEP_NEXT + spacing(before=12, after=4) + NO_HYPHENATION,
          run=font(SANS) + BOLD + CAPS + size(8.5) + color(ACCENT) + '<w:spacing w:val="20"/>'),
    Style("TOCHeading", "TOC Heading", based_on="Heading1", next_style="Normal", outline_level=9),
    Style("TOC1", "toc 1", next_style="Normal", paragraph=RIGHT_TAB_DOTS + spacing(before=6, after=2),
          run=BOLD + size(11) + color(PRIMARY)),
    Style("TOC2", "toc 2", next_style="Normal", paragraph=RIGHT_TAB_DOTS + spacing(after=2) + '<w:ind w:left="284"/>',
          run=size(10.5)),
    Style("Header", "header", paragraph=spacing() + f'<w:tabs><w:tab w:val="right" w:pos="{TEXT_WIDTH}"/></w:tabs>',
          run=size(8) + color(MUTED)),
    Style("Footer", "footer", paragraph=spacing() + f'<w:tabs><w:tab w:val="right" w:pos="{TEXT_WIDTH}"/></w:tabs>',
          run=BOLD + size(9) + color(PRIMARY)),
    Style("Caption", "caption", next_style="Normal", paragraph=spacing(before=4, after=12),
          run=size(8.5) + color(MUTED)),
    Style("ListBullet", "List Bullet", paragraph=numbered(BULLETS_NUM_ID, 0) + spacing(after=3)),
    Style("ListBullet2", "List Bullet 2", paragraph=numbered(BULLETS_NUM_ID, 1) + spacing(after=2)),
    Style("ListBullet3", "List Bullet 3", paragraph=numbered(BULLETS_NUM_ID, 2) + spacing(after=2)),
    Style("ListNumber", "List Number", paragraph=numbered(NUMBERS_NUM_ID, 0) + spacing(after=3)),
    Style("ListNumber2", "List Number 2", paragraph=numbered(NUMBERS_NUM_ID, 1) + spacing(after=2)),
    Style("ListNumber3", "List Number 3", paragraph=numbered(NUMBERS_NUM_ID, 2) + spacing(after=2)),
    Style("ListContinue", "List Continue", paragraph='<w:ind w:left="284"/>' + spacing(after=3)),
    Style("Strong", "Strong", kind="character", based_on="DefaultParagraphFont", run=BOLD),
    Style("Hyperlink", "Hyperlink", kind="character", based_on="DefaultParagraphFont",
          run=color(PRIMARY) + '<w:u w:val="single"/>'),
    # The collection's own styles.
    Style("CoverContest", "Обложка: конкурс", paragraph=spacing(after=6) + NO_HYPHENATION,
          run=size(12) + color(MUTED)),
    Style("CoverPeriod", "Обложка: годы", next_style="CoverLabel", paragraph=spacing(after=72),
          run=font(NARROW) + BOLD + size(48) + color(ACCENT)),
    Style("CoverLabel", "Обложка: подпись раздела", paragraph=KEEP_NEXT + spacing(before=12, after=3),
          run=BOLD + CAPS + size(8) + color(ACCENT) + '<w:spacing w:val="20"/>'),
    Style("CoverCredit", "Обложка: организация", paragraph=spacing(after=2) + NO_HYPHENATION, run=size(10)),
    Style("Lead", "Вводный абзац", paragraph=spacing(after=8, line=1.4), run=font(SERIF) + size(12)),
    Style("Label", "Метка", next_style="Normal", paragraph=KEEP_NEXT + spacing(before=12, after=4),
          run=BOLD + CAPS + size(8) + color(ACCENT) + '<w:spacing w:val="20"/>'),
    Style("Organisation", "Организация", paragraph=spacing(after=4) + shading(TINT)
          + f"<w:pBdr>{border('left', 18, PRIMARY, 6)}</w:pBdr>" + '<w:ind w:left="170"/>' + NO_HYPHENATION,
          run=BOLD + size(10.5) + color(PRIMARY)),
    Style("ForewordText", "Текст вступительного слова", paragraph=spacing(after=8, line=1.45),
          run=font(SERIF) + size(12)),
    Style("SignatureName", "Подпись: имя", next_style="SignaturePosition",
          paragraph=KEEP_NEXT + spacing(before=18, after=2) + NO_HYPHENATION,
          run=BOLD + size(12) + color(PRIMARY)),
    Style("SignaturePosition", "Подпись: должность", paragraph=spacing(after=0) + NO_HYPHENATION,
          run=size(10) + color(MUTED)),
    Style("MapFigure", "Карта", next_style="Caption", paragraph=KEEP_NEXT + spacing(before=6, after=0)
          + '<w:jc w:val="center"/>'),
    Style("Stats", "Итоги географии", paragraph=spacing(before=6, after=12), run=size(11) + color(MUTED)),
    Style("Footnote", "Сноска", paragraph=spacing(before=24) + f"<w:pBdr>{border('top', 4, RULE, 6)}</w:pBdr>",
          run=size(8.5) + color(MUTED)),
    Style("Colophon", "Выходные сведения", paragraph=spacing(after=4) + NO_HYPHENATION, run=size(10) + color(MUTED)),
    Style("AwardBadge", "Награда", next_style="Heading2", paragraph=PAGE_BREAK + KEEP_NEXT + spacing(after=10),
          run=BOLD + CAPS + size(8.5) + color("FFFFFF") + shading(ACCENT) + '<w:spacing w:val="20"/>'),
    Style("Region", "Регион практики", next_style="Label", paragraph=spacing(after=14) + NO_HYPHENATION,
          run=size(11) + color(MUTED)),
    Style("PracticeTitle", "Название практики", next_style="QuoteText",
          paragraph=spacing(after=14, line=1.2) + NO_HYPHENATION
          + f"<w:pBdr>{border('bottom', 6, RULE, 8)}</w:pBdr>",
          run=font(SERIF) + BOLD + size(15) + color(PRIMARY)),
    Style("QuoteText", "Цитата", next_style="QuoteAuthor", paragraph=QUOTE_FRAME + spacing(after=0, line=1.35),
          run=font(SERIF) + '<w:i/><w:iCs/>' + size(11)),
    Style("QuoteAuthor", "Автор цитаты", next_style="QuotePosition",
          paragraph=QUOTE_FRAME + KEEP_NEXT + spacing(before=0, after=0) + NO_HYPHENATION,
          run=BOLD + size(9.5) + color(PRIMARY)),
    Style("QuotePosition", "Должность автора цитаты", paragraph=QUOTE_FRAME + spacing(after=12) + NO_HYPHENATION,
          run=size(9) + color(MUTED)),
    Style("FigureValue", "Показатель", next_style="FigureCaption", paragraph=KEEP_NEXT + spacing(after=0, line=1.0),
          run=font(NARROW) + BOLD + size(26) + color(ACCENT)),
    Style("FigureWords", "Показатель: слова при числе", kind="character", based_on="DefaultParagraphFont",
          run='<w:b w:val="0"/><w:bCs w:val="0"/>' + font(SANS) + size(12)),
    Style("FigureCaption", "Подпись к показателю", paragraph=spacing(after=8, line=1.15) + '<w:ind w:right="170"/>',
          run=size(9) + color(INK)),
    Style("Statement", "Результат", paragraph=spacing(after=6) + '<w:ind w:left="170"/>'
          + f"<w:pBdr>{border('left', 18, ACCENT, 6)}</w:pBdr>"),
    Style("ParticipantsCount", "Число участников", next_style="ParticipantsNoun",
          paragraph=KEEP_NEXT + spacing(before=6, after=0, line=1.0),
          run=font(NARROW) + BOLD + size(28) + color(PRIMARY)),
    Style("ParticipantsNoun", "Кто участвует", paragraph=spacing(after=6), run=size(10) + color(MUTED)),
)

BULLET_GLYPHS = ("•", "–", "·")  # glyphs PT Sans has, so no client substitutes another font


def _level_indent(level: int, hanging: int) -> str:
    # numbers hang wider than bullets: «10.» must fit before the text without reaching a tab stop
    left = hanging + level * 340
    return f'<w:pPr><w:ind w:left="{left}" w:hanging="{hanging}"/></w:pPr>'


def numbering_xml() -> str:
    bullets = "".join(
        f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="bullet"/>'
        f'<w:lvlText w:val="{glyph}"/><w:lvlJc w:val="left"/>{_level_indent(level, 284)}'
        f'<w:rPr>{font(SANS)}{color(ACCENT)}<w:sz w:val="14"/></w:rPr></w:lvl>'
        for level, glyph in enumerate(BULLET_GLYPHS)
    )
    numbers = "".join(
        f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:lvlText w:val="%{level + 1}."/><w:lvlJc w:val="left"/>{_level_indent(level, 397)}'
        f"<w:rPr>{BOLD}{color(ACCENT)}</w:rPr></w:lvl>"
        for level in range(3)
    )
    return (
        f'<w:numbering xmlns:w="{W}">'
        f'<w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="multilevel"/>{bullets}</w:abstractNum>'
        f'<w:abstractNum w:abstractNumId="1"><w:multiLevelType w:val="multilevel"/>{numbers}</w:abstractNum>'
        f'<w:num w:numId="{BULLETS_NUM_ID}"><w:abstractNumId w:val="0"/></w:num>'
        f'<w:num w:numId="{NUMBERS_NUM_ID}"><w:abstractNumId w:val="1"/></w:num>'
        "</w:numbering>"
    )


def style_xml(style: Style) -> str:
    custom = "" if style.style_id in BUILT_IN else ' w:customStyle="1"'
    parts = [f'<w:style w:type="{style.kind}" w:styleId="{style.style_id}"{custom}>', f'<w:name w:val="{style.name}"/>']
    if style.based_on:
        parts.append(f'<w:basedOn w:val="{style.based_on}"/>')
    if style.next_style:
        parts.append(f'<w:next w:val="{style.next_style}"/>')
    parts.append("<w:qFormat/>")
    outline = f'<w:outlineLvl w:val="{style.outline_level}"/>' if style.outline_level is not None else ""
    if style.paragraph or outline:
        parts.append(f"<w:pPr>{_ordered_paragraph_properties(style.paragraph + outline)}</w:pPr>")
    if style.run:
        parts.append(f"<w:rPr>{_ordered_run_properties(style.run)}</w:rPr>")
    parts.append("</w:style>")
    return "".join(parts)


# OOXML demands a fixed order of property elements; the table above lists them as reads best.
PARAGRAPH_ORDER = ("keepNext", "pageBreakBefore", "numPr", "pBdr", "shd", "tabs", "suppressAutoHyphens",
                   "spacing", "ind", "jc", "outlineLvl")
_ELEMENT = re.compile(r"<w:(\w+)(?:[^>]*/>|[^>]*>.*?</w:\1>)")
RUN_ORDER = ("rFonts", "b", "bCs", "i", "iCs", "caps", "color", "spacing", "sz", "szCs", "u", "shd", "lang")


def _ordered(xml: str, order: tuple[str, ...]) -> str:
    pieces = [(match.group(0), match.group(1)) for match in _ELEMENT.finditer(xml)]
    assert "".join(piece for piece, _ in pieces) == xml, xml
    return "".join(piece for piece, _ in sorted(pieces, key=lambda item: order.index(item[1])))


def _ordered_paragraph_properties(xml: str) -> str:
    return _ordered(xml, PARAGRAPH_ORDER)


def _ordered_run_properties(xml: str) -> str:
    return _ordered(xml, RUN_ORDER)


BUILT_IN = {"Normal", "Title", "Heading1", "Heading2", "Heading3", "TOCHeading", "TOC1", "TOC2", "Header", "Footer",
            "Caption", "ListBullet", "ListBullet2", "ListBullet3", "ListNumber", "ListNumber2", "ListNumber3",
            "ListContinue", "Strong", "Hyperlink", "DefaultParagraphFont", "TableNormal", "NoList"}


def styles_xml() -> str:
    defaults = (
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f'{font(SANS)}{size(10.5)}<w:lang w:val="ru-RU" w:eastAsia="ru-RU" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
        '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>'
    )
    base = (
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>'
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
        '<w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar>'
        '<w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
        '<w:right w:w="170" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>'
        '<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/><w:semiHidden/>'
        "</w:style>"
    )
    normal = style_xml(STYLES[0]).replace('<w:style w:type="paragraph"', '<w:style w:type="paragraph" w:default="1"', 1)
    return (f'<w:styles xmlns:w="{W}">{defaults}{base}{normal}'
            + "".join(style_xml(style) for style in STYLES[1:]) + "</w:styles>")


def settings_xml() -> str:
    return (
        f'<w:settings xmlns:w="{W}">'
        '<w:zoom w:percent="100"/>'
        '<w:updateFields w:val="true"/>'  # Word refreshes the contents (and page numbers) on opening
        '<w:defaultTabStop w:val="709"/>'
        '<w:autoHyphenation w:val="true"/><w:consecutiveHyphenLimit w:val="2"/><w:hyphenationZone w:val="357"/>'
        '<w:evenAndOddHeaders/>'
        '<w:characterSpacingControl w:val="doNotCompress"/>'
        '<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" '
        'w:val="15"/></w:compat>'
        '<w:themeFontLang w:val="ru-RU"/>'
        "</w:settings>"
    )


def document_xml() -> str:
    return (
        f'<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body><w:sectPr>'
        f'<w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/>'
        f'<w:pgMar w:top="{MARGIN_TOP}" w:right="{MARGIN_RIGHT}" w:bottom="{MARGIN_BOTTOM}" w:left="{MARGIN_LEFT}" '
        'w:header="567" w:footer="567" w:gutter="0"/>'
        "<w:titlePg/></w:sectPr></w:body></w:document>"
    )


def font_table_xml() -> str:
    return f'<w:fonts xmlns:w="{W}">' + "".join(
        f'<w:font w:name="{family}"><w:charset w:val="CC"/><w:family w:val="{kind}"/></w:font>'
        for family, kind in ((SANS, "swiss"), (SERIF, "roman"), (NARROW, "swiss"))
    ) + "</w:fonts>"


PACKAGE = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/word/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
        '<Override PartName="/word/numbering.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>'
        '<Override PartName="/word/settings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>'
        '<Override PartName="/word/fontTable.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" '
        'Target="word/document.xml"/>'
        f'<Relationship Id="rId2" Type="{PACKAGE}/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        "</Relationships>"
    ),
    "word/_rels/document.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{index}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'{kind}" Target="{kind}.xml"/>'
            for index, kind in enumerate(("styles", "numbering", "settings", "fontTable"), 1)
        )
        + "</Relationships>"
    ),
    "docProps/core.xml": (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        "<dc:title>Стили черновика сборника</dc:title><dc:language>ru-RU</dc:language></cp:coreProperties>"
    ),
}


def write_reference(target: Path = TARGET) -> bytes:
    """Builds the template; returns its bytes (and writes them when ``target`` is given)."""
    parts = {
        **PARTS,
        "word/document.xml": document_xml(),
        "word/styles.xml": styles_xml(),
        "word/numbering.xml": numbering_xml(),
        "word/settings.xml": settings_xml(),
        "word/fontTable.xml": font_table_xml(),
    }
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
    data = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return data


if __name__ == "__main__":
    write_reference()
    print(f"wrote {TARGET.relative_to(ROOT)}")
