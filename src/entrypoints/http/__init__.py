"""The Litestar HTTP entrypoint: thin controllers over the core's use cases."""
