"""The lrmon command: YAML configs gathered into the shared review pipeline; LightningCLI's parser validates them."""
