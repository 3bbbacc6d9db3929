"""The README and docs/ run as written: the README's "Using a trained model" commands and the export's
Python example in docs/usage.md, with their outputs compared to the ones they show; every table of
the README and docs/ against what the report.py or benchmark.py command of its section prints; the
learning-curve picture against its command; every link against the file and heading it names."""
import glob
import math
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT, png_size, run_in_process

NUMBER = re.compile(r"(-?\d+\.\d+)")


PAGES = ["README.md", "docs/reproducing.md", "docs/speed.md"]
PLOT = "python report.py --plot="


def section(title, page="README.md"):
    text = (ROOT / page).read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def sections(page):
    """The page cut before each `## ` heading."""
    return re.split(r"\n(?=## )", (ROOT / page).read_text())


def table_commands():
    """pytest params (page, command, its section) for each report.py or benchmark.py --table command
    that the pages show."""
    return [pytest.param(page, command, text, id=f"{page}: {command}")
            for page in PAGES for text in sections(page)
            for start in ("python report.py ", "python benchmark.py --table=")
            for command in documented_commands_beginning(text, start) if not command.startswith(PLOT)]


def documented_commands(text):
    """(command, expected output lines) for each indented `$ python ...` block, in order."""
    commands = []
    for block in re.findall(r"(?:^    .*\n)+", text, flags=re.MULTILINE):
        lines = [line[4:] for line in block.splitlines()]
        if lines[0].startswith("$ python "):
            assert len(lines) > 1, f"{lines[0]}: the README shows no output to check"
            commands.append((lines[0][2:], lines[1:]))
    return commands


def documented_commands_beginning(text, start):
    """Each indented command that begins with start, its backslash-continued lines joined."""
    return [command.replace("\\\n", " ")
            for command in re.findall(rf"^    ({re.escape(start)}(?:.*\\\n)*.*)$", text, flags=re.MULTILINE)]


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


def output_lines(result):
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def run(args, cwd):
    return output_lines(subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600))


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
        got = output_lines(run_in_process(*args, cwd=tmp_path, program=program))
        tail = got[-len(expected):]
        assert len(tail) == len(expected) and all(map(same_output, tail, expected)), \
            f"$ {command}\nREADME:\n" + "\n".join(expected) + "\ngot:\n" + "\n".join(tail)

    code, expected = documented_python(section("Export", "docs/usage.md"))
    (tmp_path / "example.py").write_text(code)
    got = run([sys.executable, "example.py"], tmp_path)
    assert same_output(got[-1], expected[0]), f"docs/usage.md: {expected[0]}\ngot: {got[-1]}"


def run_documented(command, cwd):
    """Run a documented `python PROGRAM ARGS` line, its globs expanded in the checkout."""
    _, program, *args = shlex.split(command)
    args = [path for arg in args for path in sorted(glob.glob(arg, root_dir=ROOT)) or [arg]]
    return run([sys.executable, str(ROOT / program), *args], cwd)


def test_each_page_shows_the_commands_of_its_tables():
    shown = [param.values[:2] for param in table_commands()]
    assert {page for page, _ in shown} == set(PAGES)
    assert ("README.md", "python report.py --table1 results/") in shown


@pytest.mark.parametrize("page, command, text", table_commands())
def test_the_tables_are_what_the_sections_command_prints(page, command, text):
    printed = "\n".join(run_documented(command, ROOT)).strip()
    assert printed and printed in text, (
        f"{page}: the tables of the section showing `{command}` are not what it prints now: "
        "run it and put its output in their place")


def test_the_readme_shows_the_picture_its_command_draws(tmp_path):
    readme = (ROOT / "README.md").read_text()
    [command] = documented_commands_beginning(readme, PLOT)
    picture = command.split()[2].removeprefix("--plot=")
    assert f"]({picture})" in readme
    run_documented(command.replace(f"--plot={picture}", f"--plot={tmp_path / 'curves.png'}"), ROOT)
    assert png_size(tmp_path / "curves.png") == png_size(ROOT / picture) == (800, 500)


def anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", ["README.md", *sorted(f"docs/{p.name}" for p in ROOT.glob("docs/*.md"))])
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    text = (ROOT / page).read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target:
            continue
        path, _, fragment = target.partition("#")
        linked = (ROOT / page).parent / path if path else ROOT / page
        if not linked.exists():
            broken.append(target)
        elif fragment and fragment not in map(anchor, re.findall(r"^#+ (.*)$", linked.read_text(), re.MULTILINE)):
            broken.append(target)
    assert not broken, f"{page}: links to no file or heading: {broken}"


def test_anchor_is_githubs_heading_id():
    assert anchor("Runs stopped or lost, and why") == "runs-stopped-or-lost-and-why"
    assert anchor("oneDNN or Eigen") == "onednn-or-eigen"
    assert anchor("Word costs: what an average needs") == "word-costs-what-an-average-needs"


def test_the_readme_is_read_in_five_minutes():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
