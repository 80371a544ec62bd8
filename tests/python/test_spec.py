"""spec/format.md quotes the manifest schema verbatim; keep the two in step (tools/sync_spec_schema.py)."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from sync_spec_schema import schema_block  # noqa: E402


def test_spec_quotes_the_schema_verbatim():
    spec = (ROOT / "spec" / "format.md").read_text()
    a, b = schema_block(spec)
    assert spec[a:b] == (ROOT / "format" / "sdc.fbs").read_text(), "run tools/sync_spec_schema.py"
