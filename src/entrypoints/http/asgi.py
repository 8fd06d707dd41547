"""The ASGI app factory: ``uvicorn --factory entrypoints.http.asgi:make_app``."""

import gc

from litestar import Litestar

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import load_settings


def make_app() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log)
    app = create_app(build_container(settings))
    # What start-up made (modules, the app, about 300 000 objects) lives as long as the
    # worker: frozen, the collector's full passes skip it. Walking it took 100-200 ms, a
    # pause every request in flight waited out, every few seconds under load; what requests
    # make since is walked in a few milliseconds.
    gc.collect()
    gc.freeze()
    return app
