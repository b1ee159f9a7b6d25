"""docs/training.md's ``ganfill`` commands, the record of how each shipped file was made, are ones
the command line takes: every option they give exists and parses."""

from __future__ import annotations

import re
import shlex

from conftest import REPO

from ganfill.cli import build_parser


def training_commands() -> list[list[str]]:
    text = (REPO / "docs" / "training.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and "=" in words[0]:        # VAR=value before the command
                words.pop(0)
            if words[:1] == ["ganfill"]:
                commands.append(words[1:])
    return commands


def test_the_training_docs_commands_parse():
    commands = training_commands()
    kinds = {argv[0] for argv in commands}
    assert {"train-refiner", "train-photo-refiner", "export"} <= kinds, kinds
    parser = build_parser()
    for argv in commands:
        args = parser.parse_args(argv)      # an unknown option or a bad value exits here
        assert args.func is not None, argv
