"""The ASGI app factory: ``uvicorn --factory entrypoints.http.asgi:make_app``."""

from litestar import Litestar

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import load_settings


def make_app() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log)
    return create_app(build_container(settings))
