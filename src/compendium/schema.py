"""The JSON Schemas of the record files, generated from the model so the two never disagree."""

from __future__ import annotations

import json
from pathlib import Path

from .model import SOURCE_MODELS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_documents() -> dict[str, str]:
    """File name → JSON text, one per kind of record file."""
    documents = {}
    for kind, model in SOURCE_MODELS.items():
        schema = {"$schema": SCHEMA_DIALECT, **model.model_json_schema()}
        documents[f"{kind}.schema.json"] = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
    return documents


def write_schemas(folder: Path, check_only: bool = False) -> list[Path]:
    """Writes the schemas (or only compares them); returns the files that were out of date."""
    stale = []
    for name, text in schema_documents().items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check_only:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale
