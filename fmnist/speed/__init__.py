"""The speed tools: how fast the pipeline trains on this machine, against the compute floor and against a
PyTorch eager peer. They train through the pipeline's own `fmnist.training.train`; the pipeline never imports
them.

- bench.py         `make bench`: seconds per epoch, the FLOP floor, the whole pipeline's wall time and memory
- peers.py         the PyTorch eager peer (runs in its own environment, .bench-venv)
- architecture.py  the four networks as plain data, shared by the peer and checked against the Keras models
- op_profile.py    where one epoch's time goes, op by op (TensorFlow's profiler)
"""
