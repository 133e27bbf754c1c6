"""The model-agnostic training engine: loop, devices, precision, distribution, checkpoints, logging."""
