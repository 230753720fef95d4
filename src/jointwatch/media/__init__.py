"""The shared bank of hashes of known terrorist media: hash, bank, match, exchange.

Partners never exchange the images and videos themselves, only hashes of them: exact file
hashes (MD5, SHA-256) and perceptual PDQ hashes that survive resizing and re-encoding, plus
our signatures beyond PDQ (the mirror image's PDQ and ORB keypoints) that survive crops,
small rotations, captions and watermarks; for video, vPDQ frame hashes (and the mirrored
frames'), and for sound and soundtracks, Chromaprint fingerprints. What a file is comes from
its bytes (``sniff``), never its name. Each banked item carries its contributor's labels
(group, content type, TLP) and a status that can be disputed and withdrawn.

Everything here needs the ``media`` extra (Pillow, pdqhash, OpenCV, faiss; av, vpdq, pyacoustid), imported
lazily.
"""

from jointwatch.media.bank import (
    DISPUTES_PER_DAY,
    BankEvent,
    BankItem,
    Contribution,
    MatchableRow,
    ask,
    change_status,
    contribute,
    contribute_hashes,
    get_item,
    history,
    list_items,
)
from jointwatch.media.clips import ClipSignature, hash_clip, vpdq_features, vpdq_signature
from jointwatch.media.exchange import FORMATS, ImportResult, export_bank, import_file
from jointwatch.media.files import (
    DecodeGate,
    FileOutcome,
    check_upload,
    contribute_files,
    hash_media,
    iter_files,
    match_files,
)
from jointwatch.media.hashing import PDQ_MIN_QUALITY, MediaHashes, hash_file, read_bytes
from jointwatch.media.hma import PushResult, bank_signals, push_signals, remove_content, signal_type_names
from jointwatch.media.index import HammingIndex, Hits, brute_force_search
from jointwatch.media.labels import CONTENT_TYPES, TLP_LEVELS, Labels, make_labels
from jointwatch.media.matcher import (
    DEFAULT_PDQ_THRESHOLD,
    HiddenMatch,
    Matcher,
    MatcherCache,
    MatchMethod,
    MatchOptions,
    MediaMatch,
    SeenBy,
    load_matcher,
    require_bank,
    seen_by,
)
from jointwatch.media.sniff import KINDS, MediaKind, Sniffed, sniff
from jointwatch.media.te import bank_deltas, delta_to_json, fetch_signals, parse_checkpoint

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_PDQ_THRESHOLD",
    "DISPUTES_PER_DAY",
    "FORMATS",
    "KINDS",
    "PDQ_MIN_QUALITY",
    "TLP_LEVELS",
    "BankEvent",
    "BankItem",
    "ClipSignature",
    "Contribution",
    "DecodeGate",
    "FileOutcome",
    "HammingIndex",
    "HiddenMatch",
    "Hits",
    "ImportResult",
    "Labels",
    "MatchMethod",
    "MatchableRow",
    "MediaKind",
    "MatchOptions",
    "Matcher",
    "MatcherCache",
    "MediaHashes",
    "MediaMatch",
    "PushResult",
    "SeenBy",
    "Sniffed",
    "ask",
    "bank_signals",
    "brute_force_search",
    "change_status",
    "check_upload",
    "contribute",
    "contribute_files",
    "contribute_hashes",
    "bank_deltas",
    "delta_to_json",
    "export_bank",
    "fetch_signals",
    "parse_checkpoint",
    "push_signals",
    "get_item",
    "hash_clip",
    "hash_file",
    "hash_media",
    "history",
    "import_file",
    "iter_files",
    "list_items",
    "load_matcher",
    "require_bank",
    "make_labels",
    "match_files",
    "read_bytes",
    "remove_content",
    "seen_by",
    "signal_type_names",
    "sniff",
    "vpdq_features",
    "vpdq_signature",
]
