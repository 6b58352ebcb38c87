"""The host agent: collects Docker host snapshots, spools them on disk and pushes them to the server."""
