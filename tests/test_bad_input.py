"""Bad input as a user types it, through the installed `harness` console script: each case is one
line on stderr, exit code 2, no traceback, answered in seconds, and nothing written (a finished
run directory stays byte-for-byte the same). The cases that need no model are also answered
without importing torch."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from helpers import REPO, make_suite, tree_digest

from helpers import answers_in_one_process, console_script  # noqa: E402

HARNESS = console_script()  # beside sys.executable: an un-activated venv/bin/python -m pytest finds it
SMALL = {"search.population": 4, "search.offspring": 4, "search.generations": 2}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A finished run directory, a suite that made it, and files for the cases to point at."""
    from harness.cli.main import main

    root = tmp_path_factory.mktemp("bad")
    suite = make_suite(root / "suite", caption_list=[{"id": "cat", "caption": "a cat on a table."}],
                       methods=["clip_single"], overrides=SMALL)
    run = root / "run"
    assert main(["run", str(suite), "--out", str(run)]) == 0
    search_dir = root / "search"
    assert main(["search", "a cat", "--models", "tiny", "--out", str(search_dir), "--method", "clip_single",
                 *sum((["--set", f"{k}={v}"] for k, v in SMALL.items()), [])]) == 0
    photos = root / "photos"
    shutil.copytree(REPO / "harness" / "probe" / "photos", photos)
    assert main(["reference", "build", str(photos), "--features", "clip", "--models", "tiny",
                 "--out", str(root / "clip.npz")]) == 0
    return root, suite, run, search_dir


def suite_with(root, folder, captions=None, captions_file=None, fmt=None, **fields):
    """A suite in root/folder; `captions` as YAML text, or `captions_file` (name, bytes) in another format."""
    folder = root / folder
    if captions_file is not None:
        name, data = captions_file
        make_suite(folder, **fields)
        (folder / name).write_bytes(data)
        spec = yaml.safe_load((folder / "suite.yaml").read_text())
        spec["captions"] = {"file": name, **({"format": fmt} if fmt else {})}
        (folder / "suite.yaml").write_text(yaml.safe_dump(spec))
        return folder
    return make_suite(folder, caption_list=captions, **fields)


