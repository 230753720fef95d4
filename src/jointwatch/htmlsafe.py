"""Data written into the HTML pages jointwatch makes (the network report), safe where it lands.

Text in elements and attributes goes through ``html.escape``; data handed to a script goes
through :func:`script_json`. Account ids and holder names come from the files being analysed,
so whoever wrote the file controls them: nothing in them may end up running as script.
"""

from __future__ import annotations

import json
from typing import Any

# Inside <script> the HTML parser ends the block at "</script" and treats "<!--" specially,
# before JavaScript sees a thing, so JSON string escaping alone is not enough. U+2028/U+2029
# end a line in older JavaScript engines. In JSON these characters only occur inside strings,
# where \uXXXX means the same character: the value read back is unchanged.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value: Any) -> str:
    """``value`` as a JavaScript literal that can be written inside a ``<script>`` block as is.

    JSON, with ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes, so no
    string in it can close the block, open an HTML comment or break the line.
    """
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


__all__ = ["script_json"]
