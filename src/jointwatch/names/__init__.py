"""Names as the matcher sees them: scripts, transliteration, particles, titles, skeleton keys.

Knows nothing of the store or of screening; the same analysis runs on list names and queries.
"""

from jointwatch.names.analyze import (
    AnalyzedName,
    Token,
    analyze_name,
    is_addition,
    is_trade_word,
    join_tokens,
    name_variants,
)
from jointwatch.names.keys import joined_keys
from jointwatch.names.romanize import romanizes
from jointwatch.names.scripts import is_arabic_script, scripts_of
from jointwatch.names.translit import to_ascii

__all__ = [
    "AnalyzedName",
    "Token",
    "analyze_name",
    "is_addition",
    "is_arabic_script",
    "is_trade_word",
    "join_tokens",
    "joined_keys",
    "name_variants",
    "romanizes",
    "scripts_of",
    "to_ascii",
]
