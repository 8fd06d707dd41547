"""The baseline: a bare Litestar endpoint served the same way as Talia."""

from litestar import Litestar, get


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([health], logging_config=None)
