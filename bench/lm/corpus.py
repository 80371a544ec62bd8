"""The proving ground's text: real English from Debian packages that scripts/setup.sh installs by name.

Two domains, both read from the installed packages (nothing is fetched at run time):

* prose: the King James Bible, Debian package `bible-kjv-text` (public domain text; the `bible` program of
  `bible-kjv`, GPL-2+, prints it). One document per chapter (1,189), verse numbers and chapter headings removed,
  one verse per line. About 4.1 MB of text.
* manuals: Vim's reference and user manuals, `/usr/share/vim/vim90/doc/*.txt` of `vim-runtime` (Open
  Publication Licence, no options exercised). One document per file. Used only held out, as the second domain of
  the tokenizer-overfitting falsifier: models and tokenizers never train on it.

Splits are by document and fixed by a hash of the document's name, so adding or losing a document never moves
another one: prose `train` (92 %), `calib` (3 %, only for Hessians, sensitivities and calibration loss),
`heldout` (5 %, only for scoring); manuals `heldout2` (the files whose hash falls in 5 %).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess

SPLITS = ("train", "calib", "heldout", "heldout2")
BIBLE_SPEC = "Gen1:1-Rev22:21"
VIM_DOC_GLOB = "/usr/share/vim/vim*/doc/*.txt"
_CHAPTER = re.compile(r"^(\S.*\S) (\d+)$")  # "Genesis 1", "1 Kings 3", "Song of Solomon 2"
_VERSE = re.compile(r"^\s+\d+ (.*)$")


class CorpusError(RuntimeError):
    pass


def _bucket(doc_id: str) -> int:
    return int.from_bytes(hashlib.sha256(doc_id.encode()).digest()[:4], "little") % 100


def prose_documents() -> list[tuple[str, str]]:
    """(chapter name, text) for every chapter of the KJV, in canonical order."""
    exe = shutil.which("bible")
    if exe is None:
        raise CorpusError("the `bible` program is missing: apt-get install bible-kjv (scripts/setup.sh does)")
    out = subprocess.run([exe, "-l100000", BIBLE_SPEC], capture_output=True, text=True, check=True).stdout
    docs: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        if not line.strip():
            continue
        m = _VERSE.match(line)
        if m:
            if not docs:
                raise CorpusError(f"bible output: verse before any chapter heading: {line[:60]!r}")
            docs[-1][1].append(m.group(1).strip())
        elif _CHAPTER.match(line):
            docs.append((line.strip(), []))
        else:
            raise CorpusError(f"bible output: unexpected line {line[:60]!r}")
    if len(docs) != 1189:
        raise CorpusError(f"bible output: {len(docs)} chapters, expected 1189")
    return [(name, "\n".join(verses)) for name, verses in docs]


def manual_documents() -> list[tuple[str, str]]:
    """(file name, text) for Vim's documentation files, sorted by name."""
    paths = sorted(glob.glob(VIM_DOC_GLOB))
    if not paths:
        raise CorpusError(f"no files match {VIM_DOC_GLOB}: apt-get install vim-runtime (scripts/setup.sh does)")
    docs = []
    for p in paths:
        with open(p, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        docs.append((os.path.basename(p), text.replace("\r\n", "\n")))
    return docs


def split_of(domain: str, doc_id: str) -> str | None:
    b = _bucket(f"{domain}/{doc_id}")
    if domain == "prose":
        return "calib" if b < 3 else "heldout" if b < 8 else "train"
    return "heldout2" if b < 5 else None


def load_splits() -> dict[str, list[str]]:
    """{split: [document text, ...]} in document order."""
    splits: dict[str, list[str]] = {s: [] for s in SPLITS}
    for name, text in prose_documents():
        splits[split_of("prose", name)].append(text)
    for name, text in manual_documents():
        s = split_of("manual", name)
        if s is not None:
            splits[s].append(text)
    return splits


def split_text(docs: list[str]) -> str:
    """A split's documents as one text, separated by a blank line (the separator is scored like any text)."""
    return "\n\n".join(docs)


def corpus_hash(splits: dict[str, list[str]]) -> str:
    h = hashlib.sha256()
    for s in SPLITS:
        for d in splits[s]:
            h.update(s.encode() + b"\0" + d.encode() + b"\0")
    return h.hexdigest()
