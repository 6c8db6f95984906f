"""YAML read with the line of every value, so an error can say which line of the file is wrong."""

from __future__ import annotations

from typing import Any

import yaml

from appliance.errors import UserError

Path_ = tuple[str | int, ...]


class ConfigFileError(UserError):
    """A configuration document that cannot be applied; the message names the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.detail = source, line, message
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {message}")


class Located:
    """A parsed document together with the line each value starts on."""

    def __init__(self, source: str, data: Any, lines: dict[Path_, int]) -> None:
        self.source, self.data, self._lines = source, data, lines

    def line(self, path: Path_) -> int | None:
        """The line of the value at `path`, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def error(self, path: Path_, message: str) -> ConfigFileError:
        """An error pointing at the value at `path`."""
        text = f"{dotted(path)}: {message}" if path else message
        return ConfigFileError(self.source, self.line(path), text)


def dotted(path: Path_) -> str:
    """`trunks[0].host` for ("trunks", 0, "host")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str, source: str) -> Located:
    """Parse one YAML document with safe types only; duplicate keys and aliases to keys are refused."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise ConfigFileError(source, mark.line + 1 if mark else None, str(err.problem or err)) from err
    except yaml.YAMLError as err:
        raise ConfigFileError(source, None, str(err)) from err
    lines: dict[Path_, int] = {}
    if node is None:
        return Located(source, None, lines)
    data = _build(node, (), lines, source, yaml.constructor.SafeConstructor())
    return Located(source, data, lines)


def _build(node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str,
           scalars: yaml.constructor.SafeConstructor) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigFileError(source, key_node.start_mark.line + 1, "a key must be a plain word")
            key = str(scalars.construct_object(key_node))
            if key in out:
                raise ConfigFileError(source, key_node.start_mark.line + 1,
                                      f"{dotted((*path, key))}: given twice")
            out[key] = _build(value_node, (*path, key), lines, source, scalars)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, source, scalars) for i, item in enumerate(node.value)]
    try:
        return scalars.construct_object(node)
    except yaml.constructor.ConstructorError as err:
        raise ConfigFileError(source, node.start_mark.line + 1, str(err.problem)) from err
