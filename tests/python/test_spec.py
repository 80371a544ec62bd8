"""spec/format.md quotes the manifest schema (tools/sync_spec_schema.py) and the rANS stream description of
format/rans_codec.h verbatim; keep each pair in step."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from sync_spec_schema import schema_block  # noqa: E402


def test_spec_quotes_the_schema_verbatim():
    spec = (ROOT / "spec" / "format.md").read_text()
    a, b = schema_block(spec)
    assert spec[a:b] == (ROOT / "format" / "sdc.fbs").read_text(), "run tools/sync_spec_schema.py"


def test_spec_quotes_the_rans_text_verbatim():
    """The normative rANS text lives twice: the comment of format/rans_codec.h (from "STREAM FORMAT." to the
    end of the comment) and the code block of spec section 5.1. They must be the same lines."""
    header = (ROOT / "format" / "rans_codec.h").read_text().splitlines()
    start = next(i for i, line in enumerate(header) if line.startswith("// STREAM FORMAT."))
    comment = []
    for line in header[start:]:
        if not line.startswith("//"):
            break
        comment.append(line[3:] if line.startswith("// ") else line[2:])
    spec = (ROOT / "spec" / "format.md").read_text()
    body = spec.index("```\n", spec.index("### 5.1")) + 4
    quoted = spec[body:spec.index("```", body)].rstrip("\n").splitlines()
    assert len(comment) > 30 and comment[0].startswith("STREAM FORMAT.")
    for i, (c, q) in enumerate(zip(comment, quoted)):
        assert c == q, f"line {i + 1} differs:\n  format/rans_codec.h: {c}\n  spec/format.md 5.1: {q}"
    assert len(comment) == len(quoted), "the two rANS texts have different lengths"

