"""RouterOS API wire format, written from the protocol description, not from a client.

The simulator must not share code with librouteros: if both sides used the same
encoder, a bug in it would cancel out and the tests would prove nothing.

A word is a length prefix plus that many bytes; a sentence is words ended by a
zero-length word. Prefix sizes (the first byte tells which one follows):

    length < 0x80        1 byte   len
    length < 0x4000      2 bytes  len | 0x8000
    length < 0x200000    3 bytes  len | 0xC00000
    length < 0x10000000  4 bytes  len | 0xE0000000
    otherwise            5 bytes  0xF0 + len as 4 bytes

A first byte >= 0xF8 is a reserved control byte: a peer cannot parse past it.
"""

from __future__ import annotations

import asyncio

# The router has no reason to accept a word this large from a client; refusing
# it keeps a corrupt or hostile prefix from making the simulator allocate gigabytes.
MAX_WORD_BYTES = 16 * 1024 * 1024


class WireError(Exception):
    """The peer sent bytes that are not a valid RouterOS API sentence."""


def encode_length(length: int) -> bytes:
    """Return the length prefix for a word of `length` bytes."""
    if length < 0:
        raise ValueError(f"negative length {length}")
    if length < 0x80:
        return length.to_bytes(1, "big")
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    if length <= 0xFFFFFFFF:
        return b"\xf0" + length.to_bytes(4, "big")
    raise ValueError(f"length {length} does not fit a RouterOS word")


def encode_word(word: str) -> bytes:
    """Encode one word as UTF-8 with its length prefix."""
    data = word.encode("utf-8")
    return encode_length(len(data)) + data


def encode_sentence(words: list[str] | tuple[str, ...]) -> bytes:
    """Encode words plus the terminating zero-length word."""
    parts = []
    for word in words:
        data = word.encode("utf-8")
        # Most words are short: their prefix is the length itself (one byte).
        parts.append(bytes((len(data),)) if len(data) < 0x80 else encode_length(len(data)))
        parts.append(data)
    parts.append(b"\x00")
    return b"".join(parts)


def prefix_size(first_byte: int) -> int:
    """How many bytes the whole length prefix takes, given its first byte.

    Raises WireError for reserved control bytes (>= 0xF8) and for 0xF1..0xF7,
    which the protocol does not define either.
    """
    if first_byte < 0x80:
        return 1
    if first_byte < 0xC0:
        return 2
    if first_byte < 0xE0:
        return 3
    if first_byte < 0xF0:
        return 4
    if first_byte == 0xF0:
        return 5
    raise WireError(f"reserved control byte 0x{first_byte:02X}")


def decode_length(prefix: bytes) -> int:
    """Decode a complete length prefix (as sized by `prefix_size`)."""
    size = prefix_size(prefix[0])
    if len(prefix) != size:
        raise WireError(f"prefix of {len(prefix)} bytes, expected {size}")
    if size == 1:
        return prefix[0]
    if size == 5:
        return int.from_bytes(prefix[1:], "big")
    # Clear the marker bits: the top `size` bits of the first byte.
    value = int.from_bytes(prefix, "big")
    marker_bits = size
    return value & ((1 << (8 * size - marker_bits)) - 1)


async def read_word(reader: asyncio.StreamReader) -> str:
    """Read one word; an empty string is the end-of-sentence marker.

    Raises asyncio.IncompleteReadError when the peer closes mid-word.
    """
    first = await reader.readexactly(1)
    size = prefix_size(first[0])
    prefix = first + (await reader.readexactly(size - 1) if size > 1 else b"")
    length = decode_length(prefix)
    if length > MAX_WORD_BYTES:
        raise WireError(f"word of {length} bytes is over the {MAX_WORD_BYTES} limit")
    if length == 0:
        return ""
    data = await reader.readexactly(length)
    # Replace undecodable bytes instead of failing: a real router does not
    # drop the connection over a bad byte in a comment.
    return data.decode("utf-8", errors="replace")


async def read_sentence(reader: asyncio.StreamReader) -> list[str]:
    """Read words until the zero-length word; [] is an empty sentence.

    Raises asyncio.IncompleteReadError on EOF (also a clean EOF between
    sentences, which callers treat as the client hanging up) and WireError on
    an undecodable prefix.
    """
    words: list[str] = []
    while True:
        word = await read_word(reader)
        if word == "":
            return words
        words.append(word)


async def send_raw(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Write bytes as they are and flush them.

    Used by the fault modes to put deliberately broken bytes on the wire
    (half sentences, reserved control bytes, plain text on a TLS port).
    """
    writer.write(data)
    await writer.drain()


async def send_sentence(writer: asyncio.StreamWriter, words: list[str]) -> None:
    """Encode and send one sentence in a single write.

    One write per sentence keeps concurrent replies of one connection (a
    streaming command next to a normal one) from interleaving mid-sentence.
    """
    await send_raw(writer, encode_sentence(words))
