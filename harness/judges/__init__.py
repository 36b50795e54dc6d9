"""The held-out judges: the panel beside CLIPScore (PickScore, HPSv2, GenEval with its detector, rules and colour
step, and judge plugins), between the models they load and the metrics that read their scores.

  panel.py          the registry (JudgeSpec, JUDGES, judge plugins) and the CLIP-family judges
  geneval.py        GenEval's judge: detections -> per-requirement verdicts
  geneval_rules.py  GenEval's rules (counting, colours, positions) as its authors wrote them
  detector.py       the instance-segmentation detector GenEval reads
  weights.py        are the weights of a run's models and judges in the local caches?
"""
