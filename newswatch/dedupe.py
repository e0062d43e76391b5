"""Exact and near duplicates of article text: normalised hashes and MinHash with LSH bands.

Everything is pure and deterministic across processes, runs and machines: no Python `hash()`, no
random state; the permutation constants come from blake2b of fixed labels. Signatures are little-endian
uint32 arrays; band keys are signed 64-bit integers so a DuckDB BIGINT column can index them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import numpy.typing as npt

Signature = npt.NDArray[np.uint32]

EMPTY_HASH = np.uint32(0xFFFFFFFF)  # every slot of the signature of a text without words
_NON_WORD = re.compile(r"[\W_]+")
_MASK64 = (1 << 64) - 1
_POLY = 0x100000001B3  # odd: invertible modulo 2**64
_POLY_INV = pow(_POLY, -1, 1 << 64)
_SIG_DTYPE = np.dtype("<u4")


@lru_cache(maxsize=4)  # an article's text is normalised for its content hash, then for its shingles
def normalize_text(text: str) -> str:
    """NFKC, casefold, punctuation and symbols to spaces, whitespace collapsed: the text exact dedupe sees."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def content_hash(text: str) -> str:
    """sha256 hex of `normalize_text(text)`: equal for texts differing only in case, spacing, punctuation."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """(a, b) of the multiply-add-shift family h_i(x) = ((a_i*x + b_i) mod 2**64) >> 32, a_i odd."""
    a = np.empty(num_perm, dtype=np.uint64)
    b = np.empty(num_perm, dtype=np.uint64)
    for i in range(num_perm):
        digest = hashlib.blake2b(f"newswatch-minhash-{i}".encode(), digest_size=16).digest()
        a[i] = int.from_bytes(digest[:8], "little") | 1
        b[i] = int.from_bytes(digest[8:], "little")
    a.setflags(write=False)
    b.setflags(write=False)
    return a.reshape(-1, 1), b.reshape(-1, 1)


def _powers(base: int, n: int) -> npt.NDArray[np.uint64]:
    """base**0 .. base**(n-1) modulo 2**64 (numpy integer arrays wrap silently)."""
    steps = np.full(n, base, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, vectorised."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(text: str, shingle_words: int = 5) -> npt.NDArray[np.uint64]:
    """Sorted unique 64-bit hashes of the `shingle_words`-word shingles of `normalize_text(text)`.

    A text shorter than one shingle is one shingle. The hash of a shingle is a polynomial hash of its
    UTF-8 bytes, computed for all shingles at once from prefix sums, then mixed by splitmix64.
    """
    norm = normalize_text(text)
    if not norm:
        return np.empty(0, dtype=np.uint64)
    data = np.frombuffer(norm.encode("utf-8"), dtype=np.uint8)
    n = data.size
    spaces = np.flatnonzero(data == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [n]))
    k = max(1, shingle_words)
    if starts.size < k:
        s_start, s_end = starts[:1], ends[-1:]
    else:
        s_start, s_end = starts[: starts.size - k + 1], ends[k - 1 :]
    weights = _powers(_POLY, n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * weights[:n], dtype=np.uint64, out=prefix[1:])
    unshift = _powers(_POLY_INV, n + 1)[s_start]
    raw = (prefix[s_end] - prefix[s_start]) * unshift
    lengths = (s_end - s_start).astype(np.uint64)
    return np.unique(_mix64(raw ^ (lengths * np.uint64(0x9E3779B97F4A7C15))))


def minhash_signature(text: str, *, shingle_words: int = 5, num_perm: int = 128) -> Signature:
    """MinHash of the set of word shingles of `text`: `num_perm` uint32 values.

    Two signatures agree in each slot with probability ~ the Jaccard similarity of the shingle sets.
    A text without words gets all slots EMPTY_HASH.
    """
    if num_perm < 1:
        raise ValueError("num_perm must be at least 1")
    hashes = shingle_hashes(text, shingle_words)
    if hashes.size == 0:
        return np.full(num_perm, EMPTY_HASH, dtype=np.uint32)
    a, b = _permutations(num_perm)
    x = (hashes >> np.uint64(32))[None, :]  # 32-bit keys: (a*x + b) >> 32 is then strongly universal
    permuted = (a * x + b) >> np.uint64(32)
    return permuted.min(axis=1).astype(np.uint32)


def is_empty_signature(sig: Signature) -> bool:
    """True for the signature of a text without words (never a near duplicate of anything)."""
    return bool(np.all(sig == EMPTY_HASH))


def estimate_jaccard(sig_a: Signature, sig_b: Signature) -> float:
    """Share of equal slots: an estimate of the Jaccard similarity of the two shingle sets."""
    if sig_a.shape != sig_b.shape:
        raise ValueError(f"signatures differ in length: {sig_a.shape} vs {sig_b.shape}")
    if sig_a.size == 0:
        return 0.0
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


def lsh_band_keys(sig: Signature, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band: blake2b of (band index, rows, the band's slots).

    Two texts become candidates when any key is shared. Keys from different (bands, rows) layouts
    never coincide by construction, so a changed layout simply needs re-indexing.
    """
    if bands < 1 or rows < 1 or bands * rows > sig.size:
        raise ValueError(f"{bands} bands x {rows} rows does not fit a signature of {sig.size}")
    raw = np.ascontiguousarray(sig[: bands * rows], dtype=_SIG_DTYPE).tobytes()
    width = rows * 4
    keys: list[int] = []
    for band in range(bands):
        h = hashlib.blake2b(digest_size=8, person=b"nw-lsh-band")
        h.update(band.to_bytes(4, "little") + rows.to_bytes(4, "little"))
        h.update(raw[band * width : (band + 1) * width])
        keys.append(int.from_bytes(h.digest(), "little", signed=True))
    return keys


