"""Mastodon's streaming API: one poller per process (hub), channels, per-viewer rendering, endpoints."""
