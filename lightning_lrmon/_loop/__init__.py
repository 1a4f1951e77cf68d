"""``LoopMonitor``: the review, the sinks and the live checks of ``LRMonitor`` for a loop of one's own (Fabric, plain
PyTorch)."""