def signature_to_bytes(sig: Signature) -> bytes:
    """Little-endian uint32 bytes, for a BLOB column."""
    return np.ascontiguousarray(sig, dtype=_SIG_DTYPE).tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    """The inverse of `signature_to_bytes`."""
    if len(data) % 4:
        raise ValueError(f"a signature is a whole number of uint32 values, got {len(data)} bytes")
    return np.frombuffer(data, dtype=_SIG_DTYPE).astype(np.uint32)


def _candidate_probability(s: npt.NDArray[np.float64], bands: int, rows: int) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 1.0 - (1.0 - s**rows) ** bands
    return result


@lru_cache(maxsize=64)
def bands_for_threshold(threshold: float, num_perm: int, *, min_recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows) for LSH: a pair at exactly `threshold` is a candidate with probability >= min_recall,
    and among the layouts that achieve it, the one with the fewest false candidates below the threshold
    (the smallest area under the S-curve on [0, threshold]). Falls back to the highest recall at the
    threshold if none reaches `min_recall`. 0.8 with 128 permutations gives (16, 6). Cached: cheap to call
    per article.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if num_perm < 1:
        raise ValueError("num_perm must be at least 1")
    below = np.linspace(0.0, threshold, 401)
    at = np.array([threshold])
    best: tuple[float, float, int, int] | None = None  # (-meets, cost, bands, rows)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            recall = float(_candidate_probability(at, bands, rows)[0])
            meets = recall >= min_recall
            curve = _candidate_probability(below, bands, rows)
            false_area = float(np.sum((curve[1:] + curve[:-1]) * np.diff(below)) / 2.0)
            cost = false_area if meets else -recall
            key = (0.0 if meets else 1.0, cost, bands, rows)
            if best is None or key < best:
                best = key
    assert best is not None
    return best[2], best[3]


def best_near_duplicate(
    sig: Signature, candidates: Iterable[tuple[str, Signature]], threshold: float
) -> tuple[str, float] | None:
    """The candidate (id, estimated Jaccard) most similar to `sig`, if at least `threshold`.

    Ties go to the smallest id, so the answer does not depend on the order of `candidates`.
    Empty signatures match nothing.
    """
    if is_empty_signature(sig):
        return None
    best: tuple[str, float] | None = None
    for cid, other in candidates:
        if other.shape != sig.shape or is_empty_signature(other):
            continue
        score = estimate_jaccard(sig, other)
        if score < threshold:
            continue
        if best is None or score > best[1] or (score == best[1] and cid < best[0]):
            best = (cid, score)
    return best
