"""The checks an import passes before anything is written: the draft is this edition's, and no field loses text.

Both guard against the draft being wrong, not the staff: a draft of another edition, or a draft whose
field anchors a word processor lost, so that the first paragraphs of a field drift into the field
before it or out of every field. Either would otherwise be written as a legitimate edit. `--force`
lets each refusal through, and the import says what it let through.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from .book import period_label
from .draft_fields import BOLD_OFF, BOLD_ON, DraftField, Shown, draft_fields
from .errors import CompendiumError, display_path
from .import_docx import Draft, ImportPlan, _field_bookmark, _problem, _short
from .model import Collection

MIN_CHECKED_CHARACTERS = 40
"""A field shorter than this (letters and signs, spaces not counted: a short sentence) may be halved by an
ordinary rewording, and all it could lose is a few words the diff shows whole; it is not checked for shrinking."""
MIN_CHECKED_PARAGRAPHS = 2
"""Only fields of several paragraphs are checked for shrinking: a lost anchor cuts such a field to its last
paragraphs. A field of one paragraph (a title, a name, a caption, a one-paragraph text) keeps its anchor on
that paragraph, and staff rewrite it shorter as a matter of course; the diff shows all of it."""

_FORCE_HINT = "если так и задумано, импортируйте с --force"


# ---- the draft's edition


def refuse_another_edition(draft: Draft, draft_path: Path, collection: Collection, force: bool) -> str | None:
    """Raises CompendiumError, naming both editions, when the draft was made from another edition than
    ``collection``; with ``force`` returns a note saying so instead. None when the editions agree.

    An edition is its folder name and its years. Its title is only shown: the title is a field of the
    draft, so a title edited there and imported would make the next import of the same draft «another
    edition». A draft that does not say (made with --edition from an older version) is not checked.
    """
    if draft.edition is None:
        return None
    draft_folder = PurePosixPath(draft.edition).name
    target_folder = collection.directory.resolve().name
    target_years = " ".join(map(str, collection.edition.years))
    if draft_folder == target_folder and draft.years in (None, target_years):
        return None
    made_from = _edition_name(draft.title, draft.years, draft_folder)
    target = _edition_name(collection.edition.title, target_years, target_folder)
    if force:
        return f"черновик сделан из издания {made_from}, но импортирован в {target}, как велит --force"
    raise CompendiumError(
        f"{display_path(draft_path)}: черновик сделан из другого издания — {made_from}, а импорт идёт в {target} "
        f"({display_path(collection.directory / 'edition.yaml')}). Импортируйте черновик этого издания или укажите "
        "папку его издания через --edition; --force импортирует этот черновик всё равно")


def _edition_name(title: str | None, years: str | None, folder: str) -> str:
    said_years = period_label(tuple(map(int, years.split()))) if years and years.replace(" ", "").isdigit() else ""
    described = ", ".join(part for part in (f"«{title}»" if title else "", said_years) if part)
    return f"{described} (папка {folder})" if described else f"из папки {folder}"


# ---- text that a change would lose


def refuse_losses(plan: ImportPlan, draft: Draft, collection: Collection, force: bool) -> ImportPlan:
    """The plan with a located problem for every change that would cut a field by more than half, or drop a
    paragraph the draft still shows elsewhere; with ``force``, a note for each instead, and the change kept."""
    fields = draft_fields(collection)
    in_draft = _paragraphs_by_field(draft)
    elsewhere = dict(_misplaced(draft, fields))
    problems, notes = [], []
    for change in plan.changes:
        now = [paragraph for paragraph in change.field.shown if _said(paragraph)]
        reasons = [*_shrinking(now, in_draft.get(change.field.key, [])),
                   *_drifting(change.field.key, now, in_draft.get(change.field.key, []), elsewhere)]
        if not reasons:
            continue
        if force:
            notes.append(f"{change.field.name}: {'; '.join(reasons)} — импортировано всё равно, как велит --force")
        else:
            problems.append(_problem(change.field, f"{'; '.join(reasons)}; {_FORCE_HINT}"))
    if not problems and not notes:
        return plan
    return replace(plan, problems=(*plan.problems, *problems), notes=(*plan.notes, *notes))


def _shrinking(now: Sequence[Shown], new: Sequence[Shown]) -> Iterator[str]:
    before, after = _characters(now), _characters(new)
    if len(now) >= MIN_CHECKED_PARAGRAPHS and before >= MIN_CHECKED_CHARACTERS and after * 2 < before:
        yield (f"в черновике поле короче записи больше чем вдвое ({before} → {after} знаков без пробелов, "
               f"абзацев {len(now)} → {len(new)})")


def _drifting(key: str, now: Sequence[Shown], new: Sequence[Shown],
              elsewhere: Mapping[str, tuple[str | None, str]]) -> Iterator[str]:
    kept = {_said(paragraph) for paragraph in new}
    drifted = [text for text in map(_said, now) if text not in kept and elsewhere.get(text, (key, ""))[0] != key]
    if drifted:  # the first is named; a lost anchor moves them all to the same place
        more = f" (и ещё абзацев поля там же или в другом месте: {len(drifted) - 1})" if len(drifted) > 1 else ""
        yield (f"абзац «{_short(drifted[0])}» пропал из поля, но есть в черновике {elsewhere[drifted[0]][1]}{more}; "
               "похоже, редактор потерял закладку поля: верните абзац на место")


def _paragraphs_by_field(draft: Draft) -> dict[str, list[Shown]]:
    """Each field's paragraphs in the draft, as the import reads them (the first segment of a key counts)."""
    found: dict[str, list[Shown]] = {}
    for segment in draft.segments:
        if segment.kind == "field":
            key, _ = _field_bookmark(segment.bookmark)
            found.setdefault(key, [paragraph for paragraph in segment.paragraphs if _said(paragraph)])
    return found


def _misplaced(draft: Draft, fields: Mapping[str, DraftField]) -> Iterator[tuple[str, tuple[str | None, str]]]:
    """The words of each paragraph of the draft that stands where the records do not have it, with the key
    of the field it stands in (None outside every field) and where that is, in words."""
    for segment in draft.segments:
        if segment.kind == "stray":
            where = f"вне полей, после «{_short(segment.after)}»" if segment.after else "вне полей"
            yield from ((_said(paragraph), (None, where)) for paragraph in segment.paragraphs if _said(paragraph))
        elif segment.kind == "field":
            key, _ = _field_bookmark(segment.bookmark)
            host = fields.get(key)
            recorded = {_said(paragraph) for paragraph in host.shown} if host else set()
            where = f"в поле {host.name}" if host else "в поле, которого в записях больше нет"
            yield from ((_said(paragraph), (key, where)) for paragraph in segment.paragraphs
                        if _said(paragraph) and _said(paragraph) not in recorded)


def _said(paragraph: Shown) -> str:
    """A paragraph's words as a reader compares them: typeset alike, bold and spacing left out."""
    return paragraph.marked().replace(BOLD_ON, "").replace(BOLD_OFF, "")


def _characters(paragraphs: Sequence[Shown]) -> int:
    return sum(len("".join(_said(paragraph).split())) for paragraph in paragraphs)
