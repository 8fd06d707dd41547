"""The baseline: a bare Litestar endpoint served the same way as Talia."""

from litestar import Litestar, Request, get, post


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/webhook", status_code=200)
async def webhook(request: Request) -> dict[str, int]:  # type: ignore[type-arg]
    """Reads the body and answers, as a webhook endpoint that does nothing would."""
    return {"received": len(await request.body())}


app = Litestar([health, webhook], logging_config=None)
