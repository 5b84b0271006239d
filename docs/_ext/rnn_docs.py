"""Sphinx extension of the rnn-theory docs: the derivations reference, generated at build time.

On ``builder-inited`` it writes ``generated/derive.md`` from
:func:`rnn_theory.theory.registry.all_derivations` — the same derivations, statements,
symbolic checks and LaTeX as ``rnn-theory derive --latex`` — so the page can never drift
from the code.  A failing symbolic check fails the build.
"""
from __future__ import annotations

from pathlib import Path

HEADER = """# Derivations reference (generated)

Generated at documentation build time from the sympy registry, i.e. the output of
`rnn-theory derive --latex`: every closed form that `theory/` derives, its one-line
statement, the module that derives it and its symbolic checks (✓ passed).  The narrative
with assumptions and where each result is checked against simulations is
[Derivations](../derivations.md).

"""


def _latex_body(block: str) -> str:
    """The ``align`` environment of a derivation's LaTeX block (without ``%`` comments)."""
    return "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("%")).strip()


def derive_markdown() -> tuple[str, int]:
    """The generated page and the number of failed checks."""
    from rnn_theory.theory.registry import all_derivations

    items = all_derivations()
    # one section per family (R1, R2, ...), in order of first appearance; registry order within
    first: dict = {}
    for i, (_, d) in enumerate(items):
        first.setdefault(d.key.split(".")[0], i)
    items = sorted(items, key=lambda it: first[it[1].key.split(".")[0]])
    parts, failed, family = [HEADER], 0, None
    for mod, d in items:
        fam = d.key.split(".")[0]
        if fam != family:
            family = fam
            parts.append(f"## {fam}\n")
        parts.append(f"### `{d.key}`\n")
        parts.append(f"``{d.statement}``  \n*derived in* `{mod}`\n")
        parts.append(_latex_body(d.latex_block()) + "\n")
        for c in d.checks:
            failed += not c.passed
            parts.append(f"- {'✓' if c.passed else '✗ FAILED:'} {c.description}")
        parts.append("")
    n_checks = sum(len(d.checks) for _, d in items)
    parts.append(f"\n{len(items)} derivations, {n_checks} symbolic checks, {failed} failed.\n")
    return "\n".join(parts), failed


def _generate(app):
    out = Path(app.srcdir) / "generated"
    out.mkdir(exist_ok=True)
    text, failed = derive_markdown()
    if failed:
        raise RuntimeError(f"{failed} symbolic check(s) failed; see rnn-theory derive")
    target = out / "derive.md"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
