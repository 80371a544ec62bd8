"""inspect --html, compare and plan on stories260K: the page is self-contained and complete, compare
matches two encodings tensor by tensor, and plan predicts the real file from a measurement on a smaller
model of the same family."""
import html.parser
import json

import pytest
from safetensors.numpy import load_file, save_file

from conftest import run


def _inspect(sdcodec, f):
    return json.loads(run(sdcodec, "inspect", f, "--json").stdout)


@pytest.fixture(scope="module")
def encodings(sdcodec, stories, tmp_path_factory):
    d = tmp_path_factory.mktemp("reports")
    files = {}
    for name, args in {"b6": ["--bits", "6"], "b4": ["--bits", "4"],
                       "vq": ["--method", "codebook", "--k", "256", "--dim", "4"]}.items():
        files[name] = d / f"{name}.sdc"
        run(sdcodec, "encode", stories, "-o", files[name], "--quiet", *args)
    return files


class _Checker(html.parser.HTMLParser):
    VOID = {"meta", "br", "rect", "input", "img", "hr", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.text, self.rects = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") or (v and ("http://" in v or "https://" in v or "url(" in v)):
                self.errors.append(f"external reference {k}={v}")
        if tag in ("script", "link", "iframe", "img"):
            self.errors.append(f"<{tag}> in a self-contained page")
        if tag == "rect":
            self.rects += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_complete(sdcodec, encodings, tmp_path):
    for name, f in encodings.items():
        out = tmp_path / f"{name}.html"
        run(sdcodec, "inspect", f, "--html", out)
        page = out.read_text()
        assert "http://" not in page and "https://" not in page and "@import" not in page
        c = _Checker()
        c.feed(page)
        c.close()
        assert not c.errors, c.errors[:5]
        assert not c.stack, f"unclosed tags {c.stack}"
        text = "".join(c.text)
        report = _inspect(sdcodec, f)
        for t in report["tensors"]:
            assert t["name"] in text
        # one rect per non-empty role, one per tensor part (and bank share)
        parts = sum(len(t["parts"]) for t in report["tensors"])
        roles = sum(1 for v in report["roles"].values() if v > 0)
        assert c.rects >= parts + roles
        if name == "vq":
            assert "Codebook banks" in text and "No codebook banks" not in text
    # the page is written atomically and never over the input
    p = run(sdcodec, "inspect", encodings["b6"], "--html", encodings["b6"], check=False)
    assert p.returncode == 1


def test_compare_two_encodings(sdcodec, encodings):
    a, b = _inspect(sdcodec, encodings["b6"]), _inspect(sdcodec, encodings["b4"])
    j = json.loads(run(sdcodec, "compare", encodings["b6"], encodings["b4"], "--json").stdout)
    assert j["schema"] == "sdcodec.compare/1"
    assert [f["file_bytes"] for f in j["files"]] == [a["file_bytes"], b["file_bytes"]]
    assert len(j["tensors"]) == len(a["tensors"])
    by_name = {t["name"]: t for t in b["tensors"]}
    for row, ta in zip(j["tensors"], a["tensors"]):
        tb = by_name[row["name"]]
        assert row["delta_bytes"][0] == tb["stored_bytes"] - ta["stored_bytes"]
        if ta["snr_db"] is not None:
            assert row["delta_snr_db"][0] == pytest.approx(tb["snr_db"] - ta["snr_db"])
    for role, values in j["roles"].items():
        assert values == [a["roles"][role], b["roles"][role]]
    text = run(sdcodec, "compare", encodings["b6"], encodings["b4"]).stdout
    assert "tok_embeddings.weight" in text and "bytes by role" in text
    # a lone file is a usage error
    assert run(sdcodec, "compare", encodings["b6"], check=False).returncode == 2


def test_compare_marks_tensors_missing_from_a_file(sdcodec, stories, encodings, tmp_path):
    t = load_file(str(stories))
    del t["norm.weight"]
    src = tmp_path / "less.safetensors"
    save_file(t, str(src))
    run(sdcodec, "encode", src, "-o", tmp_path / "less.sdc", "--bits", "6", "--quiet")
    j = json.loads(run(sdcodec, "compare", encodings["b6"], tmp_path / "less.sdc", "--json").stdout)
    row = next(r for r in j["tensors"] if r["name"] == "norm.weight")
    assert row["files"][1] is None and row["delta_bytes"] == [None]


STORIES_SHAPE = ["--vocab", "512", "--dim", "64", "--layers", "5", "--hidden", "172", "--heads", "8", "--kv-heads", "4"]


@pytest.mark.parametrize("setting", [["--bits", "4"], ["--bits", "6"], ["--bits", "5", "--group", "32"],
                                     ["--method", "codebook", "--k", "256", "--dim", "4"]])
def test_plan_predicts_stories_from_a_smaller_model(sdcodec, stories, tmp_path, setting):
    """Rates measured on stories260K cut to its first 3 of 5 blocks predict the whole model's file."""
    t = load_file(str(stories))
    sub = {k: v for k, v in t.items() if not k.startswith("layers.") or int(k.split(".")[1]) < 3}
    save_file(sub, str(tmp_path / "sub.safetensors"))
    run(sdcodec, "encode", tmp_path / "sub.safetensors", "-o", tmp_path / "sub.sdc", "--quiet", *setting)
    run(sdcodec, "encode", stories, "-o", tmp_path / "full.sdc", "--quiet", *setting)
    plan = json.loads(run(sdcodec, "plan", "--from", tmp_path / "sub.sdc", *STORIES_SHAPE, "--json").stdout)[0]
    real = _inspect(sdcodec, tmp_path / "full.sdc")
    assert plan["params"] == real["totals"]["params"]
    for role in ("embedding", "head", "attention", "mlp", "norm"):
        assert plan["roles"][role]["params"] == sum(x["numel"] for x in real["tensors"] if x["role"] == role), role
    assert plan["tensors"] == len(real["tensors"])
    err = plan["total_bytes"] / real["file_bytes"] - 1
    assert abs(err) < 0.02, f"plan {plan['total_bytes']:.0f} vs real {real['file_bytes']} ({err:+.2%})"


def test_plan_vocab_sweep(sdcodec, encodings):
    plans = json.loads(run(sdcodec, "plan", "--from", encodings["b6"], "--vocab", "256,512,8192", "--dim", "64",
                           "--layers", "5", "--hidden", "172", "--heads", "8", "--kv-heads", "4", "--json").stdout)
    emb = [p["roles"]["embedding"]["bytes"] for p in plans]
    assert emb[0] * 2 == pytest.approx(emb[1]) and emb[0] * 32 == pytest.approx(emb[2])
    assert [p["roles"]["mlp"]["bytes"] for p in plans] == [plans[0]["roles"]["mlp"]["bytes"]] * 3
    untied = json.loads(run(sdcodec, "plan", "--from", encodings["b6"], *STORIES_SHAPE, "--untied", "--json").stdout)[0]
    assert untied["roles"]["head"]["params"] == 512 * 64
    shared = json.loads(run(sdcodec, "plan", "--from", encodings["b6"], *STORIES_SHAPE, "--unique-layers", "2",
                            "--json").stdout)[0]
    assert shared["roles"]["mlp"]["params"] * 5 == plans[1]["roles"]["mlp"]["params"] * 2
    bad = run(sdcodec, "plan", "--from", encodings["b6"], *STORIES_SHAPE, "--bits-per-weight", "trunk=3", check=False)
    assert bad.returncode == 1 and "ROLE=BITS" in bad.stderr
