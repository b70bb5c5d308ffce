"""Text similarity for the copy and near-duplicate checks.

Copies of the prompt or of a candidate are measured exactly (word 3-shingle Jaccard against a
handful of texts). Near-duplicates across a whole project use MinHash signatures (datasketch) and
locality-sensitive hashing: a signature of 128 permutations is cut into 16 bands of 8 rows; two
texts share a band key with probability ~ 1-(1-J^8)^16, i.e. ~0.93 at Jaccard 0.8 and ~0.03 at
0.5, so the band keys index candidate pairs and the signatures confirm them.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np
from datasketch import MinHash

NUM_PERM = 128
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3

_WORD = re.compile(r"\w+", re.UNICODE)
# The permutations are fixed by the seed; computing them once keeps a signature at ~50 µs.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=1)
_PERMUTATIONS, _SCHEME = _TEMPLATE.permutations, _TEMPLATE.scheme


def normalize(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


@functools.lru_cache(maxsize=16384)
def shingles(text: str, k: int = SHINGLE_WORDS) -> frozenset[str]:
    """Word k-shingles. Cached: a task's prompt and candidates are compared with every answer to
    it, and an answer's shingles serve both the copy check and its signature."""
    return frozenset(_shingles(text, k))


def _shingles(text: str, k: int) -> set[str]:
    words = normalize(text)
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of the text's word shingles."""
    m = MinHash(num_perm=NUM_PERM, permutations=_PERMUTATIONS, scheme=_SCHEME)
    m.update_batch([s.encode() for s in shingles(text)])
    return np.asarray(m.hashvalues, dtype=np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (fits a Postgres bigint); equal keys = equal band."""
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(sig[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")
