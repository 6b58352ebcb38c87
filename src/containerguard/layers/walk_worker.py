"""Child process that reads one whole layer: fetch, verify, decompress, walk the tar, run the collectors.

Stdin holds one JSON line: a blob locator (see :mod:`containerguard.layers.inflate_worker`) plus
``diff_id``, ``collectors`` (registered collector names) and ``limits`` (the fields of
:class:`~containerguard.config.Limits`). Stdout gets the layer inventory as JSON (the layer cache's
format), written only after the whole blob was read and its digest verified.

A layer read this way never crosses a pipe decompressed, and layers read by separate children
run on separate cores with no interpreter lock between them. Progress goes to stderr as
``progress N`` lines; the last other line is the error, if any, with the exit codes of
``inflate_worker`` plus ``EXIT_LAYER`` for a layer the walker refuses (hostile entries, limits).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from containerguard.collectors.base import Collector
from containerguard.config import Limits
from containerguard.errors import LayerError
from containerguard.layers.inflate_worker import (
    EXIT_DIGEST,
    EXIT_LAYER,
    EXIT_LIMIT,
    EXIT_SOURCE,
    BlobReader,
    CorruptFailed,
    DigestFailed,
    InflatingReader,
    LimitFailed,
    SourceFailed,
    corrupt_exit,
)
from containerguard.layers.walker import LayerWalker
from containerguard.models.serde import layer_to_dict
from containerguard.registry import load_plugins, plugins


def _collectors(names: list[str]) -> list[Collector]:
    load_plugins("containerguard.collectors")
    registered = plugins("collector")
    return [registered[name]() for name in names]


def _walk(job: dict[str, Any], reader: BlobReader, collectors: list[Collector], limits: Limits) -> bytes:
    stream = InflatingReader(reader, limits.max_layer_bytes, limits.max_ratio)
    inventory = LayerWalker(collectors, limits).walk_tar(stream, str(job["diff_id"]))
    return json.dumps(layer_to_dict(inventory), separators=(",", ":")).encode()


def main() -> int:
    """Walk the layer named on stdin; the inventory JSON on stdout, or an exit code and one line on stderr."""
    try:
        job = json.loads(sys.stdin.buffer.readline())
        collectors = _collectors(list(job["collectors"]))
        limits = Limits(**job["limits"])
        reader = BlobReader(job)
    except (SourceFailed, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"bad layer job: {exc}\n" if not isinstance(exc, SourceFailed) else f"{exc}\n")
        return EXIT_SOURCE
    try:
        result = _walk(job, reader, collectors, limits)
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        return 0  # the parent is gone or stopped listening
    except SourceFailed as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_SOURCE
    except DigestFailed as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_DIGEST
    except LimitFailed as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_LIMIT
    except CorruptFailed as exc:
        return corrupt_exit(reader, exc)
    except LayerError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_LAYER
    return 0


if __name__ == "__main__":
    sys.exit(main())
