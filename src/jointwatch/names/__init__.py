"""Names as the matcher sees them: scripts, transliteration, particles, titles, skeleton keys.

Knows nothing of the store or of screening; the same analysis runs on list names and queries.
"""

from jointwatch.names.analyze import AnalyzedName, Token, analyze_name, join_tokens, name_variants
from jointwatch.names.keys import joined_keys
from jointwatch.names.scripts import scripts_of
from jointwatch.names.translit import to_ascii

__all__ = [
    "AnalyzedName",
    "Token",
    "analyze_name",
    "join_tokens",
    "joined_keys",
    "name_variants",
    "scripts_of",
    "to_ascii",
]
