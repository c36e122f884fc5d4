"""The README stays a page a user can scan: short, in short paragraphs, its links pointing at real files."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def paragraphs(text: str) -> list[list[str]]:
    """Runs of prose lines (code blocks and tables left out)."""
    found, current, in_code = [], [], False
    for line in [*text.splitlines(), ""]:
        if line.startswith("```"):
            in_code, current = not in_code, []
        elif in_code or line.startswith("|") or not line.strip():
            if current:
                found.append(current)
            current = []
        else:
            current.append(line)
    return found


def test_the_readme_is_short_in_short_paragraphs() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 220
    assert max(len(paragraph) for paragraph in paragraphs(text)) <= 6


def test_the_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README.read_text(), re.S)
    assert blocks[:2] == [
        "python3 install/install.py && ~/.local/bin/reverie start"
        " && ~/.local/bin/reverie dream samples/astronaut.jpg -o dream.png",
        "bash tests/run.sh",
    ]


def test_the_readme_links_to_files_that_exist() -> None:
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README.read_text()):
        assert (README.parent / target).exists(), target
