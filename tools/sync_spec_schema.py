#!/usr/bin/env python3
"""Copies format/sdc.fbs into the verbatim schema block of spec/format.md (section 4.1), so the spec always
quotes the schema the code is built from. tests/python/test_spec.py fails when they differ."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def schema_block(spec: str) -> tuple[int, int]:
    """Start and end offsets of the code block under the '### 4.1' heading."""
    start = spec.index("### 4.1")
    body_start = spec.index("\n", spec.index("```", start)) + 1
    return body_start, spec.index("```", body_start)


def main() -> None:
    spec_path = ROOT / "spec" / "format.md"
    spec = spec_path.read_text()
    a, b = schema_block(spec)
    spec_path.write_text(spec[:a] + (ROOT / "format" / "sdc.fbs").read_text() + spec[b:])


if __name__ == "__main__":
    main()
