"""The Gradio UI: one package per tab (`layout`, `figures`, `export`, `strings`), the page (`app`), the public API
(`api`), i18n, the fair queue (`guard`) and the one adapter over Gradio's internals (`gradio_adapter`). Only this
package imports gradio. Views draw what the service returns.

May import: clipdemo.core, clipdemo.data, clipdemo.teach, clipdemo.serve (never clipdemo.training or clipdemo.bench).
"""
