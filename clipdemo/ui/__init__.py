"""The Gradio UI: a thin layer over the engine, one module per tab plus i18n."""
