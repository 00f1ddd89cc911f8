"""LibreOffice Writer driven through UNO from the tests: one headless Writer, many open-edit-save rounds.

The bridge (`python3-uno`, installed by `scripts/bootstrap.sh --test`) is built for Debian's own Python,
not the virtual environment's, so the edits run in tests/clients/libreoffice_edit.py under /usr/bin/python3,
talking over a named pipe to a Writer this helper starts with its own profile and the project's fonts.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, LibreOffice

SYSTEM_PYTHON = Path("/usr/bin/python3")
DRIVER = ROOT / "tests" / "clients" / "libreoffice_edit.py"


class Writer:
    """A running headless Writer; :meth:`rounds` opens, edits and saves files in it."""

    def __init__(self, office: LibreOffice) -> None:
        probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import uno"], capture_output=True, check=False)
        if probe.returncode:
            pytest.fail("The LibreOffice round tests need the UNO bridge for /usr/bin/python3; `make test` "
                        "installs it (apt-get install python3-uno)")
        self.office = office
        self.pipe = f"compendium-{uuid.uuid4().hex[:12]}"
        self.process = subprocess.Popen(
            [office.soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             f"-env:UserInstallation=file://{office.workdir / 'uno-profile'}",
             f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            env=office.environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def rounds(self, rounds: Sequence[dict[str, Any]]) -> None:
        """Runs open-edit-save rounds in order (see the driver's docstring for their form)."""
        job = {"rounds": [{**job, "open": str(job["open"]), "save": str(job["save"])} for job in rounds]}
        completed = subprocess.run([str(SYSTEM_PYTHON), str(DRIVER), self.pipe], input=json.dumps(job),
                                   capture_output=True, text=True, timeout=300, check=False,
                                   env={**self.office.environment, "PYTHONPATH": ""})
        lines = completed.stdout.strip().splitlines()
        assert lines and json.loads(lines[-1]) == {"ok": True}, (
            f"LibreOffice did not make the edits: {completed.stdout} {completed.stderr}")

    def resave(self, source: Path, target: Path, times: int = 1) -> Path:
        """``source`` opened and saved with no edit ``times`` times over, ending in ``target``."""
        self.rounds([{"open": source if turn == 0 else target, "save": target, "edits": []} for turn in range(times)])
        return target

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def running_writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """A Writer for a module's tests, closed after them: ``yield from`` it in a module-scoped fixture."""
    office = Writer(LibreOffice(tmp_path_factory.mktemp("writer")))
    yield office
    office.close()
