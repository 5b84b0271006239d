"""Line ranges of chosen functions' bodies, for .ci/mutate_lines.py.

Usage: python .ci/function_lines.py FILE [NAME,NAME,...]   (all functions if no names)

Prints ``FIRST-LAST,...`` covering the bodies (docstrings excluded) of the named functions,
leaving out lines that raise, build an error message or are comments: the lines that
compute values, which is where a mutation-testing run on a loaded machine should go.
"""
import ast
import sys

path = sys.argv[1]
names = sys.argv[2].split(",") if len(sys.argv) > 2 else None
src = open(path).read()
lines = src.splitlines()
keep = set()
for node in ast.walk(ast.parse(src)):
    if isinstance(node, ast.FunctionDef) and (names is None or node.name in names):
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        for ln in range(body[0].lineno, node.end_lineno + 1) if body else ():
            s = lines[ln - 1].strip()
            if not (s.startswith(("raise", "#", '"', 'f"')) or "Error(" in s):
                keep.add(ln)
ranges = []
for ln in sorted(keep):
    if ranges and ln == ranges[-1][1] + 1:
        ranges[-1][1] = ln
    else:
        ranges.append([ln, ln])
print(",".join(f"{a}-{b}" for a, b in ranges))
