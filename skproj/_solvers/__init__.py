"""Solvers of the spred estimators: the spred problem and its L-BFGS / Adam drivers
(:mod:`skproj._solvers._spred`) and the active-set polishing (:mod:`skproj._solvers._polish`)."""
