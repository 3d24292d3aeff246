"""The build step packages an action-loop zip and never builds the same sources twice."""

import os
import zipfile

import pytest

from runner.build import BuildError, build_python_action


def test_zip_has_executable_exec_action_and_burst_package(tmp_path):
    source = tmp_path / "my_action.py"
    source.write_text("def main(args):\n    return args\n")
    artifact = build_python_action(source, "main", tmp_path / "cache")
    assert not artifact.cache_hit
    with zipfile.ZipFile(artifact.path) as archive:
        names = set(archive.namelist())
        exec_info = archive.getinfo("exec")
        launcher = archive.read("exec").decode()
        assert archive.read("action.py") == source.read_bytes()
    assert exec_info.external_attr >> 16 & 0o111, "exec must be executable"
    assert launcher.startswith("#!/usr/bin/env python3")
    assert 'serve(module="action", function="main")' in launcher
    assert "burst/__init__.py" in names and "burst/launcher.py" in names


def test_same_sources_hit_the_cache_and_changed_sources_miss(tmp_path):
    source = tmp_path / "a.py"
    source.write_text("def main(args):\n    return {}\n")
    first = build_python_action(source, "main", tmp_path / "cache")
    second = build_python_action(source, "main", tmp_path / "cache")
    assert second.cache_hit and second.path == first.path
    source.write_text("def main(args):\n    return {'changed': True}\n")
    third = build_python_action(source, "main", tmp_path / "cache")
    assert not third.cache_hit and third.digest != first.digest


def test_missing_source_says_what_to_set(tmp_path):
    with pytest.raises(BuildError, match="set app.action"):
        build_python_action(tmp_path / "nope.py", "main", tmp_path / "cache")


def test_package_directory_action_keeps_its_name_and_files(tmp_path):
    package = tmp_path / "mypkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from .sub.work import main\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "work.py").write_text("def main(args):\n    return args\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"stale")
    artifact = build_python_action(package, "main", tmp_path / "cache")
    with zipfile.ZipFile(artifact.path) as archive:
        names = set(archive.namelist())
        launcher = archive.read("exec").decode()
    assert {"mypkg/__init__.py", "mypkg/sub/__init__.py", "mypkg/sub/work.py"} <= names
    assert not [name for name in names if "__pycache__" in name]
    assert 'serve(module="mypkg", function="main")' in launcher


def test_code_over_the_openwhisk_limit_is_refused_with_a_clear_message(tmp_path):
    source = tmp_path / "a.py"
    source.write_text("def main(args):\n    return {}\n")
    blob = tmp_path / "blob.bin"  # data beside the action: zipped, not compiled
    blob.write_bytes(os.urandom(37 * 2**20))  # incompressible: 49 MB once base64-encoded
    with pytest.raises(BuildError, match=r"over OpenWhisk's 48 MB limit"):
        build_python_action(source, "main", tmp_path / "cache", [blob])
    assert not list((tmp_path / "cache").iterdir())  # nothing half-written is kept
