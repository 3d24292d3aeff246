"""Puts the user project's `conf/` before the package's in Hydra's config search path.

Hydra searches its primary config directory (the package's `conf/`, which
holds `config.yaml`) before anything added with `hydra.searchpath`, so a
project's configs could never replace the package's that way; a search path
plugin may insert before it. It acts only inside the runner, once the project
has been chosen (runner.config.project.activate), and does nothing in any
other Hydra application installed beside it.
"""

from __future__ import annotations

import sys

from hydra.core.config_search_path import ConfigSearchPath, SearchPathQuery
from hydra.plugins.search_path_plugin import SearchPathPlugin


class ProjectSearchPath(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        project = sys.modules.get("runner.config.project")
        conf = project.active_conf() if project is not None else None
        if conf is not None:
            search_path.prepend("burst-runner project", f"file://{conf}",
                                anchor=SearchPathQuery(provider="main"))
