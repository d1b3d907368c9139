"""Plain-data encoding for the grading protocol: JSON, with arrays as raw bytes (base64).

Used on both ends: by the worker inside the sandbox and by the grader. Never pickle: decoding
builds only None, bools, numbers, strings, lists, tuples, dicts with string keys, NumPy arrays
of an allowed dtype, and ``course_lib.cases.Spec`` (a callable named by a factory and its
parameters, rebuilt by the receiver from course_lib's allow-list). Anything else that comes
back from a learner's function (apart from a torch tensor, sent as its values) is encoded as
``{"__unsupported__": "<type name>"}``. Sizes are capped.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.cases import Spec

ALLOWED_DTYPES = ("float64", "float32", "int64", "int32", "bool")
MAX_ELEMENTS = 1_000_000  # per array
MAX_MESSAGE = 16 * 2**20  # bytes per encoded message
MAX_DEPTH = 8
MAX_ITEMS = 10_000  # per list or dict
MAX_STR = 2_000


class CodecError(ValueError):
    """A value that cannot travel (too big, a forbidden dtype, malformed)."""


@dataclass(frozen=True)
class Unsupported:
    """What a learner's function returned when it is not plain data (its type's name only)."""

    type_name: str


def _float(x: float) -> Any:
    return x if math.isfinite(x) else {"__float__": repr(x)}


def _array(a: np.ndarray) -> dict:
    if a.dtype.name not in ALLOWED_DTYPES:
        return {"__unsupported__": f"array of dtype {a.dtype}"}
    if a.size > MAX_ELEMENTS:
        raise CodecError(f"an array of {a.size} elements is larger than {MAX_ELEMENTS}")
    data = base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")
    return {"__ndarray__": {"dtype": a.dtype.name, "shape": list(a.shape), "data": data}}


def _scalar(value: Any) -> Any:
    """Python and NumPy scalars; NotImplemented for anything else."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return {"__np__": [type(value).__name__, int(value)]} if isinstance(
            value, np.integer) else int(value)
    if isinstance(value, (float, np.floating)):
        encoded = _float(float(value))
        return {"__np__": [value.dtype.name, encoded]} if isinstance(value, np.floating) \
            else encoded
    if isinstance(value, str):
        return value[:MAX_STR]
    return NotImplemented


def to_plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data (see the module docstring)."""
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    scalar = _scalar(value)
    if scalar is not NotImplemented:
        return scalar
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise CodecError(f"a sequence of {len(value)} items is longer than {MAX_ITEMS}")
        items = [to_plain(v, depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if len(value) > MAX_ITEMS:
            raise CodecError(f"a dict of {len(value)} items is larger than {MAX_ITEMS}")
        return {"__dict__": {k[:MAX_STR]: to_plain(v, depth + 1) for k, v in value.items()}}
    if isinstance(value, Spec):
        return {"__spec__": [value.factory, to_plain(value.args, depth + 1),
                             to_plain(value.kwargs, depth + 1), value.attr]}
    array = _tensor_values(value)
    if array is not None:
        return _array(array)
    return {"__unsupported__": type(value).__name__[:100]}


def _tensor_values(value: Any) -> np.ndarray | None:
    """A torch tensor's values as a NumPy array (torch is never imported here)."""
    if not type(value).__module__.startswith("torch") or not hasattr(value, "detach"):
        return None
    try:
        array = value.detach().cpu().numpy()
    except Exception:  # noqa: BLE001 - a tensor that cannot be read is unsupported
        return None
    return array if isinstance(array, np.ndarray) else None


def _from_array(info: dict) -> np.ndarray:
    dtype, shape = info.get("dtype"), info.get("shape")
    if dtype not in ALLOWED_DTYPES:
        raise CodecError(f"dtype {dtype!r} is not allowed")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CodecError("malformed array shape")
    if math.prod(shape) > MAX_ELEMENTS:
        raise CodecError("the array is too large")
    raw = base64.b64decode(str(info.get("data", "")), validate=True)
    array = np.frombuffer(raw, dtype=dtype)
    if array.size != math.prod(shape):
        raise CodecError("the array's bytes do not match its shape")
    return array.reshape(shape).copy()


def _from_tagged(tag: str, body: Any, depth: int) -> Any:
    if tag == "__ndarray__" and isinstance(body, dict):
        return _from_array(body)
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(from_plain(v, depth + 1) for v in body)
    if tag == "__dict__" and isinstance(body, dict):
        return {str(k): from_plain(v, depth + 1) for k, v in body.items()}
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "__np__" and isinstance(body, list) and len(body) == 2 \
            and body[0] in ALLOWED_DTYPES:
        return np.dtype(body[0]).type(from_plain(body[1], depth + 1))
    if tag == "__spec__" and isinstance(body, list) and len(body) == 4:
        args, kwargs = from_plain(body[1], depth + 1), from_plain(body[2], depth + 1)
        if isinstance(body[0], str) and isinstance(args, tuple) and isinstance(kwargs, dict) \
                and (body[3] is None or isinstance(body[3], str)):
            return Spec(body[0], args, kwargs, body[3])
    if tag == "__unsupported__" and isinstance(body, str):
        return Unsupported(body[:100])
    raise CodecError(f"malformed value ({tag})")


def from_plain(data: Any, depth: int = 0) -> Any:
    """The inverse of :func:`to_plain`; raises :class:`CodecError` on anything else."""
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_plain(v, depth + 1) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        (tag, body), = data.items()
        return _from_tagged(tag, body, depth)
    raise CodecError("malformed value")


def dumps(message: dict) -> bytes:
    """One protocol message as a JSON line."""
    line = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8") + b"\n"
    if len(line) > MAX_MESSAGE:
        raise CodecError(f"a message of {len(line)} bytes is larger than {MAX_MESSAGE}")
    return line


def loads(line: bytes) -> dict:
    """One protocol message; :class:`CodecError` when it is not a JSON object."""
    if len(line) > MAX_MESSAGE:
        raise CodecError("the message is too large")
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CodecError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise CodecError("not a JSON object")
    return message

