"""Reading layers: streamed tar, decompression, whiteouts, squash and the layer cache."""
