"""Minified Python for a size-capped submission: python-minifier (PyPI) does the rewriting; this module only
decides what goes in. join() makes the submission kit's single-file decoder from the reference decoder
(spec/reference_decoder.py, installed as sdcodec._reference_decoder) followed by the loader
(sdcodec.decoder_loader): the loader's imports of the decoder go (the two share one namespace), so does the
decoder's `if __name__ == "__main__":` command line, and so does every top-level definition that the public
names (load, decode, decode_named) do not reach. Everything else is the reference decoder's own code.

This file must stay importable on its own (tools/ load it by path, without the compiled package).
"""
import ast

_SELF_IMPORT = "_reference_decoder"  # the loader's `from ._reference_decoder import ...`
PUBLIC = ("decode", "decode_named")     # the decoder's entry points kept besides the loader's names
HEADER = "# sdcodec decoder, minified from spec/reference_decoder.py: load(path) -> state_dict\n"


def _minifier():
    try:
        import python_minifier
    except ImportError:
        raise ImportError("minifying needs python-minifier: pip install python-minifier") from None
    return python_minifier


def minifier_version():
    from importlib.metadata import version
    _minifier()
    return f"python-minifier {version('python-minifier')}"


def minify(source, keep=None):
    """`source` minified. With `keep` (names), module-level names other than those may be renamed too."""
    kw = dict(rename_globals=True, preserve_globals=sorted(keep)) if keep is not None else {}
    return _minifier().minify(source, remove_literal_statements=True, **kw)


def _is_main_guard(node):
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__")


def _defines(stmt):
    """Names a top-level statement binds (empty: it is kept for its effect)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    targets = stmt.targets if isinstance(stmt, ast.Assign) else \
        [stmt.target] if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _uses(stmt):
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _reachable(body, roots):
    """The statements that bind a name reachable from `roots`, or bind none, in their order. Code that
    reaches names through strings (globals(), eval, ...) would hide uses: then every statement stays."""
    if any(n in ("globals", "eval", "exec", "vars") for s in body for n in _uses(s)):
        return body
    defines = [_defines(s) for s in body]
    needed, todo = set(), set(roots).union(*(_uses(s) for s, d in zip(body, defines) if not d))
    while todo:
        name = todo.pop()
        needed.add(name)
        for s, d in zip(body, defines):
            if name in d:
                todo |= _uses(s) - needed
    return [s for s, d in zip(body, defines) if not d or d & needed]


def _without_repeated_imports(body):
    seen, out = set(), []
    for s in body:
        key = ast.dump(s) if isinstance(s, (ast.Import, ast.ImportFrom)) else None
        if key is None or key not in seen:
            out.append(s)
            seen.add(key)
    return out


def join(decoder_source, loader_source):
    """The single-file decoder's source: HEADER, then the reference decoder and the loader as one module,
    minified; the loader's top-level names and PUBLIC keep their names."""
    decoder, loader = ast.parse(decoder_source), ast.parse(loader_source)
    loader.body = [s for s in loader.body
                   if not (isinstance(s, ast.ImportFrom) and (s.module or "").endswith(_SELF_IMPORT))]
    imports = (ast.Import, ast.ImportFrom)
    keep = set(PUBLIC).union(*(_defines(s) for s in loader.body if not isinstance(s, imports)))
    body = [s for s in decoder.body if not _is_main_guard(s)] + loader.body
    decoder.body = _reachable(_without_repeated_imports(body), keep)
    return HEADER + minify(ast.unparse(decoder), keep).rstrip("\n") + "\n"
