"""An image input that leaves decoding to `clipdemo.images.load_image`.

gr.Image opens every upload with Pillow *before* our handler runs, and converts it to RGB. A
zero-byte file, a text file named .png, a truncated file or a decompression bomb then fails inside
Gradio, and the visitor only sees "Error" (or, with show_error, a Pillow message with a server
path). RGB conversion also turns transparent pixels black and clips 16-bit images white. So this
input asks Gradio for the uploaded file as it is (image_mode=None) and, if Gradio's own look at
the file fails, still hands over the uploaded path: our loader then refuses it with a clear
message (or reads it correctly: EXIF rotation, alpha on white, 16-bit scaled).
"""

from __future__ import annotations

import gradio as gr


class ImageInput(gr.Image):
    is_template = True  # the browser draws it as a plain gr.Image (same Svelte component, same API type)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("type", "filepath")
        kwargs.setdefault("image_mode", None)
        if kwargs["type"] != "filepath":
            raise ValueError("ImageInput hands over the uploaded file's path; use type='filepath'")
        super().__init__(*args, **kwargs)

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except Exception:  # noqa: BLE001 - any failure here is an unusable upload; load_image says why
            path = getattr(payload, "path", None)
            if not path:
                raise
            return str(path)
