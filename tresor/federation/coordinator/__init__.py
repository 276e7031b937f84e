"""The federation coordinator: queues signed request crates, receives and verifies bundles."""
