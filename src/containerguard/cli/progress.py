"""Rich progress for pulls and layer walks, on a terminal only."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.pipeline.inventory import Progress as InventoryProgress


class RichInventoryProgress(InventoryProgress):
    """Shows one bar per layer, sized by the compressed blob."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=console, transient=True)
        self._task: TaskID | None = None
        self._count = 0

    def __enter__(self) -> RichInventoryProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def metadata(self, meta: ImageMetadata) -> None:
        """Remember how many layers there are."""
        self._count = len(meta.layers)

    def layer_start(self, index: int, layer: Layer, cached: bool) -> None:
        """Start a bar for the layer."""
        short = layer.diff_id.split(":")[-1][:12]
        label = f"layer {index + 1}/{self._count} {short}" + (" (cached)" if cached else "")
        self._task = self._progress.add_task(label, total=layer.size or None,
                                             completed=layer.size if cached else 0)

    def layer_bytes(self, count: int) -> None:
        """Advance the current bar."""
        if self._task is not None:
            self._progress.advance(self._task, count)

    def layer_done(self, index: int, layer: Layer) -> None:
        """Drop the finished bar."""
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None


def wants_progress(quiet: bool) -> bool:
    """Progress only on an interactive terminal and when not told to be quiet."""
    return not quiet and sys.stderr.isatty()
