"""Config errors as the user sees them: one line naming the key and what to do.

OmegaConf and Hydra describe a bad key over several lines and with internal
names; `describe` turns their exceptions into one line, naming the config group
option the key was checked against and the closest known key.
"""

from __future__ import annotations

import dataclasses
import difflib

from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException


class ConfigError(ValueError):
    """A config value the user must fix; its message is one line."""


class Incompatible(ConfigError):
    """Values that are each fine but make no sense together; a sweep skips such a job."""


# schema class -> the group option it is the schema of ("platform=openwhisk", "app=kmeans");
# filled when the schemas are registered.
OPTION_OF: dict[type, str] = {}


def did_you_mean(key: str, known: list[str]) -> str:
    """' (did you mean X?)' when a known key is close to `key`, else ''."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_key(error: OmegaConfBaseException, prefix: str) -> str | None:
    schema = getattr(error, "object_type", None)
    key = getattr(error, "key", None)
    full_key = getattr(error, "full_key", None) or key
    if not (isinstance(key, str) and dataclasses.is_dataclass(schema)):
        return None
    known = [f.name for f in dataclasses.fields(schema)]
    where = OPTION_OF.get(schema) or str(full_key).rpartition(".")[0] or "the experiment"
    hint = did_you_mean(key, known) or f"; its settings: {', '.join(known)}"
    return f"{prefix}{full_key}: not a setting of {where}{hint}"


def describe(error: BaseException, prefix: str = "") -> str:
    """One line out of OmegaConf's and Hydra's multi-line messages: the key and the complaint."""
    while error.__cause__ is not None and not isinstance(error, OmegaConfBaseException):
        error = error.__cause__
    if isinstance(error, (ConfigKeyError, ConfigAttributeError)):
        unknown = _unknown_key(error, prefix)
        if unknown:
            return unknown
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    key = getattr(error, "full_key", None)
    if key:
        return f"{prefix}{key}: {message}"
    return message
