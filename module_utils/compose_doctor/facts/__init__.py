"""Facts: what a host shows, read-only -- Compose's model (and where each thing is written), Dockerfiles,
the Docker engine's runtime facts gathered in one batched pass."""
