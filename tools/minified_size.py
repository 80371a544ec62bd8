#!/usr/bin/env python3
"""Prints a Python file's size as written and minified (comments, docstrings and blank lines dropped, via
ast.unparse): what it would cost inside a size-capped artifact. Usage: minified_size.py FILE.py"""
import ast
import sys


def minified(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


if __name__ == "__main__":
    src = open(sys.argv[1]).read()
    small = minified(src)
    compile(small, sys.argv[1], "exec")  # the minified text is still a valid program
    print(f"{sys.argv[1]}: {len(src.encode())} bytes as written, {len(small.encode())} bytes minified")
