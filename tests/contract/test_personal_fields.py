"""The privacy table (shared.privacy.personal) and the payload schemas' personal marks
(``metadata={"personal": True}``, shared.eventschema) agree: every field a schema marks personal
is sealed, and every type the table seals is a published event type. (A list's items are named
through the list, as the schemas do: ``members.name``.)"""
import pytest

from shared import eventschema
from shared.privacy.personal import PERSONAL

CATALOGUE = eventschema.catalogue()


@pytest.mark.parametrize("type_", sorted(CATALOGUE.current_version))
def test_every_field_a_schema_marks_personal_is_sealed(type_):
    marked = set(eventschema.personal_fields(type_))
    sealed = {f"{spec.each}.{f}" if spec.each else f for spec in PERSONAL.get(type_, ()) for f in spec.fields}
    assert marked <= sealed, f"{type_}: marked personal but not sealed: {sorted(marked - sealed)}"


def test_every_sealed_type_is_a_published_event_type():
    assert sorted(set(PERSONAL) - set(CATALOGUE.current_version)) == []
