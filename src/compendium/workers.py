"""The server the layout workers are forked from, with WeasyPrint and pikepdf loaded before any work.

Workers start from it rather than by forking the command's own process, which may hold font and
layout state (in `watch`, say); the command itself never loads them: it templates, writes the draft
and checks, some 40 MB lighter. The server is started as soon as a command is known to lay out
(`start_early`), so that it loads them while the command imports its own modules and reads the
records: after an edit, that was a seventh of a rebuild of 250 practices.
"""

from __future__ import annotations

import multiprocessing
import sys

FORKED = sys.platform == "linux"
CONTEXT = multiprocessing.get_context("forkserver" if FORKED else "spawn")
if FORKED:
    CONTEXT.set_forkserver_preload(["compendium.render_pdf", "compendium.assemble_pdf", "compendium.render_book"])


def start_early() -> None:
    """Starts the server now, in the background; the first pool of workers would otherwise start it."""
    if FORKED:
        from multiprocessing import forkserver

        forkserver.ensure_running()
