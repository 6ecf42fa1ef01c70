"""The rules of the house in docs/architecture.md, checked on the source itself.

- no import cycle among qa's modules (imports inside functions count: they run too; imports
  under `if TYPE_CHECKING:` do not, they never execute);
- a stage imports only itself, earlier stages and the shared foundation: documents -> index ->
  answers, and the foundation (config, errors, records, safe_text, values) imports no stage;
- no module reaches into another's `_private` names (`x._name` in code, `from m import _name`);
- `qa --help` stays cheap: the CLI and the stage packages import no heavy library.

Everything but the last test reads the source with `ast`/`tokenize`: nothing is imported, so
the optional extras (Ray, Qdrant) need not be installed.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the order of the pipeline; a module may import its own layer and any lower one
FOUNDATION = {"qa", "qa.config", "qa.errors", "qa.jsonl", "qa.records", "qa.safe_text", "qa.values"}
STAGES = {"qa.documents": 1, "qa.index": 2, "qa.answers": 3}
TOP = 4  # engine, present, outputs, cli, commands/, eval/: may use every stage

# `x._name` that is fine: another library's documented or only handle
ALLOWED_PRIVATE = {
    "os._exit": "the standard library's documented exit without cleanup (a forked child)",
    "cell._tc": "python-docx offers no public identity for a merged cell's shared XML element",
}


def qa_modules() -> dict[str, Path]:
    """{module name: file} for every module and package under qa/."""
    out = {}
    for path in sorted((ROOT / "qa").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _runs(node: ast.AST) -> list[ast.AST]:
    """The statements of `node` that execute, leaving out `if TYPE_CHECKING:` bodies."""
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.If) and getattr(n.test, "id", getattr(n.test, "attr", None)) == "TYPE_CHECKING":
            stack.extend(n.orelse)
            continue
        out.append(n)
        stack.extend(ast.iter_child_nodes(n))
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The qa modules `name` imports (a `from pkg import sub` of a submodule counts as importing sub)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for n in _runs(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            found.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (n.level - 1)] + ([n.module] if n.module else []))
            for a in n.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = qa_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> int:
    if module in FOUNDATION:
        return 0
    for stage, rank in STAGES.items():
        if module == stage or module.startswith(stage + "."):
            return rank
    return TOP


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_qa_modules() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (break them by moving the shared function down a layer): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_stages_import_only_earlier_stages() -> None:
    wrong = [
        f"{m} imports {d}"
        for m, deps in import_graph().items()
        for d in sorted(deps)
        if layer(d) > layer(m) and layer(m) != TOP
    ]
    assert not wrong, "a stage reaches forward (see docs/architecture.md, rules of the house): " + "; ".join(wrong)


def private_reaches(path: Path, base: Path = ROOT) -> list[str]:
    """`name._private` in code (not in strings or comments), other than self/cls, and `from m import _private`."""
    text = path.read_text(encoding="utf-8")
    out = []
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in (tokenize.NL, tokenize.NEWLINE)]
    for a, dot, b in zip(tokens, tokens[1:], tokens[2:]):
        if (
            a.type == tokenize.NAME
            and dot.string == "."
            and b.type == tokenize.NAME
            and b.string.startswith("_")
            and not b.string.startswith("__")
            and a.string not in ("self", "cls")
            and f"{a.string}.{b.string}" not in ALLOWED_PRIVATE
        ):
            out.append(f"{path.relative_to(base)}:{a.start[0]}: {a.string}.{b.string}")
    for n in ast.walk(ast.parse(text)):
        if isinstance(n, ast.ImportFrom):
            out += [f"{path.relative_to(base)}:{n.lineno}: from {n.module} import {a.name}" for a in n.names if a.name.startswith("_") and not a.name.startswith("__")]
    return out


def test_the_private_check_sees_a_reach(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""store._x in prose is fine"""\nfrom qa.x import _y\nself._z = store._sweep(1)  # os._exit\nos._exit(0)\n')
    assert private_reaches(sample, tmp_path) == ["sample.py:3: store._sweep", "sample.py:2: from qa.x import _y"]


def test_no_reach_into_another_modules_private_names() -> None:
    files = sorted(p for top in ("qa", "tui") for p in (ROOT / top).rglob("*.py"))
    found = [hit for f in files for hit in private_reaches(f)]
    assert not found, "private names used from outside their module (make the helper public): " + "; ".join(found)


def test_the_cli_and_the_stage_packages_import_nothing_heavy() -> None:
    code = (
        "import sys, qa.cli, qa.documents, qa.index, qa.answers, qa.index.vectors; "
        "print(sorted(m for m in ('torch', 'faiss', 'numpy', 'onnxruntime', 'textual', 'bm25s') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_bm25_reports_the_bytes_it_holds() -> None:
    """qa bench sizes the BM25 index through Bm25Index.nbytes (it read bm25s's arrays through a private name)."""
    from qa.index.lexical import Bm25Index

    small = Bm25Index.build(["the tower is tall", "the river is long"])
    large = Bm25Index.build([f"passage {i} about topic {i * 7} and word{i}" for i in range(200)])
    assert 0 < small.nbytes() < large.nbytes()
