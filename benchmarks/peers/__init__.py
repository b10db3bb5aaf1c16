"""The peers ours is compared with: what a user would use instead."""

__all__: list[str] = []
