"""The shared bank of hashes of known terrorist media: hash, bank, match, exchange.

Partners never exchange the images and videos themselves, only hashes of them: exact file
hashes (MD5, SHA-256) and perceptual PDQ hashes that survive resizing and re-encoding, plus
our signatures beyond PDQ (the mirror image's PDQ and ORB keypoints) that survive crops,
small rotations, captions and watermarks. Each banked item carries its contributor's labels
(group, content type, TLP) and a status that can be disputed and withdrawn.

Everything here needs the ``media`` extra (Pillow, pdqhash, OpenCV, faiss), imported lazily.
"""

from jointwatch.media.bank import BankEvent, BankItem, change_status, contribute, get_item, history, list_items
from jointwatch.media.hashing import PDQ_MIN_QUALITY, MediaHashes, hash_file
from jointwatch.media.index import HammingIndex, Hits, brute_force_search
from jointwatch.media.labels import CONTENT_TYPES, TLP_LEVELS, Labels, make_labels
from jointwatch.media.matcher import DEFAULT_PDQ_THRESHOLD, MatchOptions, Matcher, MediaMatch

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_PDQ_THRESHOLD",
    "PDQ_MIN_QUALITY",
    "TLP_LEVELS",
    "BankEvent",
    "BankItem",
    "HammingIndex",
    "Hits",
    "Labels",
    "MatchOptions",
    "Matcher",
    "MediaHashes",
    "MediaMatch",
    "brute_force_search",
    "change_status",
    "contribute",
    "get_item",
    "hash_file",
    "history",
    "list_items",
    "make_labels",
]
