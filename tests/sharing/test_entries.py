"""An entry's entity as FtM cleans it: a value FtM would drop without a word is refused instead."""

from __future__ import annotations

import pytest

from jointwatch.errors import InvalidInputError
from jointwatch.sharing import EntryInput, clean_entity


def test_values_are_cleaned_by_their_ftm_type() -> None:
    entity = clean_entity("sh-t", EntryInput("Person", {
        "name": ["Abu Example"], "nationality": ["Syria"], "birthDate": ["1980-01"], "passportNumber": ["N 123"]},
        ["un_sc:QDi.354"]))
    assert entity["properties"]["nationality"] == ["sy"]
    assert entity["properties"]["birthDate"] == ["1980-01"]
    assert entity["listings"] == ["un_sc:QDi.354"]
    vessel = clean_entity("sh-v", EntryInput("Vessel", {"name": ["Sea Star"], "imoNumber": ["IMO 9074729"]}))
    assert vessel["properties"]["imoNumber"] == ["IMO9074729"]


@pytest.mark.parametrize(("schema", "properties", "fault"), [
    ("Vessel", {"name": ["Sea Star"], "imoNumber": ["IMO9123456"]}, "imoNumber"),   # wrong check digit
    ("Person", {"name": ["A B"], "birthDate": ["garbage"]}, "birthDate"),
    ("Person", {"name": ["A B"], "nationality": ["Atlantis"]}, "nationality"),
    ("Person", {"name": ["A B"], "favouriteColour": ["red"]}, "favouriteColour"),
    ("Person", {"alias": ["A B"]}, "name"),
    ("Person", {"name": [""]}, "name"),
    ("Sanction", {"name": ["A B"]}, "schema"),
])
def test_a_value_ftm_would_drop_is_refused_with_its_property(schema: str, properties: dict[str, list[str]],
                                                             fault: str) -> None:
    with pytest.raises(InvalidInputError, match=fault):
        clean_entity("sh-t", EntryInput(schema, properties))