def cases(world):
    """(name, argv, part of the message, needs models) for every bad input."""
    root, suite, run, search_dir = world
    out = root / "fresh"  # must not exist afterwards
    bad_yaml = make_suite(root / "bad_yaml")
    (bad_yaml / "suite.yaml").write_text("name: [unclosed\n")
    no_yaml = root / "no_yaml"
    no_yaml.mkdir(exist_ok=True)
    plain = root / "plain.txt"
    plain.write_text("x")
    r = lambda folder, **kw: suite_with(root, folder, **kw)  # noqa: E731
    parti_header = b"Prompt\tCategory\tChallenge\tNote\n"
    paper = root / "paper"  # a folder of the user's: nothing in it may be overwritten
    paper.mkdir(exist_ok=True)
    (paper / "report.md").write_text("draft\n")
    not_utf8 = make_suite(root / "not_utf8")
    (not_utf8 / "suite.yaml").write_bytes("name: mini\ndescription: caf\xe9\ncaptions: captions.yaml\n".encode("latin-1"))
    twice = make_suite(root / "twice")
    (twice / "suite.yaml").write_text((twice / "suite.yaml").read_text() + "name: again\n")
    def copy_of(name):
        shutil.rmtree(root / name, ignore_errors=True)
        return shutil.copytree(run, root / name, ignore=shutil.ignore_patterns(".lock"))

    torn = copy_of("torn")  # a finished run whose files were cut short
    for name in ("archive.parquet", "metrics.json"):
        (torn / name).write_bytes((torn / name).read_bytes()[:100])
    torn_metrics = copy_of("torn_metrics")
    (torn_metrics / "metrics.json").write_text('{"methods": {"four_objective": ')
    import numpy as np

    np.savez(root / "user.npz", weights=np.zeros(3))  # somebody's own .npz
    torn_png = copy_of("torn_png")
    png = sorted(torn_png.rglob("population/0001.png"))[0]
    png.write_bytes(png.read_bytes()[:60])
    (torn_png / "cache").exists() and shutil.rmtree(torn_png / "cache")
    photos_torn = root / "photos_torn"
    shutil.rmtree(photos_torn, ignore_errors=True)
    shutil.copytree(REPO / "harness" / "probe" / "photos", photos_torn)
    (photos_torn / "coffee.jpg").write_bytes((photos_torn / "coffee.jpg").read_bytes()[:200])
    a_file = root / "a_file"
    a_file.write_text("not a cache folder")
    multistep = REPO / "suites" / "smoke_multistep"
    evo_base = (REPO / "baselines" / "evo_trajectory.yaml").read_text()

    def evo(name, line):  # a copy of evo_trajectory with one line changed
        key = line.split(":", 1)[0]
        text = "\n".join(line if row.startswith(key + ":") else row for row in evo_base.splitlines()) + "\n"
        (root / f"{name}.yaml").write_text(text)
        return root / f"{name}.yaml"

    for name in ("folder_yaml", "loop_yaml", "folder_captions", "fifo_captions", "manifest_only", "bomb_description",
                 "big_captions"):
        shutil.rmtree(root / name, ignore_errors=True)  # cases() is called once per test on the same world
    kinds = {name: make_suite(root / name) for name in ("folder_yaml", "loop_yaml", "folder_captions", "fifo_captions")}
    (kinds["folder_yaml"] / "suite.yaml").unlink()
    (kinds["folder_yaml"] / "suite.yaml").mkdir()
    (kinds["loop_yaml"] / "suite.yaml").unlink()
    (kinds["loop_yaml"] / "suite.yaml").symlink_to("suite.yaml")
    (kinds["folder_captions"] / "captions.yaml").unlink()
    (kinds["folder_captions"] / "captions.yaml").mkdir()
    (kinds["fifo_captions"] / "captions.yaml").unlink()
    os.mkfifo(kinds["fifo_captions"] / "captions.yaml")
    lols = "[" + ", ".join(["lol"] * 9) + "]"
    chain = lambda key: "".join(f"  {key}{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"  # noqa: E731
                                for i in range(1, 10))
    kinds["bomb_tags"] = r("bomb_tags", captions="- {id: c0, caption: a cat., tags: &a0 " + lols + "}\n" + "".join(
        f"- {{id: c{i}, caption: a dog., tags: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]}\n" for i in range(1, 10)))
    kinds["bomb_description"] = make_suite(root / "bomb_description")
    text = (kinds["bomb_description"] / "suite.yaml").read_text()
    (kinds["bomb_description"] / "suite.yaml").write_text(
        "x-lols:\n  a0: &a0 " + lols + "\n" + chain("a") + "description: *a9\n" + text.replace("description:", "# "))
    kinds["big_captions"] = make_suite(root / "big_captions")
    (kinds["big_captions"] / "captions.yaml").write_text("- {id: cat, caption: a cat is lay on the table.}\n"
                                                          + "# padding\n" * (17 * 2 ** 20 // 10))
    kinds["long_caption"] = r("long_caption", captions="- {id: long, caption: " + "a" * 100_001 + "}\n")
    kinds["manifest_only"] = root / "manifest_only"
    kinds["manifest_only"].mkdir(exist_ok=True)
    shutil.copy(run / "manifest.json", kinds["manifest_only"] / "manifest.json")
    sg2_dir = root / "sg2_dir"
    sg2_dir.mkdir(exist_ok=True)
    long_id = "c" * 300
    csv_format = r("csv", captions_file=("c.txt", b"a cat\n"), fmt="csv")
    return [
        # nothing the harness did not write is overwritten (user data)
        ("run into a folder of the user's", ["run", suite, "--out", paper], "holds 'report.md', which harness run did "
         "not write", False),
        ("empty --out to run", ["run", suite, "--out", ""], "--out is empty", False),
        ("empty --out to search", ["search", "a cat", "--models", "tiny", "--out", ""], "--out is empty", False),
        ("compare into a folder of the user's", ["compare", run, torn, "--out", paper], "which harness compare did not",
         False),
        ("ablate into a folder of the user's", ["ablate", suite, "--set", "search.generations=2,3", "--out", paper],
         "which harness ablate did not", False),
        ("reference over a file of the user's", ["reference", "build", no_yaml, "--features", "tiny", "--out",
                                                 paper / "report.md"], "must end in .npz", False),
        ("reference over an .npz of the user's", ["reference", "build", no_yaml, "--features", "tiny", "--out",
                                                  root / "user.npz"], "is not a file harness reference build wrote",
         False),
        # files read defensively
        ("suite.yaml not UTF-8", ["run", not_utf8, "--out", out], "not UTF-8", False),
        ("duplicate key in suite.yaml", ["run", twice, "--out", out], "duplicate key 'name'", False),
        ("torn archive to report", ["report", torn], "archive.parquet is not a readable Parquet file", False),
        ("torn archive to compare", ["compare", run, torn, "--out", out], "is not a readable Parquet file", False),
        ("garbage metrics.json to power", ["power", torn], "metrics.json is not readable JSON", False),
        ("garbage metrics.json to report", ["report", torn_metrics], "metrics.json is not readable JSON", False),
        # inputs checked before compute, the limit in the message
        ("caption id of 300 characters", ["run", r("lid", captions=f"- {{id: {long_id}, caption: a cat}}\n"),
                                          "--out", out], "at most 100", False),
        ("threads past the cores", ["run", suite, "--out", out, "--set", "threads=100000"], "threads' must be in 1..",
         False),
        ("a prompt with two fields", ["run", suite, "--out", out, "--set", "critics.region_word.prompt={} and {}"],
         "exactly one '{}'", False),
        ("a prompt with a named field", ["run", suite, "--out", out, "--set", "critics.region_word.prompt=a {x}"],
         "exactly one '{}'", False),
        ("a prompt with a lone brace", ["run", suite, "--out", out, "--set", "critics.region_word.prompt=a { {}"],
         "exactly one '{}'", False),
        ("an infinite temperature", ["run", suite, "--out", out, "--set", "critics.image_real.temperature=.inf"],
         "must be a finite number", False),
        ("search={} resets nothing", ["run", suite, "--out", out, "--set", "search={}"], "empty mapping", False),
        ("negative tolerance", ["regress", run, "--tolerance", "text_image=-1"], "a finite number >= 0", False),
        ("a captions source of an unknown format", ["run", csv_format, "--out", out],
         "'captions.format' must be one of", False),
        ("power of a run without a comparison", ["power", run], "no evolutionary method with a control", False),
        ("power: a negative effect", ["power", run, "--effect", "-1"], "positive, finite number", False),
        # usage
        ("unknown command", ["bogus"], "No such command 'bogus'", False),
        ("missing argument", ["run"], "Missing argument", False),
        ("unknown option", ["run", suite, "--bogus"], "No such option: --bogus", False),
        ("--limit not a number", ["run", suite, "--limit", "abc"], "Invalid value for '--limit'", False),
        ("--limit without a value", ["run", suite, "--limit"], "requires an argument", False),
        ("--workers not a number", ["run", suite, "--workers", "x"], "Invalid value for '--workers'", False),
        ("report without a run", ["report"], "Missing argument", False),
        ("search without a caption", ["search"], "Missing argument", False),
        ("unknown profile to models", ["models", "check", "huge"], "unknown model profile 'huge'", False),
        ("unknown config section", ["config", "nosuch"], "no key starts with 'nosuch'", False),
        # suites and caption files
        ("missing suite folder", ["run", root / "nowhere", "--out", out], "suite folder not found", False),
        ("folder without suite.yaml", ["run", no_yaml, "--out", out], "no suite.yaml", False),
        ("malformed yaml", ["run", bad_yaml, "--out", out], "malformed YAML", False),
        ("unknown suite key", ["run", r("k", colour="red"), "--out", out], "unknown key 'colour'", False),
        ("unknown method in suite", ["run", r("m", methods=["magic"]), "--out", out], "unknown method 'magic'", False),
        ("unknown profile in suite", ["run", r("p", models="huge"), "--out", out], "profile", False),
        ("suite name with a slash", ["run", r("sn", name="a/b"), "--out", out], "field 'name'", False),
        ("escape in description", ["run", r("de", description="x\x1b[31m"), "--out", out], "U+001B", False),
        ("empty captions file", ["run", r("e", captions=""), "--out", out], "no captions", False),
        ("blank caption", ["run", r("b", captions="- {id: a, caption: '  '}\n"), "--out", out], "'a' is empty", False),
        ("caption left empty", ["run", r("n", captions="- {id: a, caption: }\n"), "--out", out], "'a' is empty",
         False),
        ("caption a list", ["run", r("l", captions="- {id: a, caption: [x, y]}\n"), "--out", out],
         "must be text, got a list", False),
        ("caption a number", ["run", r("num", captions="- {id: a, caption: 42}\n"), "--out", out],
         "must be text, got a number", False),
        ("NUL in a caption", ["run", r("nul", captions='- {id: a, caption: "cat\\0dog"}\n'), "--out", out],
         "U+0000", False),
        ("terminal escape in a caption", ["run", r("esc", captions='- {id: a, caption: "cat \\e[31mred"}\n'),
                                          "--out", out], "U+001B", False),
        ("duplicate caption ids", ["run", r("d", captions="- {id: a, caption: a cat}\n- {id: a, caption: a dog}\n"),
                                   "--out", out], "duplicate caption id 'a'", False),
        ("caption id '..'", ["run", r("dots", captions="- {id: '..', caption: a cat}\n"), "--out", out],
         "must start with a letter or digit", False),
        ("caption without words", ["run", r("nw", captions="- {id: a, caption: '...'}\n"), "--out", out],
         "has no words", False),
        ("requires a class the detector does not know",
         ["run", r("rq1", captions="- {id: a, caption: a cat, requires: {include: [{class: unicorn}]}}\n"), "--out", out],
         "class 'unicorn' is not a class the detector knows", False),
        ("requires a count that is not positive",
         ["run", r("rq2", captions="- {id: a, caption: a cat, requires: {include: [{class: cat, count: 0}]}}\n"),
          "--out", out], "count 0 must be a whole number >= 1", False),
        ("requires an unknown position",
         ["run", r("rq3", captions="- {id: a, caption: a cat and a dog, requires: {include: [{class: cat}, "
                                   "{class: dog, position: [behind, 0]}]}}\n"), "--out", out],
         "must be [RELATION, INDEX] with RELATION one of left of", False),
        ("missing captions file", ["run", make_suite(root / "mc", captions="absent.yaml"), "--out", out],
         "captions file not found", False),
        ("captions not UTF-8", ["run", r("u8", captions_file=("c.txt", b"a cat\n\xff\xfe\n")), "--out", out],
         "not UTF-8", False),
        ("parti line missing columns", ["run", r("pt", captions_file=("p.tsv", parti_header + b"a cat\n")),
                                        "--out", out], "line 2", False),
        ("geneval line not an object", ["run", r("g1", captions_file=("g.jsonl", b'[1, 2]\n')), "--out", out],
         "line 1 is a list", False),
        ("geneval prompt a number", ["run", r("g2", captions_file=("g.jsonl", b'{"prompt": 7}\n')), "--out", out],
         "'prompt' must be text", False),
        ("geneval line not JSON", ["run", r("g3", captions_file=("g.jsonl", b'{"prompt": \n')), "--out", out],
         "line 1 is not JSON", False),
        ("text line with NUL", ["run", r("tx", captions_file=("t.txt", b"a cat\na d\x00og\n")), "--out", out],
         "'line-0002' contains the control character U+0000", False),
        # options
        ("negative seed", ["run", suite, "--out", out, "--seeds", "-1"], "seed -1 must be", False),
        ("seed over 2^32-1", ["run", suite, "--out", out, "--seeds", "4294967296"], "seed 4294967296 must be", False),
        ("repeated seed", ["run", suite, "--out", out, "--seeds", "1,1"], "seed 1 is repeated", False),
        ("seed not a number", ["run", suite, "--out", out, "--seeds", "0,one"], "seeds must be whole numbers", False),
        ("repeated method", ["run", suite, "--out", out, "--methods", "clip_single,clip_single"], "is repeated",
         False),
        ("unknown --methods", ["run", suite, "--out", out, "--methods", "nope"], "unknown method 'nope'", False),
        ("--limit 0", ["run", suite, "--out", out, "--limit", "0"], "--limit 0", False),
        ("unknown --set key", ["run", suite, "--out", out, "--set", "search.pop=3"], "unknown key 'search.pop'", False),
        ("bad --set value", ["run", suite, "--out", out, "--set", "search.population=many"], "must be an integer",
         False),
        ("--set without =", ["run", suite, "--out", out, "--set", "novalue"], "expected key=value", False),
        ("device name", ["run", suite, "--out", out, "--device", "gpu0"], "device", False),
        ("unknown executor", ["run", suite, "--out", out, "--executor", "slurm"], "--executor 'slurm'", False),
        ("unknown judge", ["run", suite, "--out", out, "--set", "metrics.evaluators=[imagereward]"],
         "no judge 'imagereward'", True),
        ("a judge named twice", ["run", suite, "--out", out, "--set", "metrics.evaluators=[hpsv2, hpsv2]"],
         "names a judge twice", False),
        ("unknown class genome", ["run", suite, "--out", out, "--set", "generator.class_genome=onehot"],
         "must be softmax, sparse or embedding", False),
        ("no active classes", ["run", suite, "--out", out, "--set", "generator.active_classes=0"], "active_classes",
         False),
        ("unknown pick policy to report", ["report", run, "--pick", "best"], "unknown pick policy 'best'", False),
        ("negative --caption-figures to report", ["report", run, "--caption-figures", "-1"],
         "Invalid value for '--caption-figures'", False),
        ("--pick on a run without stored picks", ["report", REPO / "reports" / "reference" / "smoke", "--pick", "knee"],
         "no stored 'knee' pick", False),
        ("search: empty caption", ["search", "  ", "--models", "tiny", "--out", out], "caption is empty", False),
        ("search: escape in caption", ["search", "a \x1b[2Jcat", "--models", "tiny", "--out", out], "U+001B", False),
        ("search: negative seed", ["search", "a cat", "--models", "tiny", "--seed", "-3", "--out", out],
         "seed -3 must be", False),
        ("search: unknown method", ["search", "a cat", "--method", "nope", "--models", "tiny", "--out", out],
         "unknown method 'nope'", False),
        # run directories
        ("another suite into a run", ["run", r("other", name="other", methods=["clip_single"], overrides=SMALL),
                                      "--out", run], "holds suite 'mini' version 1", False),
        ("reworded caption into a run", ["run", r("rw", captions="- {id: cat, caption: a dog on a sofa.}\n",
                                                  methods=["clip_single"], overrides=SMALL), "--out", run],
         "caption 'cat' now reads", False),
        ("other settings into a run", ["run", suite, "--out", run, "--set", "search.generations=5"],
         "config section 'search' differs", False),
        ("a run into a search output", ["run", suite, "--out", search_dir], "output of harness search", False),
        ("a run another profile wrote", ["run", suite, "--out", run, "--models", "default"],
         "holds a run made with --models tiny", False),
        ("search into a run directory", ["search", "a cat", "--models", "tiny", "--out", run], "is a run directory",
         False),
        ("report of a missing folder", ["report", root / "nowhere"], "no such folder", False),
        ("report of a plain folder", ["report", no_yaml], "no manifest.json", False),
        ("report of a search output", ["report", search_dir], "output of harness search", False),
        ("compare with one run", ["compare", run, "--out", out], "give two or more run directories", False),
        ("failures: unknown metric", ["failures", run, "--below", "beauty=1", "--into", suite], "--below 'beauty=1'",
         False),
        ("regress: unknown critic", ["regress", run, "--tolerance", "bogus=1"], "--tolerance 'bogus=1'", False),
        ("reference of a missing folder", ["reference", "build", root / "nowhere"], "no such folder of images", False),
        ("reference with unknown features", ["reference", "build", no_yaml, "--features", "x"], "--features 'x'",
         False),
        ("ablate without a sweep", ["ablate", suite, "--set", "search.population=4", "--out", out],
         "needs a swept field", False),
        ("suite.yaml that is a folder", ["run", kinds["folder_yaml"], "--out", out],
         "suite.yaml: a folder, not a suite.yaml file", False),
        ("suite.yaml that is a symlink loop", ["run", kinds["loop_yaml"], "--out", out], "a symbolic link that loops",
         False),
        ("captions that are a folder", ["run", kinds["folder_captions"], "--out", out],
         "captions.yaml: a folder, not a captions file", False),
        ("captions that are a FIFO", ["run", kinds["fifo_captions"], "--out", out], "a FIFO (named pipe)", False),
        ("--device gpu", ["run", suite, "--out", out, "--device", "gpu"], "--device: must be cpu, cuda", False),
        ("--models huge", ["run", suite, "--out", out, "--models", "huge"], "--models: the model profile must be one of default", False),
        ("--models and --set disagree", ["search", "a cat", "--models", "default", "--set", "models.profile=tiny",
                                         "--out", out], "--models default and --set models.profile=tiny disagree",
         False),
        ("an alias bomb under captions' tags", ["run", kinds["bomb_tags"], "--out", out],
         "expand it to 4,412,961,566 nodes, more than the 100,000", False),
        ("an alias bomb under a suite's description", ["run", kinds["bomb_description"], "--out", out],
         "aliases (&anchor / *alias) expand it", False),
        ("a 17 MB captions file", ["run", kinds["big_captions"], "--limit", "2", "--out", out],
         "17.0 MB, over the 16 MB a captions file may be", False),
        ("a caption of 100,001 characters", ["run", kinds["long_caption"], "--out", out],
         "has 100,001 characters, over the 100,000 a caption may have", False),
        ("power on a manifest alone", ["power", kinds["manifest_only"]], "no archive.parquet", False),
        ("leave-one-out with a sweep", ["ablate", suite, "--leave-one-out", "four_objective", "--set",
                                        "critics.image_real.temperature=0.5,1", "--out", out],
         "a swept value (KEY=V1,V2) does not apply", False),
        ("an NFE budget under one generation", ["run", multistep, "--out", out, "--set", "search.nfe=16"],
         "search.nfe=16 is smaller than one generation of best_of_n: population 4 x 8 step(s) = 32 NFE", False),
        ("a step count the scheduler cannot take", ["run", multistep, "--out", out, "--set", "generator.steps=2000"],
         "'generator.steps' must be in 1..1000 (the scheduler's training timesteps", False),
        ("an evolution schedule not increasing", ["run", multistep, "--out", out, "--methods",
                                                  evo("evo_order", "evolution_schedule: [0, 30, 20]")],
         "'evolution_schedule' must be strictly increasing, got [0, 30, 20]", False),
        ("an evolution schedule past the last step", ["run", multistep, "--out", out, "--methods",
                                                      evo("evo_past", "evolution_schedule: [0, 20, 50]")],
         "ends at step 50, past the last step of its schedule_steps=50", False),
        ("a population schedule of the wrong length", ["run", multistep, "--out", out, "--methods",
                                                       evo("evo_sizes", "population_schedule: [42, 26]")],
         "'population_schedule' has 2 entries; it needs 5", False),
        ("an evolution schedule that collapses at few steps", ["run", multistep, "--out", out, "--set",
                                                               "generator.steps=3"],
         "becomes [0, 1, 2, 2] at generator.steps=3: not increasing", False),
        ("evo_trajectory on a GAN", ["run", suite, "--out", out, "--methods", "evo_trajectory"],
         "needs models.generator=diffusion with generator.scheduler=ddim", False),
        ("budgets that are not numbers", ["ablate", multistep, "--budgets", "64,lots", "--out", out],
         "give whole numbers of function evaluations", False),
        ("a budget under one generation", ["ablate", multistep, "--budgets", "16,128", "--out", out],
         "search.nfe=16 is smaller than one generation", False),
        ("budgets beside search.nfe", ["ablate", multistep, "--budgets", "64", "--set", "search.nfe=64", "--out", out],
         "--set search.nfe does not apply with --budgets", False),
        ("diffusion: with an empty id", ["search", "a cat", "--models", "tiny", "--set", "models.generator=diffusion:",
                                         "--out", out], "the id after 'diffusion:' is empty", True),
        ("diffusion:FOLDER without model_index.json", ["search", "a cat", "--models", "tiny", "--set",
                                                      f"models.generator=diffusion:{no_yaml}", "--out", out],
         "has no model_index.json", True),
        # these load torch (device checks, weights in the caches)
        ("no CUDA", ["run", suite, "--out", out, "--device", "cuda"], "no CUDA device", True),
        ("no cuda:3", ["search", "a cat", "--models", "tiny", "--device", "cuda:3", "--out", out], "cuda:3", True),
        ("no mps", ["run", suite, "--out", out, "--device", "mps"], "mps", True),
        ("metrics on no CUDA", ["metrics", run, "--device", "cuda"], "no CUDA device", True),
        ("missing weights", ["run", suite, "--out", out, "--models", "default"], "model(s) missing", True),
        ("fetch offline", ["models", "fetch", "default"], "HF_HUB_OFFLINE is set", True),
        ("probe without weights", ["models", "check", "default", "--probe"], "8 model(s) missing", True),
        ("probe without weights names the detector", ["models", "check", "default", "--probe"],
         "judge geneval (facebook/mask2former-swin-small-coco-instance)", True),
        ("a diffusion pipeline not in the caches", ["run", suite, "--out", out, "--set",
                                                     "models.generator=diffusion:NOT/THERE"],
         "1 model(s) missing", True),
        ("the probe names SD-Turbo", ["models", "check", "default", "--probe", "--set", "models.generator=diffusion"],
         "generator (diffusion:stabilityai/sd-turbo)", True),
        ("reference of other features", ["run", suite, "--out", out, "--set", f"metrics.reference={root / 'clip.npz'}"],
         "holds features of clip:", True),
        ("torn archive to metrics", ["metrics", torn], "archive.parquet is not a readable Parquet file", True),
        ("torn archive to regress", ["regress", torn], "archive.parquet is not a readable Parquet file", True),
        ("torn population PNG to metrics", ["metrics", torn_png], "0001.png is not a readable image", True),
        ("a torn photo in a reference folder", ["reference", "build", photos_torn, "--features", "tiny", "--out",
                                                root / "torn.npz"], "coffee.jpg is not a readable image", True),
        ("a population that cannot fit in memory", ["run", suite, "--out", out, "--set",
                                                    "search.population=1000000000"], "GiB of memory", True),
        ("a StyleGAN2 pickle that is a folder", ["run", suite, "--out", out, "--set",
                                                 f"models.generator=stylegan2_ada:{sg2_dir}"], "is a folder, not a file",
         True),
        ("HARNESS_CACHE is a file: run", ["run", suite, "--out", out, "--env", f"HARNESS_CACHE={a_file}"],
         "is a file, not a folder", True),
        ("HARNESS_CACHE is a file: search", ["search", "a cat", "--models", "tiny", "--out", out,
                                             "--env", f"HARNESS_CACHE={a_file}"], "is a file, not a folder", True),
        ("HARNESS_CACHE read-only: models check", ["models", "check", "tiny", "--env", "HARNESS_CACHE=/sys/harness-x"],
         "is not writable", True),
    ]


def check_answer(name, message, code, stderr, seconds, limit):
    """exit 2, one line naming the problem (only a list of missing models may follow, one indented line per
    model), no traceback, in seconds: never a hub's minute of retries."""
    lines = stderr.strip().splitlines()
    assert code == 2, (name, code, stderr[-2000:])
    assert lines[0].startswith("error: ") and message in lines[0], (name, stderr)
    assert all(line.startswith("  ") for line in lines[1:]) and (len(lines) == 1 or "missing" in lines[0]), \
        (name, stderr)
    assert "Traceback" not in stderr and seconds < limit, (name, seconds)


def check_nothing_written(world, before):
    root, _, run, search_dir = world
    assert not (root / "fresh").exists() and not list(root.rglob(".lock"))
    assert {d: tree_digest(d) for d in (run, search_dir)} == before
    assert (root / "paper" / "report.md").read_text() == "draft\n" and len(list((root / "paper").iterdir())) == 1


def check_cases(world, table):
    """Every case through the installed console script, as a user types it."""
    root, _, run, search_dir = world
    before = {d: tree_digest(d) for d in (run, search_dir)}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def answer(argv):
        argv = [str(a) for a in argv]
        extra = {}
        if "--env" in argv:  # an environment variable for this case, not an option
            i = argv.index("--env")
            key, _, value = argv[i + 1].partition("=")
            extra[key] = value
            argv = argv[:i] + argv[i + 2:]
        start = time.time()
        proc = subprocess.run([HARNESS, *argv], capture_output=True, text=True, timeout=60, env={**env, **extra},
                              cwd=root)
        return proc, time.time() - start

    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time: each is a short-lived process
        answers = list(pool.map(answer, [argv for _, argv, _, _ in table]))
    for (name, _, message, needs_models), (proc, seconds) in zip(table, answers):
        # one that loads torch and the tiny models: under 30 s on a busy 2-core machine (CI runs two test
        # sessions side by side)
        check_answer(name, message, proc.returncode, proc.stderr, seconds, 30 if needs_models else 15)
    check_nothing_written(world, before)


def test_the_inputs_that_need_no_model_are_one_line_exit_2_without_importing_torch(world):
    """Every case that needs no model, answered in one process (the console script's main, stderr captured per
    case): exit 2, one line, nothing written, and torch never imported."""
    root, _, run, search_dir = world
    before = {d: tree_digest(d) for d in (run, search_dir)}
    table = [case for case in cases(world) if not case[3]]
    assert len(table) >= 40
    result = answers_in_one_process([argv for _, argv, _, _ in table], cwd=root)
    for (name, _, message, _), (code, stderr, seconds) in zip(table, result["answers"]):
        check_answer(name, message, code, stderr, seconds, 15)
    assert result["torch"] is False
    check_nothing_written(world, before)


def test_every_bad_input_through_the_console_script_is_one_line_exit_2_and_nothing_is_written(world):
    """The bad-input table as a user meets it: each case that needs no model through the installed console script."""
    table = [case for case in cases(world) if not case[3]]
    assert len(table) >= 40
    check_cases(world, table)


@pytest.mark.slow
def test_bad_inputs_that_load_torch_are_one_line_exit_2_too(world):
    check_cases(world, [case for case in cases(world) if case[3]])


def test_usage_help_and_version(world):
    from harness import __version__

    for argv in ([], ["models"]):
        proc = subprocess.run([HARNESS, *argv], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "Usage:" in proc.stdout and not proc.stderr, argv
    proc = subprocess.run([HARNESS, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"harness {__version__}"
    for command in ("run", "search", "report", "metrics", "compare", "ablate", "regress", "failures", "config",
                    "power"):
        text = subprocess.run([HARNESS, command, "--help"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "COLUMNS": "200"}).stdout
        assert "Example: harness " in text and "Usage:" in text and not re.search(r"<(list|bool|Path|str|int)", text), \
            command
    run_help = subprocess.run([HARNESS, "run", "--help"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "COLUMNS": "200"}).stdout
    assert ".[ray]" in run_help and "--set KEY=VALUE" in run_help and "repeatable" in run_help
    assert "harness config" in run_help


def test_files_of_a_run_follow_the_umask(world):
    _, _, run, search_dir = world
    for folder in (run, search_dir):
        for path in folder.rglob("*"):
            if path.is_file() and path.name != ".lock":
                assert path.stat().st_mode & 0o044 == 0o044, path  # group- and world-readable under umask 022


@pytest.mark.slow
def test_the_probe_on_tiny_models_runs_and_says_it_judged_nothing():
    proc = subprocess.run([HARNESS, "models", "check", "tiny", "--probe"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "no semantic check: random weights" in proc.stdout and "FAIL" not in proc.stdout
