"""The geneval judge: GenEval's rules on constructed detections with known answers (thresholds, the 16-object
cap, counting, exclusion, colour, every relative position and its margin), requirements checked before compute,
the shipped prompt sets, and the judge through harness metrics on the tiny detector."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harness.config.requirements import check_requirements, task_of
from harness.errors import ConfigError
from harness.judges.geneval_rules import Detection, Settings, evaluate, relative_position, select
from helpers import REPO


def det(label, score=0.95, box=(0, 0, 10, 10)):
    return Detection(label, score, box)


def judge(detections, requires, colours=None, settings=Settings()):
    """evaluate() with a colour oracle: each detection's colour given by its position in `colours[class]`."""
    def colour_of(found, name):
        return [colours[name][i] for i in range(len(found))]
    requires = check_requirements(requires, "test")
    return evaluate(select(detections, requires, settings), requires, colour_of, settings)


ONE_CAT = {"include": [{"class": "cat", "count": 1}]}


@pytest.mark.parametrize("score, correct", [(0.29, False), (0.3, False), (0.31, True), (0.95, True)])
def test_the_detection_threshold_is_0_3(score, correct):
    assert judge([det("cat", score)], ONE_CAT)[0] is correct


@pytest.mark.parametrize("score, correct", [(0.5, False), (0.9, False), (0.91, True)])
def test_counting_tasks_count_only_detections_above_0_9(score, correct):
    requires = {"include": [{"class": "clock", "count": 2}], "exclude": [{"class": "clock", "count": 3}]}
    assert task_of(check_requirements(requires, "t")) == "counting"
    assert judge([det("clock", 0.99), det("clock", score)], requires)[0] is correct


@pytest.mark.parametrize("found, correct", [(1, False), (2, True), (3, False)])
def test_counting_exactly_two(found, correct):
    requires = {"include": [{"class": "clock", "count": 2}], "exclude": [{"class": "clock", "count": 3}]}
    ok, reasons, _ = judge([det("clock", 0.95, (i * 20, 0, i * 20 + 10, 10)) for i in range(found)], requires)
    assert ok is correct and (correct or reasons)


def test_at_most_16_objects_per_class_are_kept():
    many = [det("person", 0.5 + i / 100) for i in range(20)]
    assert len(select(many, ONE_CAT)["person"]) == 16
    assert min(d.score for d in select(many, ONE_CAT)["person"]) == pytest.approx(0.54)  # the most confident
    requires = {"tag": "single_object", "include": [{"class": "person", "count": 1}],
                "exclude": [{"class": "person", "count": 17}]}
    assert judge(many, requires)[0] is True  # the cap hides the 17th and later


def test_two_objects_need_both_and_presence_ignores_the_rest():
    requires = {"include": [{"class": "cat", "count": 1}, {"class": "dog", "count": 1}]}
    assert judge([det("cat"), det("dog")], requires)[:1] == (True,)
    ok, reasons, present = judge([det("cat")], requires)
    assert not ok and not present and reasons == ["expected dog>=1, found 0"]


def test_exclusion_fails_the_image():
    requires = {"include": [{"class": "cat", "count": 1}], "exclude": [{"class": "dog", "count": 1}]}
    ok, reasons, present = judge([det("cat"), det("dog", 0.95)], requires)
    assert not ok and present and reasons == ["expected dog<1, found 1"]
    assert judge([det("cat"), det("dog", 0.5)], requires)[0] is True  # an exclude clause is a counting task: 0.9


@pytest.mark.parametrize("colour, correct", [("red", True), ("blue", False)])
def test_colour(colour, correct):
    requires = {"include": [{"class": "car", "count": 1, "color": "red"}]}
    ok, reasons, present = judge([det("car")], requires, {"car": [colour]})
    assert ok is correct and present
    assert correct or reasons[0].startswith("expected red car>=1, found 0 red; 1 blue")


def test_colour_counts_only_the_most_confident_objects():
    requires = {"include": [{"class": "apple", "count": 2, "color": "green"}]}
    apples = [det("apple", 0.9), det("apple", 0.8), det("apple", 0.7)]
    assert judge(apples, requires, {"apple": ["green", "green", "red"]})[0] is True
    assert judge(apples, requires, {"apple": ["green", "red", "green"]})[0] is False


BOOK = (40, 40, 60, 60)  # the target, centre (50, 50), 20 x 20


@pytest.mark.parametrize("relation, box", [("left of", (0, 40, 20, 60)), ("right of", (80, 40, 100, 60)),
                                           ("above", (40, 0, 60, 20)), ("below", (40, 80, 60, 100))])
