"""The map of the house (docs/architecture.md) is the code's: scripts/house_map.py reads the imports
and sizes, fails on a cycle or a broken size rule, and the doc holds exactly what it prints."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "house_map.py"


def house_map(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_house_keeps_its_rules_no_cycle_no_deep_floors_no_long_module_or_function():
    done = house_map("--check")
    assert done.returncode == 0, done.stderr


def test_docs_architecture_shows_the_figures_the_script_prints():
    printed = house_map().stdout.strip()
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert printed.startswith("<!-- house_map: begin -->") and printed.endswith("<!-- house_map: end -->")
    assert printed in doc, "docs/architecture.md is out of date: paste the output of `python scripts/house_map.py` between its markers"
    # One block only: merges that each pasted the block left stale copies of the markers behind.
    assert doc.count("<!-- house_map: begin -->") == 1 and doc.count("<!-- house_map: end -->") == 1, "docs/architecture.md has more than one map block"


def test_a_cycle_a_deep_chain_and_a_long_function_are_caught(tmp_path):
    """The checks themselves notice: a planted cycle (lazy), and a function past the limit."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import house_map as mapper
    finally:
        sys.path.remove(str(SCRIPT.parent))
    package = tmp_path / "summarize"
    (package / "runs").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text("from summarize import runs\n")
    (package / "runs" / "__init__.py").write_text("")
    (package / "runs" / "a.py").write_text("def f():\n    from summarize.runs import b\n")
    (package / "runs" / "b.py").write_text("from summarize.runs.a import f\n\n\ndef g():\n" + "    x = 1\n" * 60)
    facts = mapper.figures(mapper.read_house(tmp_path))
    rules = mapper.broken_rules(facts)
    assert facts["cycles"] == [["summarize.runs.a", "summarize.runs.b"]]
    assert any("import cycle" in rule for rule in rules)
    assert any(rule.startswith("runs.b.g: 61 lines") for rule in rules), rules
