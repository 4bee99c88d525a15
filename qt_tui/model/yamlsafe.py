"""Safe YAML loading for front matter: plain data only, bounded alias expansion."""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is several times faster; fall back when libyaml is absent
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

#: The most nodes a document may expand to once aliases are followed. Real front matter has a
#: few hundred; an alias bomb has billions.
MAX_EXPANDED_NODES = 100_000


class YamlLoadError(ValueError):
    """Front matter that could not be loaded, with a human reason and a 1-based line if known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"{reason} (line {line})")
        self.reason = reason
        self.line = line


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Count the nodes `node` stands for when every alias is expanded (memoised per node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > 200:
        raise YamlLoadError("front matter is nested too deeply")
    memo[key] = 1  # guards against recursive aliases while we walk
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, memo, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            total += _expanded_size(key_node, memo, depth + 1)
            total += _expanded_size(value_node, memo, depth + 1)
    if total > MAX_EXPANDED_NODES:
        raise YamlLoadError(
            f"front matter expands to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb?)"
        )
    memo[key] = total
    return total


def load_yaml(text: str, first_line: int = 1) -> Any:
    """Load one YAML document safely. `first_line` is the file line where `text` starts.

    Only the standard safe types are built; any other tag is an error. Raises YamlLoadError.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {})
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + first_line
        reason = (exc.problem or exc.context or "invalid YAML").strip()
        if "could not determine a constructor" in reason:
            reason = f"unsupported YAML tag: {reason.split('tag', 1)[-1].strip()}"
        raise YamlLoadError(f"invalid YAML: {reason}", line) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(f"invalid YAML: {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        # e.g. `!!int x` or `!!bool 0`: the safe constructors raise plain Python errors
        raise YamlLoadError(f"invalid YAML value: {exc}") from None
    except RecursionError:
        raise YamlLoadError("front matter is nested too deeply") from None
    finally:
        loader.dispose()


def load_mapping(text: str, first_line: int = 1) -> dict[str, Any]:
    """Load front matter that must be a mapping; anything else raises YamlLoadError."""
    data = load_yaml(text, first_line)
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        leading = text[: len(text) - len(text.lstrip())].count("\n")
        raise YamlLoadError(
            f"front matter is a {kind}, not a mapping of keys", first_line + leading
        )
    return {str(key): value for key, value in data.items()}
