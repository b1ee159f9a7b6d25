"""A licence for the code and a model card for the weights, linked from the README."""

from __future__ import annotations

import tomllib

from conftest import REPO


def test_the_licence_file_is_the_one_pyproject_declares():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    licence = (REPO / "LICENSE").read_text()
    # the SPDX string form: the older table form makes setuptools print a deprecation banner
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert licence.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in licence


def test_the_model_card_covers_the_weights_and_is_linked_from_the_readme():
    card = (REPO / "MODEL_CARD.md").read_text()
    shipped = sorted(p.name for p in (REPO / "src" / "ganfill" / "weights").glob("*.safetensors"))
    assert shipped and all(name in card for name in shipped), "every shipped weights file is described"
    for fact in ("CelebA", "non-commercial research only", "frontal", "age", "skin tone", "Where fills fail"):
        assert fact in card, fact
    readme = (REPO / "README.md").read_text()
    assert "(MODEL_CARD.md)" in readme and "(LICENSE)" in readme
