"""After the run: the pipeline (run -> metrics -> report), ablations, comparisons, regression checks."""
