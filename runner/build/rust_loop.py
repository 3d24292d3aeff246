"""The Rust source of the action loop that `app.build=cargo` wraps around a user's crate.

The loop is the template `templates/action_loop.rs` (package data, so it ships
with the installed package). The user's crate is the dependency `action`;
`__MAIN__` is replaced by its entry function, `fn(serde_json::Value) ->
Result<serde_json::Value, E>` with `E: Display` (the OpenWhisk Rust runtime's
signature uses serde_json::Error).
"""

from __future__ import annotations

from pathlib import Path

MAIN_PLACEHOLDER = "__MAIN__"
TEMPLATE = Path(__file__).resolve().parent / "templates" / "action_loop.rs"


def main_rs(main: str) -> str:
    """The loop's source calling `main` (checked by the config to be a plain identifier)."""
    return TEMPLATE.read_text().replace(MAIN_PLACEHOLDER, main)
