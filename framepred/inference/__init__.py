"""Inference: the Predictor (predict, streaming rollout, padding, colour order) and the jobs behind
the predict, rollout and convert commands."""

from framepred.inference.predictor import Predictor

__all__ = ["Predictor"]
