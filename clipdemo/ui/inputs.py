"""An image input that leaves decoding to `clipdemo.images.load_image`.

gr.Image opens every upload with Pillow *before* our handler runs, and converts it to RGB. A
zero-byte file, a text file named .png, a truncated file or a decompression bomb then fails inside
Gradio, and the visitor only sees "Error" (or, with show_error, a Pillow message with a server
path). RGB conversion also turns transparent pixels black and clips 16-bit images white. So this
input asks Gradio for the uploaded file as it is (image_mode=None) and, if Gradio's own look at
the file fails, still hands over the uploaded path: our loader then refuses it with a clear
message (or reads it correctly: EXIF rotation, alpha on white, 16-bit scaled).

A plain gr.Image with its preprocess wrapped, not a subclass: Gradio builds a component's browser
props from its class's __init__ signature, and a subclass would have to repeat all of it.
"""

from __future__ import annotations

import gradio as gr


def image_input(**kwargs) -> gr.Image:
    image = gr.Image(type="filepath", image_mode=None, **kwargs)
    gradio_preprocess = image.preprocess

    def preprocess(payload):
        try:
            return gradio_preprocess(payload)
        except Exception:  # noqa: BLE001 - any failure here is an unusable upload; load_image says why
            path = getattr(payload, "path", None)
            if not path:
                raise
            return str(path)

    image.preprocess = preprocess  # Gradio calls block.preprocess on the instance
    return image
