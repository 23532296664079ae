"""Output: findings -> the versioned audit.json model and its renderings, and the remediation summary."""
