"""Reading pathway templates from YAML or JSON files, and the default shipped with essence."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import yaml

from essence.domain.errors import InvalidInput, PathwayError
from essence.domain.pathway import PathwayTemplate

DEFAULT_TEMPLATE_RESOURCE = "essence-default.yaml"


def read_template_file(path: Path) -> PathwayTemplate:
    """Parse and validate a template file (.yaml, .yml or .json).

    Raises:
        InvalidInput: the file does not exist or cannot be read.
        PathwayError: the content is malformed, cyclic or refers to unknown things.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("pathway file", path.name, "does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "pathway file", path.name, f"cannot be read ({type(error).__name__})"
        ) from None
    return parse_template_text(text, path.name)


def parse_template_text(text: str, source: str) -> PathwayTemplate:
    """Parse YAML (a superset of JSON) or JSON text into a validated template."""
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        line = getattr(error, "lineno", line)
        where = (
            f" near line {line + 1 if isinstance(error, yaml.YAMLError) else line}"
            if line is not None
            else ""
        )
        raise PathwayError(f"pathway file {source}: not valid YAML/JSON{where}") from None
    return PathwayTemplate.from_mapping(data)


def default_template() -> PathwayTemplate:
    """The default ESSENCE pathway shipped inside the package."""
    resource = files("essence") / "pathways" / DEFAULT_TEMPLATE_RESOURCE
    return parse_template_text(resource.read_text(encoding="utf-8"), DEFAULT_TEMPLATE_RESOURCE)
