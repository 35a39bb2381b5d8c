"""bitseg benchmarks: peers on the same data and questions (see README.md in this folder)."""
