"""The specification: a callable, a class_path/init_args dict or YAML made a scheduler, horizons bound to the run."""
