"""Who steps a scheduler and how often: Lightning's stepping rules counted for a run; configure_optimizers' rows."""
