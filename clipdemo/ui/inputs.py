"""An image input that leaves decoding to `clipdemo.core.images.load_image`.

gr.Image opens every upload with Pillow *before* our handler runs, and converts it to RGB. A
zero-byte file, a text file named .png, a truncated file or a decompression bomb then fails inside
Gradio, and the visitor only sees "Error" (or, with show_error, a Pillow message with a server
path). RGB conversion also turns transparent pixels black and clips 16-bit images white. So this
input asks Gradio for the uploaded file as it is (image_mode=None) and, if Gradio's own look at
the file fails, still hands over the uploaded path: our loader then refuses it with a clear
message (or reads it correctly: EXIF rotation, alpha on white, 16-bit scaled).

A plain gr.Image marked by a CSS class, and gr.Image.preprocess wrapped once for marked images. Not an
instance attribute: once an event updates the component, Gradio keeps a per-session copy rebuilt from
its constructor arguments (so the mark must be one of them), and the copy's preprocess is the class's.
Not a subclass: Gradio builds a component's browser props from its class's __init__ signature.
"""

from __future__ import annotations

import gradio as gr

MARK = "clipdemo-lenient-image"


def _lenient(gradio_preprocess):
    def preprocess(self, payload):
        try:
            return gradio_preprocess(self, payload)
        except Exception:  # noqa: BLE001 - any failure here is an unusable upload; load_image says why
            path = getattr(payload, "path", None)
            if MARK not in (self.elem_classes or []) or not path:
                raise
            return str(path)

    preprocess.clipdemo_lenient = True
    return preprocess


if not getattr(gr.Image.preprocess, "clipdemo_lenient", False):
    gr.Image.preprocess = _lenient(gr.Image.preprocess)


def image_input(**kwargs) -> gr.Image:
    classes = kwargs.pop("elem_classes", None) or []
    classes = [classes] if isinstance(classes, str) else list(classes)
    return gr.Image(type="filepath", image_mode=None, elem_classes=[*classes, MARK], **kwargs)
