"""The published JSON Schemas match the model, and the default edition's records satisfy them."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from compendium.schema import schema_documents

from .conftest import DEFAULT_EDITION, ROOT

SCHEMA_FOLDER = ROOT / "sources" / "schema"
RECORDS = {
    "edition": ["edition.yaml"],
    "forewords": ["forewords.yaml"],
    "geography": ["geography.yaml"],
    "rules": ["rules.yaml"],
    "practice": sorted(str(p.relative_to(DEFAULT_EDITION)) for p in (DEFAULT_EDITION / "practices").glob("*.yaml")),
}


@pytest.mark.parametrize("name", sorted(schema_documents()))
def test_committed_schema_is_what_the_model_generates(name: str) -> None:
    committed = (SCHEMA_FOLDER / name).read_text(encoding="utf-8")
    assert committed == schema_documents()[name], "run `compendium schema` and commit the result"


@pytest.mark.parametrize("kind", RECORDS)
def test_default_records_satisfy_their_schema(kind: str) -> None:
    schema = json.loads((SCHEMA_FOLDER / f"{kind}.schema.json").read_text(encoding="utf-8"))
    for relative in RECORDS[kind]:
        path = DEFAULT_EDITION / relative
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema="), relative


def test_schema_rejects_what_validation_rejects() -> None:
    schema = json.loads((SCHEMA_FOLDER / "practice.schema.json").read_text(encoding="utf-8"))
    record = yaml.safe_load((DEFAULT_EDITION / "practices" / "anuchinsky-beekeeping.yaml").read_text(encoding="utf-8"))
    record["award"]["place"] = 4
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, schema)