def test_every_relative_position(relation, box):
    requires = {"include": [{"class": "book", "count": 1}, {"class": "cup", "count": 1, "position": [relation, 0]}]}
    assert judge([det("book", box=BOOK), det("cup", box=box)], requires)[0] is True
    others = {"left of", "right of", "above", "below"} - {relation}
    assert relative_position(det("cup", box=box), det("book", box=BOOK)) == {relation}
    wrong = {"include": [requires["include"][0], {"class": "cup", "count": 1, "position": [sorted(others)[0], 0]}]}
    assert judge([det("book", box=BOOK), det("cup", box=box)], wrong)[0] is False


@pytest.mark.parametrize("dx, expected", [(3.9, set()), (7.9, set()), (8.1, {"right of"}), (30.0, {"right of"})])
def test_the_position_margin(dx, expected):
    """Two 20 x 20 boxes: the offset is shrunk by 0.1 x (20 + 20) = 4 pixels, and what is left must be more than
    half the offset (GenEval divides the shrunk offset by the raw one), so a relation needs more than 8 pixels."""
    a = det("cup", box=(40 + dx, 40, 60 + dx, 60))
    assert relative_position(a, det("book", box=BOOK), margin=0.1) == expected


def test_a_diagonal_offset_gives_both_relations_and_a_failed_target_no_relation():
    assert relative_position(det("cup", box=(0, 0, 20, 20)), det("book", box=BOOK)) == {"left of", "above"}
    requires = {"include": [{"class": "book", "count": 1}, {"class": "cup", "count": 1, "position": ["left of", 0]}]}
    ok, reasons, _ = judge([det("cup", box=(0, 40, 20, 60))], requires)
    assert not ok and "no target for cup to be left of" in reasons


def test_tasks_are_inferred_from_the_clauses():
    cases = {"single_object": ONE_CAT,
             "two_object": {"include": [{"class": "cat"}, {"class": "dog"}]},
             "colors": {"include": [{"class": "cat", "color": "red"}]},
             "color_attr": {"include": [{"class": "cat", "color": "red"}, {"class": "dog", "color": "blue"}]},
             "position": {"include": [{"class": "cat"}, {"class": "dog", "position": ["above", 0]}]},
             "counting": {"include": [{"class": "cat", "count": 3}]}}
    for task, requires in cases.items():
        assert task_of(check_requirements(requires, "t")) == task


@pytest.mark.parametrize("requires, message", [
    ({"include": [{"class": "unicorn"}]}, "not a class the detector knows"),
    ({"include": [{"class": "cat", "count": 0}]}, "count 0 must be a whole number >= 1"),
    ({"include": [{"class": "cat", "count": "two"}]}, "must be a whole number"),
    ({"include": [{"class": "cat", "color": "teal"}]}, "color 'teal'"),
    ({"include": [{"class": "cat"}, {"class": "dog", "position": ["behind", 0]}]}, "position"),
    ({"include": [{"class": "cat", "position": ["above", 0]}]}, "an earlier include clause"),
    ({"exclude": [{"class": "cat", "color": "red"}]}, "unknown key 'color'"),
])
def test_bad_requirements_are_refused(requires, message):
    with pytest.raises(ConfigError, match=message):
        check_requirements(requires, "caption 'x'")


def test_the_shipped_prompt_sets():
    from harness.suites import load_suite

    geneval = load_suite(REPO / "suites" / "geneval")
    assert len(geneval.captions) == 553 and all(c.requirements for c in geneval.captions)
    assert (REPO / "suites" / "geneval" / "LICENSE").read_text().startswith("MIT License")
    assert "af4902f" in (REPO / "suites" / "geneval" / "SOURCE.md").read_text()
    mini = load_suite(REPO / "suites" / "geneval_mini")
    tasks = [task_of(c.requirements) for c in mini.captions]
    assert len(tasks) == 36 and all(tasks.count(t) == 6 for t in set(tasks)) and len(set(tasks)) == 6
    parti = load_suite(REPO / "suites" / "parti")
    assert len(parti.captions) == 1632 and (REPO / "suites" / "parti" / "LICENSE").is_file()
    failed = load_suite(REPO / "suites" / "failed_captions")
    bus = next(c for c in failed.captions if c.id == "bus-street")
    assert bus.requirements["include"] == [{"class": "bus", "count": 1}]


