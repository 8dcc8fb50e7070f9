"""Rules name ops by reference: every pattern op is an op class or an op instance (never a
string or a lazily resolved name), and every rule module imports cleanly on its own, so a renamed
op fails at import instead of leaving a rule silently dead."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gnomon.rewrite
import gnomon.rewrite.rules
from gnomon.graph.op import Op
from gnomon.rewrite import get_rule, list_rules, pipeline
from gnomon.rewrite.engine import GraphRule, Rule
from gnomon.rewrite.pattern import Const, P, Pattern, Var
from gnomon.scalar.basic import ScalarOp
from gnomon.tensor.elemwise import Elemwise

RULE_MODULES = sorted(
    f"gnomon.rewrite.rules.{m.name}" for m in pkgutil.iter_modules(gnomon.rewrite.rules.__path__)
)


def _is_op_reference(op: Any) -> bool:
    """An op class, an op instance, or ``Elemwise`` of a scalar op class or instance."""
    if isinstance(op, Elemwise):
        so = op.scalar_op
        return isinstance(so, ScalarOp) or (isinstance(so, type) and issubclass(so, ScalarOp))
    return isinstance(op, Op) or (isinstance(op, type) and issubclass(op, Op))


def _pattern_ops(pattern: Pattern) -> list[Any]:
    """The ops named anywhere in ``pattern``."""
    if isinstance(pattern, P):
        return [pattern.op, *(op for sub in pattern.inputs for op in _pattern_ops(sub))]
    # A new kind of pattern must be taught to this test (it may name ops too).
    assert isinstance(pattern, Var | Const), f"unknown pattern kind {type(pattern).__name__}"
    return []


def test_every_rule_names_its_ops_by_reference() -> None:
    names = list_rules()
    assert len(names) > 50
    for name in names:
        rule = get_rule(name)
        if isinstance(rule, GraphRule):
            continue
        assert isinstance(rule, Rule)
        ops = [] if rule.pattern is None else _pattern_ops(rule.pattern)
        ops += list(rule.ops or ())
        bad = [op for op in ops if not _is_op_reference(op)]
        assert not bad, f"rule {name!r} names ops that are no op classes or instances: {bad}"
        keys = rule.keys()
        assert keys is None or keys, f"rule {name!r} can match no node"
        for k in keys or ():
            cls = k[1] if isinstance(k, tuple) else k
            assert isinstance(cls, type), f"rule {name!r} is indexed under {k!r}"


def test_standard_rules_come_from_the_modules_the_pipeline_imports() -> None:
    # A rule module the pipeline does not import would never register its rules.
    assert sorted(m.__name__ for m in pipeline.RULE_MODULES) == RULE_MODULES
    modules = {getattr(get_rule(n).fn, "__module__", "") for n in list_rules()}
    assert set(RULE_MODULES) <= modules


def test_no_op_lookup_by_name_in_the_rewrite_package() -> None:
    root = Path(gnomon.rewrite.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        for needle in ("importlib", "import_module", "LazyOp", "find_scalar_class"):
            assert needle not in text, f"{path.relative_to(root)} uses {needle}"


@pytest.mark.parametrize("module", [*RULE_MODULES, "gnomon.rewrite", "gnomon.rewrite.pipeline",
                                    "gnomon.gradient"])
def test_module_imports_cleanly_first(module: str) -> None:
    # In a fresh interpreter, importing the module first (before anything else of gnomon is
    # imported explicitly) works and registers the standard rules.
    code = (f"import {module}\n"
            "from gnomon.rewrite import list_rules\n"
            "assert {'neg_neg', 'softplus_from_log1p_exp', 'sum_mul_to_dot', 'elemwise_fusion'}"
            " <= set(list_rules())\n")
    proc = subprocess.run([sys.executable, "-W", "error::ImportWarning", "-c", code],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
