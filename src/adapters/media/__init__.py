"""Images and audio: the ``ImageProcessor`` on Pillow."""
