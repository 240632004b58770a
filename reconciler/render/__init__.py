"""Plan renderers: text (terminal), JSON (machines), markdown (pull-request comments).

Renderers only format; every decision is already in the Plan.
"""

from reconciler.render.json import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

FORMATS = ("text", "json", "markdown")

__all__ = ["FORMATS", "render_json", "render_markdown", "render_text"]
