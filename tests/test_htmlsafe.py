"""script_json: any data, written into a <script> block, reads back unchanged and cannot leave the block."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from jointwatch.htmlsafe import script_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@given(JSON_VALUES)
def test_script_json_reads_back_unchanged_and_holds_no_html_specials(value: object) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}


def test_script_json_of_a_closing_tag() -> None:
    assert script_json("</script><!--\u2028&") == '"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"'
