"""Reading a YAML params file with line numbers, refusing duplicate keys and impossible dates.

PyYAML keeps the last of two equal keys silently and raises a bare ValueError on 2023-02-30;
both are params problems the user must see with the key and the line.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import yaml

from .errors import ParamsError, Problem
from .remembered import by_content

# libyaml's parser when PyYAML was built with it (the same documents, nodes and line marks,
# about ten times faster than the pure-Python one: params are read by every chapter)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """The YAML document and the line of every key; duplicate keys and impossible dates are
    problems (YAML would keep the last duplicate silently and raise on 2023-02-30). The same
    bytes are parsed once a process (every chapter of an appendix loads its params); each
    caller gets its own copy of the document."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParamsError(Problem(str(path), f"cannot be read: {exc.strerror or exc}")) from None
    document, lines = _parsed(path, data)
    return copy.deepcopy(document), dict(lines)


@by_content
def _parsed(path: Path, data: bytes) -> tuple[Any, dict[tuple, int]]:
    try:  # decoded as reading the file as text does (UTF-8, universal newlines)
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()
        loader = _LOADER(text)
        node = loader.get_single_node()
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ParamsError(
            Problem(str(path), f"not valid YAML: {exc}", None if line is None else line + 1)
        ) from None
    problems: list[Problem] = []
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(path, node, (), problems, lines)
    if problems:
        raise ParamsError(problems)
    try:  # constructed from the nodes already composed: the text is parsed once
        return (None if node is None else loader.construct_document(node)), lines
    except (yaml.YAMLError, ValueError) as exc:  # anything the walk did not foresee
        raise ParamsError(Problem(str(path), f"not valid YAML: {exc}")) from None


TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _walk(path: Path, node: yaml.Node, where: tuple, problems: list[Problem],
          lines: dict[tuple, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            name = ".".join(str(k) for k in (*where, key))
            if key in first and key != "<<":
                problems.append(Problem(str(path), f"{name}: key given twice (first on line "
                                        f"{first[key]}); keep one", line))
                continue
            first[key] = line
            lines[(*where, key)] = line
            _walk(path, value_node, (*where, key), problems, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*where, i)] = item.start_mark.line + 1
            _walk(path, item, (*where, i), problems, lines)
    elif isinstance(node, yaml.ScalarNode) and node.tag == TIMESTAMP_TAG:
        try:
            yaml.SafeLoader("").construct_yaml_timestamp(node)
        except ValueError as exc:
            name = ".".join(str(k) for k in where) or "(top level)"
            problems.append(Problem(str(path), f"{name}: {node.value} is not a real date "
                                    f"({exc}); dates are YYYY-MM-DD", node.start_mark.line + 1))


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of the longest prefix of `loc` given in the file."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
