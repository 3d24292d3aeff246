"""What to build and how to deploy it, decided from the app's config before anything runs.

Every combination the build step cannot honour ends here as a one-line
`ConfigError` naming the key, so a sweep skips it instead of failing halfway.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.config import AppConfig, BuildMethod, ConfigError, Lang

# The Apache OpenWhisk Rust runtime (kind rust:1.34) and the burst fork's Rust runtime.
RUST_MAP_IMAGE = "openwhisk/action-rust-v1.34"
RUST_BURST_IMAGE = "burstcomputing/runtime-rust-burst:latest"
RUST_KIND = "rust:1.34"
PYTHON_KIND = "python:3"
BLACKBOX = "blackbox"

DEFAULT_METHOD = {Lang.python: BuildMethod.python, Lang.rust: BuildMethod.cargo}
METHODS = {
    Lang.python: (BuildMethod.python, BuildMethod.prebuilt),
    Lang.rust: (BuildMethod.cargo, BuildMethod.docker, BuildMethod.prebuilt, BuildMethod.remote),
}
DEFAULT_ACTION = {Lang.python: "action.py", Lang.rust: "rust"}
# A Rust app's burst action is a crate of its own, shaped as the burst fork's: its `main`
# takes a `Middleware` (the map crate's `main` cannot).
RUST_BURST_ACTION = "rust_burst"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Runtime:
    """The `exec` fields OpenWhisk gets besides the code."""

    kind: str
    main: str
    image: str | None = None
    binary: bool = True  # code is a base64 zip; False: source text compiled by the runtime


@dataclass(frozen=True)
class ActionSpec:
    """One action to build: resolved paths, method, and the runtime it is deployed to."""

    lang: Lang
    method: BuildMethod
    source: Path  # .py file or package dir | crate dir | zip
    runtime: Runtime
    include: tuple[Path, ...] = ()
    requirements: tuple[str, ...] = ()
    compile_image: str | None = None  # docker method only


def resolve(params: AppConfig, locate: Callable[[str], Path], mode: str,
            platform: str) -> ActionSpec:
    """The spec for `params`; `locate` turns the config's paths into files (the app's folder)."""
    lang = Lang(params.lang)
    method = BuildMethod(params.build) if params.build is not None else DEFAULT_METHOD[lang]
    if method not in METHODS[lang]:
        allowed = ", ".join(m.value for m in METHODS[lang])
        raise ConfigError(
            f"app.build={method.value}: not a way to build app.lang={lang.value}; "
            f"choose one of {allowed}"
        )
    if not IDENTIFIER.fullmatch(params.main):
        raise ConfigError(f"app.main={params.main}: must be a function name (letters, digits, _)")
    if method != BuildMethod.python:
        for key, value in (("app.include", params.include),
                           ("app.requirements", params.requirements)):
            # An app's own defaults are its Python action's; only a user's setting is an error.
            if value and not (lang == Lang.rust and value == _default(params, key[4:])):
                raise ConfigError(
                    f"{key}: only Python actions built with app.build=python take it "
                    f"(app.build={method.value})"
                )
    if method == BuildMethod.remote and platform != "openwhisk":
        raise ConfigError(
            "app.build=remote compiles on a cluster and needs platform=openwhisk; "
            "the embedded platform runs built zips (use app.build=cargo)"
        )
    source = _source(params, locate, lang, method, mode)
    if lang == Lang.python and mode == "burst" and _takes_burst(source, params.main) is False:
        raise ConfigError(
            f"app.action: {params.main}() in {source} takes one argument, but burst mode calls "
            f"{params.main}(args, burst): give it a second parameter, or run mode=map"
        )
    compile_image = None
    image = params.image
    if method == BuildMethod.docker:
        compile_image = image or (RUST_MAP_IMAGE if mode == "map" else RUST_BURST_IMAGE)
        if mode != "map":
            image = compile_image  # the burst runtime is not a standard kind: run it as an image
    return ActionSpec(
        lang=lang,
        method=method,
        source=source,
        runtime=_runtime(params, lang, image),
        include=tuple(locate(name) for name in params.include),
        requirements=tuple(params.requirements),
        compile_image=compile_image,
    )


def _default(params: AppConfig, name: str) -> object:
    """The default of field `name` of the app's `Params`, as written in its dataclass."""
    spec = next(f for f in dataclasses.fields(params) if f.name == name)
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return spec.default


def _source(params: AppConfig, locate: Callable[[str], Path], lang: Lang,
            method: BuildMethod, mode: str) -> Path:
    if method == BuildMethod.prebuilt:
        if params.action is None or not params.action.endswith(".zip"):
            raise ConfigError(
                f"app.action={params.action}: app.build=prebuilt takes the path of a .zip"
            )
        if not locate(params.action).is_file():
            raise ConfigError(f"app.action={params.action}: no such file")
        return locate(params.action)
    if params.action is None and lang == Lang.rust and mode == "burst":
        if not (locate(RUST_BURST_ACTION) / "Cargo.toml").is_file():
            raise ConfigError(
                f"app={params.name} has no Rust burst action (a crate {RUST_BURST_ACTION}/ in "
                "its folder whose main takes a Middleware): run it with mode=map, or "
                "app.lang=python"
            )
        name = RUST_BURST_ACTION
    else:
        name = params.action if params.action is not None else DEFAULT_ACTION[lang]
    source = locate(name)
    if lang == Lang.python and not (source.is_file() or (source / "__init__.py").is_file()):
        raise ConfigError(f"app.action={name}: no such Python file or package (with __init__.py)")
    if lang == Lang.rust and not (source / "Cargo.toml").is_file():
        raise ConfigError(
            f"app.action={name}: not a Rust crate (a directory with Cargo.toml and src/lib.rs)"
        )
    if lang == Lang.rust and not (source / "src" / "lib.rs").is_file():
        raise ConfigError(f"app.action={name}: the crate has no src/lib.rs to call main from")
    return source


def _takes_burst(source: Path, main: str) -> bool | None:
    """Whether the action's `main` accepts the burst argument; None when the source cannot tell.

    Read from the source (no import), so a map-only action run as a burst is refused before
    anything is deployed instead of failing in every worker.
    """
    path = source if source.is_file() else source / "__init__.py"
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, ValueError):  # the build reports a syntax error itself
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == main:
            positional = len(node.args.posonlyargs) + len(node.args.args)
            return node.args.vararg is not None or positional >= 2
    return None  # defined elsewhere (imported, assigned): the run will tell


def _runtime(params: AppConfig, lang: Lang, image: str | None) -> Runtime:
    default_kind = PYTHON_KIND if lang == Lang.python else RUST_KIND
    kind = params.kind or (BLACKBOX if image else default_kind)
    if kind == BLACKBOX and not image:
        raise ConfigError("app.kind=blackbox needs app.image (the runtime image to run)")
    if image and kind != BLACKBOX:
        raise ConfigError(
            f"app.kind={kind}: a custom image (app.image={image}) runs as kind blackbox"
        )
    return Runtime(kind=kind, main=params.main, image=image)
