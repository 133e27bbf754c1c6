"""Image and video reading and writing, atomic file output, and downloading."""
