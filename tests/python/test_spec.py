"""spec/format.md quotes the manifest schema verbatim; keep the two in step."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_spec_quotes_the_schema_verbatim():
    spec = (ROOT / "spec" / "format.md").read_text()
    schema = (ROOT / "format" / "sdc.fbs").read_text()
    start = spec.index("### 4.1")
    block_open = spec.index("```", start)
    body_start = spec.index("\n", block_open) + 1
    body_end = spec.index("```", body_start)
    assert spec[body_start:body_end] == schema
