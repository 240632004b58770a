"""Plans of many servers: grouped by server in every format.

JSON is ``{"servers": {NAME: plan}}`` (a server that failed: ``{"error": "..."}``); markdown
is one section per server, all within one pull-request comment (they share its budget).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import Plan
from reconciler.render.json import _UNSAFE, plan_data
from reconciler.render.markdown import LIMIT, escape, render_markdown

# A server's result: its plan, or the one line saying why it has none.
Results = dict[str, Plan | str]


def heading(name: str, url: str = "") -> str:
    """The line that opens a server's part of the text output."""
    return f"=== server {name}" + (f" ({url})" if url else "") + " ==="


def render_fleet_json(results: Results) -> str:
    """One JSON object for the whole fleet."""
    servers: dict[str, Any] = {
        name: plan_data(value) if isinstance(value, Plan) else {"error": value}
        for name, value in results.items()
    }
    text = json.dumps({"servers": servers}, indent=2, sort_keys=True, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"


def render_fleet_markdown(results: Results, limit: int = LIMIT) -> str:
    """One comment: a section per server, each given an equal share of what is left."""
    # Server names match NAME_PATTERN (no backtick), so a code span shows them as they are.
    parts = ["# shcfg plan: " + ", ".join(f"`{name}`" for name in results), ""]
    left = limit - len("\n".join(parts)) - 1
    for index, (name, value) in enumerate(results.items()):
        share = left // (len(results) - index)
        title = f"## Server `{name}`"
        if isinstance(value, Plan):
            body = render_markdown(value, max(share - len(title) - 2, 200))
            body = body.replace("## shcfg plan", title, 1)
        else:
            body = f"{title}\n\n**Failed:** {escape(value)}\n"
        parts.append(body)
        left -= len(body) + 1
    return "\n".join(parts)
