"""`framepred prepare`: turn raw videos, frame folders and public data sets into the canonical frame tree."""
