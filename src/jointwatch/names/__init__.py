"""Names as the matcher sees them: scripts, transliteration, particles, titles, skeleton keys.

Knows nothing of the store or of screening; the same analysis runs on list names and queries.
"""

from jointwatch.names.analyze import AnalyzedName, Token, analyze_name
from jointwatch.names.scripts import scripts_of

__all__ = ["AnalyzedName", "Token", "analyze_name", "scripts_of"]
