"""`python -m runner.check` tells whether a platform can be used, in one line."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def check(*overrides: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner.check", *overrides], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_embedded_platform_passes_the_check():
    done = check()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: embedded platform at http://127.0.0.1:")


def test_refused_connection_fails_in_one_line_without_the_key():
    done = check("platform=openwhisk", "platform.api_host=http://127.0.0.1:9",
                 "platform.auth=someuser:topsecret")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "check failed: cannot reach http://127.0.0.1:9: connection refused for 1.5 s (nothing "
        "listens there: check platform.api_host, or APIHOST in ~/.wskprops, or whether the "
        "platform stopped)")
    assert "topsecret" not in done.stderr + done.stdout


def test_missing_credentials_name_the_places_to_set_them(tmp_path):
    done = check("platform=openwhisk", env={"WSK_CONFIG_FILE": str(tmp_path / "none"),
                                            "__OW_API_HOST": "", "__OW_API_KEY": ""})
    assert done.returncode == 2
    assert "platform.api_host is not set" in done.stderr


def test_wskprops_supplies_host_and_key(tmp_path):
    props = tmp_path / "wskprops"
    props.write_text("APIHOST=http://127.0.0.1:9\nAUTH=u:k\n")
    done = check("platform=openwhisk", env={"WSK_CONFIG_FILE": str(props)})
    assert "cannot reach http://127.0.0.1:9" in done.stderr
