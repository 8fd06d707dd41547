"""Photos per second through the image pipeline for a 12-megapixel JPEG (4000 x 3000, noise
over gradients so it compresses like a photo, turned by EXIF, with GPS), on one thread of
one process; the time of each step, with JPEG ``draft`` (decoding at reduced scale) and
without.

    .venv/bin/python -m benchmarks.images [--rounds 10]
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from PIL import Image

from adapters.media.pillow import PillowImageProcessor, decoded, encoded, opened, resized, upright
from talia_core.shared.media import DISPLAY_PX, MAX_PIXELS, THUMB_PX

T = TypeVar("T")
WIDTH, HEIGHT = 4000, 3000


def twelve_megapixel_photo() -> bytes:
    red = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    green = Image.radial_gradient("L").resize((WIDTH, HEIGHT))
    noise = Image.effect_noise((WIDTH, HEIGHT), 40)
    blue = Image.blend(red, noise, 0.5)
    image = Image.merge("RGB", (Image.blend(red, noise, 0.3), Image.blend(green, noise, 0.3), blue))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "S", 2: (12.0, 2.0, 46.0), 3: "W", 4: (77.0, 1.0, 42.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def timed(times: dict[str, list[float]], step: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    times.setdefault(step, []).append(time.perf_counter() - started)
    return result


def steps(content: bytes, draft: bool, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        image = timed(times, "open (header)", partial(opened, content, MAX_PIXELS))
        image = timed(times, "decode", partial(decoded, image, DISPLAY_PX if draft else None))
        image = timed(times, "transpose, sRGB", partial(upright, image))
        display, thumb = timed(times, "resize", partial(resized, image, DISPLAY_PX, THUMB_PX))
        timed(times, "encode display", partial(encoded, "display", display))
        timed(times, "encode thumb", partial(encoded, "thumb", thumb))
    return times


def whole(content: bytes, draft: bool, rounds: int) -> tuple[float, float]:
    """Median wall and CPU seconds of a photo (CPU time of this thread, where Pillow works:
    it holds on a busy machine)."""
    processor = PillowImageProcessor(draft=draft)
    wall, cpu = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.thread_time()
        processor.process_now(content, DISPLAY_PX, THUMB_PX, MAX_PIXELS)
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    content = twelve_megapixel_photo()
    print(f"Pillow {Image.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"input: {WIDTH}x{HEIGHT} JPEG, {len(content) / 1e6:.1f} MB; {rounds} rounds, median")
    for draft in (True, False):
        total, cpu = whole(content, draft, rounds)
        print(
            f"\n{'with' if draft else 'without'} draft: {1 / total:.2f} photos/s "
            f"({total * 1000:.0f} ms a photo; CPU {cpu * 1000:.0f} ms, {1 / cpu:.2f} photos/s)"
        )
        for step, seconds in steps(content, draft, rounds).items():
            print(f"  {step:<18} {statistics.median(seconds) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
