"""Prompt-set importers: small fixtures in the real formats, and the real files when ../shared is there."""
from __future__ import annotations

import json

import pytest

from harness.errors import ConfigError
from harness.suites.captions import load_captions
from helpers import SHARED_CAPTIONS

PARTI = "Prompt\tCategory\tChallenge\tNote\n" \
        "a cat on a mat\tAnimals\tBasic\t\n" \
        "a red bus\tVehicles\tSimple Detail\tcolour\n" \
        "\"quoted\" words here\tArts\tBasic\tnote\n" \
        "a dog\tAnimals\tFine-grained Detail\t\n"


def test_parti_fixture(tmp_path):
    path = tmp_path / "parti.tsv"
    path.write_text(PARTI)
    caps = load_captions(path)
    assert [c.text for c in caps] == ["a cat on a mat", "a red bus", "\"quoted\" words here", "a dog"]
    assert caps[1].category == "Vehicles" and caps[1].tags == ("Vehicles", "Simple Detail")
    assert [c.text for c in load_captions(path, category=["animals"])] == ["a cat on a mat", "a dog"]
    assert [c.text for c in load_captions(path, tag=["Basic"])] == ["a cat on a mat", "\"quoted\" words here"]
    a = load_captions(path, sample=2, seed=1)
    assert len(a) == 2 and a == load_captions(path, sample=2, seed=1)
    assert len({c.id for c in caps}) == 4


def test_geneval_fixture(tmp_path):
    path = tmp_path / "meta.jsonl"
    rows = [{"tag": "single_object", "include": [{"class": "cow", "count": 1}], "prompt": "a photo of a cow"},
            {"tag": "counting", "include": [{"class": "cat", "count": 2}], "prompt": "a photo of two cats"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    caps = load_captions(path)
    assert [c.text for c in caps] == ["a photo of a cow", "a photo of two cats"]
    assert [c.text for c in load_captions(path, tag=["counting"])] == ["a photo of two cats"]
    path.write_text("{not json\n")
    with pytest.raises(ConfigError, match="line 1 is not JSON"):
        load_captions(path)


def test_text_fixture(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("a cat\n\n  a dog  \n")
    assert [c.text for c in load_captions(path)] == ["a cat", "a dog"]
    with pytest.raises(ConfigError, match="must be one of yaml, parti, geneval, text or an importer plugin"):
        load_captions(path, fmt="csv")


def test_bad_parti_header(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("Text\tKind\nfoo\tbar\n")
    with pytest.raises(ConfigError, match="missing columns"):
        load_captions(path)


needs_shared = pytest.mark.skipif(not SHARED_CAPTIONS.is_dir(), reason="../shared/data/captions is not present")


@needs_shared
def test_real_partiprompts():
    path = SHARED_CAPTIONS / "PartiPrompts.tsv"
    caps = load_captions(path)
    assert len(caps) == 1632
    assert len({c.category for c in caps}) == 12
    assert len(load_captions(path, category=["Animals"])) == 314
    assert len(load_captions(path, category=["Animals"], tag=["Basic"])) == sum(
        1 for c in caps if c.category == "Animals" and "Basic" in c.tags)
    assert len(load_captions(path, tag=["Fine-grained Detail"])) == 312
    sample = load_captions(path, category=["Vehicles"], sample=10, seed=0)
    assert len(sample) == 10 and all(c.category == "Vehicles" for c in sample)


@needs_shared
def test_real_geneval_and_text():
    meta = load_captions(SHARED_CAPTIONS / "geneval_evaluation_metadata.jsonl")
    assert len(meta) == 553
    assert len(load_captions(SHARED_CAPTIONS / "geneval_evaluation_metadata.jsonl", tag=["position"])) == 100
    assert len(load_captions(SHARED_CAPTIONS / "geneval_evaluation_metadata.jsonl", category=["counting"])) == 80
    text = load_captions(SHARED_CAPTIONS / "geneval_generation_prompts.txt")
    assert len(text) == 553 and [c.text for c in text] == [c.text for c in meta]
    comp = load_captions(SHARED_CAPTIONS / "t2i_compbench" / "color_val.txt")
    assert comp and comp[0].text == "a green bench and a blue bowl"
