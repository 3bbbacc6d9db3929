"""The README run as written: the "Using a trained model" section's `$ python ...` commands and
Python example, with their outputs compared to the ones it shows, and the Results and Speed tables
against what those sections' report.py and benchmark.py commands print."""
import glob
import math
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

NUMBER = re.compile(r"(-?\d+\.\d+)")


def section(title):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def documented_commands(text):
    """(command, expected output lines) for each indented `$ python ...` block, in order."""
    commands = []
    for block in re.findall(r"(?:^    .*\n)+", text, flags=re.MULTILINE):
        lines = [line[4:] for line in block.splitlines()]
        if lines[0].startswith("$ python "):
            assert len(lines) > 1, f"{lines[0]}: the README shows no output to check"
            commands.append((lines[0][2:], lines[1:]))
    return commands


def documented_command(text, start):
    """The indented command that begins with start, its backslash-continued lines joined."""
    match = re.search(rf"^    ({re.escape(start)}(?:.*\\\n)*.*)$", text, flags=re.MULTILINE)
    assert match, f"no command beginning {start!r}"
    return match.group(1).replace("\\\n", " ")


def documented_python(text):
    """The fenced Python example and the output its last comment line shows."""
    code = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL).group(1)
    expected = code.rstrip().splitlines()[-1]
    assert expected.startswith("# "), "the example should end in a comment that shows its output"
    return code, [expected[2:]]


def same_output(got, expected):
    """Equal text, with decimal numbers equal to 1% (the CPU changes the last digits)."""
    got_parts, expected_parts = NUMBER.split(got), NUMBER.split(expected)
    if len(got_parts) != len(expected_parts):
        return False
    for i, (a, b) in enumerate(zip(got_parts, expected_parts)):
        numbers = i % 2 == 1
        if numbers and not math.isclose(float(a), float(b), rel_tol=0.01, abs_tol=1e-3):
            return False
        if not numbers and a.split() != b.split():
            return False
    return True


def run(args, cwd):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_same_output_compares_text_exactly_and_numbers_to_one_percent():
    assert same_output("ppl     12.0  words  15  the town", "ppl 12.05 words 15 the town")
    assert not same_output("ppl 12.5 words 15 the town", "ppl 12.0 words 15 the town")
    assert not same_output("ppl 12.0 words 15 the city", "ppl 12.0 words 15 the town")
    assert not same_output("ppl 12.0 words 16 the town", "ppl 12.0 words 15 the town")


def test_the_sections_commands_give_the_outputs_it_shows(tmp_path):
    text = section("Using a trained model")
    commands = documented_commands(text)
    assert [command.split()[1] for command, _ in commands] == [
        "ptb_word_lm.py", "score.py", "generate.py", "generate.py", "export.py"]
    (tmp_path / "data").symlink_to(ROOT / "data")  # the commands' relative paths, outside the checkout
    for command, expected in commands:
        _, program, *args = shlex.split(command)
        got = run([sys.executable, str(ROOT / program), *args], tmp_path)
        tail = got[-len(expected):]
        assert len(tail) == len(expected) and all(map(same_output, tail, expected)), \
            f"$ {command}\nREADME:\n" + "\n".join(expected) + "\ngot:\n" + "\n".join(tail)

    code, expected = documented_python(text)
    (tmp_path / "example.py").write_text(code)
    got = run([sys.executable, "example.py"], tmp_path)
    assert same_output(got[-1], expected[0]), f"README: {expected[0]}\ngot: {got[-1]}"


@pytest.mark.parametrize("title, start", [("Results", "python report.py "),
                                          ("Speed", "python benchmark.py --table=")])
def test_the_tables_are_what_the_section_command_prints(title, start):
    text = section(title)
    _, program, *args = shlex.split(documented_command(text, start))
    args = [path for arg in args for path in sorted(glob.glob(arg, root_dir=ROOT)) or [arg]]
    printed = "\n".join(run([sys.executable, str(ROOT / program), *args], ROOT)).strip()
    assert printed and printed in text, (
        f"the {title} section's tables are not what its command `{start}...` prints now: "
        "run it and put its output in their place")
