"""The training commands' command line: its defaults are the training code's (what ships), it
stays out of the way of the other commands, and docs/training.md's commands are ones it takes."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

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


def test_train_gan_defaults_to_the_shipped_lsgan_and_the_loop_to_loopconfig():
    from ganfill.models.io import config_to_dict, load_tensors
    from ganfill.train.gan import gan_config
    from ganfill.train.loop import LoopConfig
    from ganfill.weights import GAN_WEIGHTS

    args = build_parser().parse_args(["train-gan", "--out", "run"])
    shipped = load_tensors(GAN_WEIGHTS)[1]["config"]
    preset = config_to_dict(gan_config(args.config))
    for net in ("generator", "discriminator"):
        assert {k: preset[net][k] for k in shipped[net]} == shipped[net], net
    loop = LoopConfig()
    assert (args.batch_size, args.seed, args.checkpoint_minutes, args.max_steps) == (
        loop.batch_size, loop.seed, loop.checkpoint_minutes, loop.max_steps)


def test_the_parser_imports_torch_only_for_a_training_command(subprocess_env):
    code = ("import sys\nfrom ganfill.cli import build_parser\n"
            "parser = build_parser()\nparser.format_help()\nparser.parse_args(['methods'])\n"
            "assert 'torch' not in sys.modules, 'the parser imported torch'\n"
            "parser.parse_args(['train-photo-refiner', '--out', 'run'])\n"
            "assert 'torch' in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