def test_the_judge_alone_through_harness_metrics(smoke_run, tmp_path):
    """`harness metrics RUN --set metrics.evaluators=[geneval]`: per task accuracy, overall score, correct
    prompts and object presence with N; captions without requirements not applicable. With the threshold at 0
    the tiny detector's objects pass, so the rules run on real detections."""
    from harness.cli.main import main

    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)
    assert main(["metrics", str(out), "--set", "metrics.evaluators=[geneval]", "--set",
                 "metrics.geneval.threshold=0.0"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert list(m["evaluators"]) == ["geneval"]
    g = m["geneval"]
    assert g["captions_with_requirements"] == 2 and g["not_applicable"] == 1
    four = g["methods"]["four_objective"]
    assert set(four["tasks"]) == {"single_object", "two_object"}
    assert four["overall"]["captions"] == 2 and 0 <= four["overall"]["value"] <= 1
    assert {"correct_prompts", "objects_present", "failing"} <= set(four)
    assert 0 <= four["objects_present"]["value"] <= 1 and four["objects_present"]["captions"] == 2
    assert "## GenEval-style object correctness" in (out / "report.md").read_text() or \
        main(["report", str(out)]) == 0
    values = [r["geneval"] for r in m["per_job"]]
    assert sum(np.isnan(v) if v is not None else True for v in values) == 4  # skyline-sunset: not applicable


@pytest.mark.slow
def test_geneval_mini_runs_offline_on_the_tiny_models(tmp_path):
    from harness.cli.main import main

    out = tmp_path / "mini"
    assert main(["run", str(REPO / "suites" / "geneval_mini"), "--models", "tiny", "--out", str(out),
                 "--methods", "clip_single,four_objective", "--set", "metrics.geneval.threshold=0.01"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    g = m["geneval"]
    assert g["captions_with_requirements"] == 36 and g["not_applicable"] == 0
    assert set(g["methods"]["four_objective"]["tasks"]) == {"single_object", "two_object", "counting", "colors",
                                                            "position", "color_attr"}
    assert g["methods"]["four_objective"]["overall"]["n"] == 36
    assert "## GenEval-style object correctness" in (out / "report.md").read_text()


def test_equal_scores_keep_genevals_order_the_later_detection_first():
    """GenEval orders a class's detections by np.argsort(scores)[::-1]: of two equal scores the later comes first,
    and that one is the detection checked for colour or position."""
    first, second, third = det("cup", 0.5, (0, 0, 10, 10)), det("cup", 0.5, (50, 0, 60, 10)), det("cup", 0.9, (0, 0, 5, 5))
    picked = select([first, second, third], {"include": [{"class": "cup", "count": 1}]})["cup"]
    assert picked == [third, second, first]
    scores = np.array([d.score for d in (first, second, third)])
    assert [[first, second, third][i] for i in np.argsort(scores)[::-1]] == picked


def test_detections_of_labels_geneval_does_not_know_are_counted_not_silently_dropped():
    import torch

    from harness.judges.geneval import GenevalJudge
    from harness.suites.captions import Caption

    class Detections:  # what a detector with one non-COCO label in its head returns for one image
        def detect(self, images):
            return [[("cup", 0.9, (0.0, 0.0, 8.0, 8.0), None), (None, 0.95, (0.0, 0.0, 4.0, 4.0), None)]]

    judge = GenevalJudge(lambda: Detections(), lambda: None, "test")
    caption = Caption("c", "a cup.", requirements={"include": [{"class": "cup", "count": 1}]})
    detail = json.loads(judge.details(torch.zeros(1, 3, 8, 8), [caption])[0])
    assert detail["correct"] is True and detail["unknown_labels"] == 1


def test_genevals_image_weighted_overall_beside_the_caption_weighted_one():
    from types import SimpleNamespace

    import pandas as pd

    from harness.metrics import evidence
    from harness.metrics.geneval import overall, overall_images

    cfg = SimpleNamespace(bootstrap=200, confidence=0.95)
    rows = [("a", s, "single_object", float(s < 2)) for s in range(4)] + \
           [("b", s, "single_object", 1.0) for s in range(4)] + [("c", s, "counting", float(s == 0)) for s in range(4)]
    balanced = pd.DataFrame(rows, columns=["caption_id", "seed", "task", "correct"])
    design = evidence.Design.of(balanced)
    assert overall_images(balanced)["value"] == pytest.approx(overall(balanced, design, cfg)["value"])
    unbalanced = balanced[~((balanced["caption_id"] == "b") & (balanced["seed"] > 0))]  # b keeps one seed
    design = evidence.Design.of(unbalanced)
    by_caption = overall(unbalanced, design, cfg)["value"]  # single_object: mean(0.5, 1.0); counting 0.25
    by_image = overall_images(unbalanced)["value"]  # single_object: 3 of 5 images; counting 0.25
    assert by_caption == pytest.approx((0.75 + 0.25) / 2) and by_image == pytest.approx((0.6 + 0.25) / 2)
