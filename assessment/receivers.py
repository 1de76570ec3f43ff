from .services import marking_return_to_pool


def return_marking_to_pool(sender, *, user, hub_id: int | None, **kwargs) -> None:
    """Someone left a hub (or was deactivated): their unmarked scripts go back to the pool, in the
    same transaction as the change that caused it."""
    marking_return_to_pool(user=user, hub_id=hub_id)
