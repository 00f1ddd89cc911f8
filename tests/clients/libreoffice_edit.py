"""Edits a Word file in a running LibreOffice Writer through UNO, as a person would, and saves it as Word.

Runs under Debian's own Python (/usr/bin/python3), the one `python3-uno` is built for, never under the
project's virtual environment: the tests call it as a subprocess (tests/libreoffice_uno.py). It connects to
an `soffice --headless --accept=pipe,name=NAME;urp;` that the caller started, so one Writer serves a whole
test module. The job comes as JSON on standard input:

    {"rounds": [{"open": "/abs/in.docx", "save": "/abs/out.docx",
                 "edits": [{"do": "append", "find": "some text", "text": " more"}, ...]}]}

Each round loads the file hidden, makes its edits in order, stores it with the "MS Word 2007 XML" filter
(File > Save, Keep current format) and closes it. Paragraphs are found by a piece of their text, the
first match in the document (body, tables and frames alike, as Find does). Edits:

- ``append``: types ``text`` at the end of the paragraph;
- ``replace``: selects ``old`` inside the paragraph and types ``text`` over it;
- ``delete_paragraph``: selects the paragraph with its break and deletes it (as selecting the line and
  pressing Delete does);
- ``move_down``: Move Down in the Format > Bullets and Numbering toolbar (.uno:MoveDown), which moves the
  paragraph below the next one with whatever is anchored in it;
- ``split``: presses Enter after ``after`` inside the paragraph;
- ``join``: presses Delete at the end of the paragraph, joining the next one to it;
- ``cut_paste``: cuts the paragraph (with its break) and pastes it before the paragraph found by
  ``before``, through the view's transferable (what Ctrl+X, Ctrl+V do, without the system clipboard).

It prints one JSON line: {"ok": true} or {"ok": false, "error": "..."}; the exit status is 0 either way
unless Writer could not be reached.
"""

import json
import sys
import time

import uno  # loads the bridge; the com.sun.star imports below need it first
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK

CONNECT_SECONDS = 60


def _property(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def connect(pipe):
    """The desktop of the Writer listening on ``pipe``, waiting for it to start."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    smgr = context.ServiceManager
    return context, smgr.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def find_paragraph(document, text):
    """A text cursor spanning the whole paragraph in which ``text`` first occurs."""
    search = document.createSearchDescriptor()
    search.SearchString = text
    search.SearchCaseSensitive = True
    found = document.findFirst(search)
    if found is None:
        raise LookupError(f"no paragraph contains {text!r}")
    cursor = found.getText().createTextCursorByRange(found.getStart())
    cursor.gotoStartOfParagraph(False)
    cursor.gotoEndOfParagraph(True)
    return cursor


def select_with_break(cursor):
    """Extends a paragraph's cursor over its paragraph break, so that cutting it leaves no empty line."""
    cursor.collapseToStart()
    cursor.gotoEndOfParagraph(True)
    cursor.goRight(1, True)
    return cursor


def dispatch(context, document, command):
    helper = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", context)
    helper.executeDispatch(document.getCurrentController().getFrame(), command, "", 0, ())


def edit(context, document, step):
    kind = step["do"]
    cursor = find_paragraph(document, step["find"])
    text = cursor.getText()
    if kind == "append":
        cursor.collapseToEnd()
        text.insertString(cursor, step["text"], False)
    elif kind == "replace":
        search = document.createSearchDescriptor()
        search.SearchString = step["old"]
        search.SearchCaseSensitive = True
        found = document.findNext(cursor.getStart(), search)
        if found is None:
            raise LookupError(f"{step['old']!r} is not in the paragraph of {step['find']!r}")
        found.setString(step["text"])
    elif kind == "delete_paragraph":
        select_with_break(cursor).setString("")
    elif kind == "split":
        position = cursor.getString().index(step["after"]) + len(step["after"])
        cursor.collapseToStart()
        cursor.goRight(position, False)
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    elif kind == "join":
        cursor.collapseToEnd()
        cursor.goRight(1, True)
        cursor.setString("")
    elif kind == "move_down":
        controller = document.getCurrentController()
        cursor.collapseToStart()
        controller.getViewCursor().gotoRange(cursor, False)
        dispatch(context, document, ".uno:MoveDown")
    elif kind == "cut_paste":
        controller = document.getCurrentController()
        controller.select(select_with_break(cursor))
        clip = controller.getTransferable()
        controller.getViewCursor().setString("")
        target = find_paragraph(document, step["before"])
        target.collapseToStart()
        controller.select(target)
        controller.insertTransferable(clip)
    else:
        raise ValueError(f"unknown edit {kind!r}")


def run_round(context, desktop, job):
    url = uno.systemPathToFileUrl(job["open"])
    document = desktop.loadComponentFromURL(url, "_blank", 0, (_property("Hidden", True),))
    try:
        for step in job.get("edits", []):
            edit(context, document, step)
        document.storeToURL(uno.systemPathToFileUrl(job["save"]),
                            (_property("FilterName", "MS Word 2007 XML"), _property("Overwrite", True)))
    finally:
        document.close(True)


def main():
    pipe = sys.argv[1]
    job = json.load(sys.stdin)
    context, desktop = connect(pipe)
    try:
        for round_job in job["rounds"]:
            run_round(context, desktop, round_job)
    except Exception as error:  # reported to the test, which names the round and the edit
        print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}, ensure_ascii=False))
        return
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
